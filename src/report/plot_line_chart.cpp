// plot_line_chart.cpp — lines over a numeric x axis, one colour per series,
// a marker on every point (so a one-point series still shows), legend at the right.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "lmask/plot.h"
#include "plot_axes.h"

namespace lmask {

using namespace plot;

ImageU8 draw_line_chart(const LineChart& chart) {
  const std::string what = "line chart '" + chart.title + "'";
  if (chart.series.empty()) throw std::invalid_argument("plot: " + what + ": no series to draw");
  std::vector<double> ys;
  std::vector<std::string> names;
  double x_lo = INFINITY, x_hi = -INFINITY;
  for (const LineSeries& s : chart.series) {
    if (s.x.empty() || s.x.size() != s.y.size())
      throw std::invalid_argument("plot: " + what + ": series '" + s.name + "' has " + std::to_string(s.x.size()) +
                                  " x and " + std::to_string(s.y.size()) + " y values");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      check_finite(s.x[i], what, "x of series '" + s.name + "'");
      check_finite(s.y[i], what, "y of series '" + s.name + "'");
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      ys.push_back(s.y[i]);
    }
    names.push_back(s.name);
  }
  const Ticks x = nice_ticks(x_lo, x_hi);

  PlotArea area;
  area.y = y_ticks(ys, chart.y_min, chart.y_max, what);
  area.left = kMargin + y_labels_width(area.y) + 12;
  area.top = kTopSpace;
  area.right = area.left + 640;
  const int height = 600;
  area.bottom = height - kMargin - 2 * kLineHeight - 24;
  const int width = std::max(area.right + 24 + legend_width(names) + kMargin,
                             text_width(chart.title, kScale) + 2 * kMargin);
  auto x_px = [&](double v) {
    return area.left + static_cast<int>(std::lround((v - x.lo) / (x.hi - x.lo) * (area.right - area.left)));
  };

  Canvas canvas(width, height);
  draw_frame(canvas, area, chart.title, chart.y_label);
  for (double v : x.values) {
    const int px = x_px(v);
    const std::string label = tick_label(v, x.step);
    canvas.line(px, area.bottom, px, area.bottom + 5, kInk);
    canvas.text(px - text_width(label, kScale) / 2, area.bottom + 10, label, kInk, kScale);
  }
  canvas.text((area.left + area.right - text_width(chart.x_label, kScale)) / 2, area.bottom + 20 + kLineHeight,
              chart.x_label, kMuted, kScale);

  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const LineSeries& s = chart.series[i];
    const Rgb c = series_colour(i);
    for (std::size_t k = 0; k < s.x.size(); ++k) {
      const int px = x_px(s.x[k]), py = area.y_px(s.y[k]);
      if (k > 0) canvas.line(x_px(s.x[k - 1]), area.y_px(s.y[k - 1]), px, py, c, 2);
      canvas.fill_rect(px - 3, py - 3, px + 4, py + 4, c);
    }
  }
  draw_legend(canvas, area.right + 24, area.top, names, /*line_swatches=*/true);
  return canvas.image();
}

}  // namespace lmask
