// plot.h — a tiny PNG plotter for the studies' headline pictures.
//
// A Canvas (an ImageU8 with lines, rectangles and text in a built-in 5x7
// bitmap font with descenders) and two charts drawn on it: lines over a
// numeric x axis, and grouped bars. Write the result with write_png (image.h).
//
// Deliberately not a plotting library: no anti-aliasing, no rotated text, no
// log axes, no automatic label wrapping. Pixel drawing clips at the canvas
// edge, because shapes near the edge are normal; chart data that cannot be
// drawn faithfully (sizes that disagree, NaN/Inf, nothing to draw) is refused
// with std::invalid_argument saying what is wrong, never dropped silently.
// Characters outside printable ASCII are drawn as a hollow box, so they show.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "lmask/image.h"

namespace lmask {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

// Series colour i: ten hand-picked distinct colours, then hues spaced by the
// golden angle, so any number of series gets a colour.
Rgb series_colour(std::size_t i);

// The font: 5x7 glyphs (capitals, digits) on a 6-pixel advance, in a cell 9
// rows tall so that g, j, p, q, y descend below the baseline (row 6);
// a row's bit 4 is its leftmost pixel.
constexpr int kGlyphWidth = 5, kGlyphHeight = 9, kGlyphAdvance = 6;
const std::array<std::uint8_t, kGlyphHeight>& glyph(char c);
int text_width(const std::string& s, int scale);  // pixels, without trailing spacing

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});  // sizes > 0
  int width() const { return img_.width; }
  int height() const { return img_.height; }
  const ImageU8& image() const { return img_; }

  void set(int x, int y, Rgb c);  // outside the canvas: nothing
  // The rectangle [x0,x1) x [y0,y1), clipped.
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);
  void outline_rect(int x0, int y0, int x1, int y1, Rgb c);
  // From (x0,y0) to (x1,y1) inclusive, `thickness` pixels wide; dash > 0 draws
  // dash pixels on, dash pixels off.
  void line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1, int dash = 0);
  // Top-left corner at (x, y), each font pixel a scale x scale square (scale >= 1).
  // Returns the width drawn.
  int text(int x, int y, const std::string& s, Rgb c, int scale = 1);

 private:
  ImageU8 img_;
};

struct LineSeries {
  std::string name;
  std::vector<double> x, y;  // equal lengths, at least one point
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<LineSeries> series;  // one colour each, named in the legend
  // The y axis range; when y_max <= y_min it is taken from the data (with 0).
  double y_min = 0, y_max = 0;
};
ImageU8 draw_line_chart(const LineChart& chart);

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> groups;          // along the x axis
  std::vector<std::string> series;          // the bars of each group, in the legend
  std::vector<std::vector<double>> values;  // [group][series]
  double y_min = 0, y_max = 0;              // as LineChart
  // An optional dashed horizontal line, e.g. chance level, named in the
  // legend by reference_label; NaN: none.
  double reference = std::numeric_limits<double>::quiet_NaN();
  std::string reference_label;
};
ImageU8 draw_bar_chart(const BarChart& chart);

}  // namespace lmask
