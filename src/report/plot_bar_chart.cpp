// plot_bar_chart.cpp — grouped bars: one group per x label, one coloured bar
// per series within it, an optional dashed reference line (e.g. chance)
// named in the legend.
// Bars grow from 0, so negative values hang below the zero line.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "lmask/plot.h"
#include "plot_axes.h"

namespace lmask {

using namespace plot;

ImageU8 draw_bar_chart(const BarChart& chart) {
  const std::string what = "bar chart '" + chart.title + "'";
  if (chart.groups.empty() || chart.series.empty())
    throw std::invalid_argument("plot: " + what + ": needs at least one group and one series");
  if (chart.values.size() != chart.groups.size())
    throw std::invalid_argument("plot: " + what + ": " + std::to_string(chart.values.size()) + " rows of values for " +
                                std::to_string(chart.groups.size()) + " groups");
  std::vector<double> all;
  for (std::size_t g = 0; g < chart.groups.size(); ++g) {
    if (chart.values[g].size() != chart.series.size())
      throw std::invalid_argument("plot: " + what + ": group '" + chart.groups[g] + "' has " +
                                  std::to_string(chart.values[g].size()) + " values for " +
                                  std::to_string(chart.series.size()) + " series");
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      check_finite(chart.values[g][s], what, "value of '" + chart.groups[g] + "', '" + chart.series[s] + "'");
      all.push_back(chart.values[g][s]);
    }
  }
  const bool has_reference = !std::isnan(chart.reference);
  if (has_reference) {
    check_finite(chart.reference, what, "the reference line");
    all.push_back(chart.reference);
  }

  constexpr int kBar = 22, kGroupPad = 24;
  int group_w = static_cast<int>(chart.series.size()) * kBar + kGroupPad;
  for (const auto& g : chart.groups) group_w = std::max(group_w, text_width(g, kScale) + 16);

  PlotArea area;
  area.y = y_ticks(all, chart.y_min, chart.y_max, what);
  area.left = kMargin + y_labels_width(area.y) + 12;
  area.top = kTopSpace;
  area.right = area.left + std::max(320, static_cast<int>(chart.groups.size()) * group_w);
  const int height = 560;
  area.bottom = height - kMargin - kLineHeight - 16;
  const std::string reference_label = has_reference ? chart.reference_label : "";
  const int width = std::max(area.right + 24 + legend_width(chart.series, reference_label) + kMargin,
                             text_width(chart.title, kScale) + 2 * kMargin);
  group_w = (area.right - area.left) / static_cast<int>(chart.groups.size());

  Canvas canvas(width, height);
  draw_frame(canvas, area, chart.title, chart.y_label);
  const int zero = area.y_px(std::clamp(0.0, area.y.lo, area.y.hi));
  for (std::size_t g = 0; g < chart.groups.size(); ++g) {
    const int gx = area.left + static_cast<int>(g) * group_w;
    const int first = gx + (group_w - static_cast<int>(chart.series.size()) * kBar) / 2;
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      const int x0 = first + static_cast<int>(s) * kBar, py = area.y_px(chart.values[g][s]);
      canvas.fill_rect(x0 + 1, std::min(py, zero), x0 + kBar - 1, std::max(py, zero) + 1, series_colour(s));
    }
    canvas.text(gx + (group_w - text_width(chart.groups[g], kScale)) / 2, area.bottom + 10, chart.groups[g], kInk,
                kScale);
  }
  canvas.line(area.left, zero, area.right, zero, kInk);
  if (has_reference) {
    const int py = area.y_px(chart.reference);
    canvas.line(area.left, py, area.right, py, kMuted, 2, kReferenceDash);
  }
  draw_legend(canvas, area.right + 24, area.top, chart.series, /*line_swatches=*/false, reference_label);
  return canvas.image();
}

}  // namespace lmask
