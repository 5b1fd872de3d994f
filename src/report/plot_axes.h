// plot_axes.h — what the line and bar charts share: the text scale, tick
// choice, the frame (title, y axis with grid and labels), the legend, and
// the checks that refuse data a chart cannot draw faithfully.
// Internal to src/report; the public interface is include/lmask/plot.h.
#pragma once

#include <string>
#include <vector>

#include "lmask/plot.h"

namespace lmask::plot {

constexpr int kScale = 2;    // every chart text: 10x14-pixel glyphs
constexpr int kMargin = 20;  // canvas edge to anything drawn
constexpr int kLineHeight = kGlyphHeight * kScale;  // a text cell, descenders included
constexpr int kCapHeight = 7 * kScale;               // digits and capitals: what to centre on
const Rgb kInk{0, 0, 0}, kGrid{225, 225, 225}, kMuted{90, 90, 90};

// "Nice" ticks (steps of 1, 2 or 5 x 10^k) covering [lo, hi]; lo and hi are
// widened to whole steps. A range with hi <= lo becomes [lo, lo + 1].
struct Ticks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;
};
Ticks nice_ticks(double lo, double hi, int target_count = 5);
std::string tick_label(double value, double step);  // as many decimals as the step needs

// The y range of a chart: [y_min, y_max] when given (y_max > y_min), else the
// data's range widened to include 0. Data outside a given range is refused.
Ticks y_ticks(const std::vector<double>& data, double y_min, double y_max, const std::string& chart);

// The rectangle the data is drawn in, and the mapping of y values into it.
struct PlotArea {
  int left = 0, top = 0, right = 0, bottom = 0;
  Ticks y;
  int y_px(double v) const;
};

// Width the y tick labels need to the left of the plot area.
int y_labels_width(const Ticks& y);
// Vertical space above the plot area: title and y label.
constexpr int kTopSpace = kMargin + 2 * kLineHeight + 30;

// Title centred on the top line, y label above the axis, horizontal grid
// lines with their labels, and the axis lines.
void draw_frame(Canvas& canvas, const PlotArea& area, const std::string& title, const std::string& y_label);

// A legend of coloured swatches (a short line or a square) with names,
// top-left corner at (x, y); a non-empty reference_label adds a last entry
// for the dashed reference line (kept off the plot, where it would hide data).
int legend_width(const std::vector<std::string>& names, const std::string& reference_label = "");
void draw_legend(Canvas& canvas, int x, int y, const std::vector<std::string>& names, bool line_swatches,
                 const std::string& reference_label = "");
constexpr int kReferenceDash = 8;  // pixels on, pixels off

// Throws std::invalid_argument("plot: <chart>: <what>") unless v is finite.
void check_finite(double v, const std::string& chart, const std::string& what);

}  // namespace lmask::plot
