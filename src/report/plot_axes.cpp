// plot_axes.cpp — ticks, frame and legend shared by the charts (plot_axes.h).
#include "plot_axes.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/core.h>

namespace lmask::plot {

Ticks nice_ticks(double lo, double hi, int target_count) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / target_count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  Ticks t;
  t.step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  // The small slack keeps 0.30000000000000004 from growing an extra step.
  const long first = std::lround(std::floor(lo / t.step + 1e-9)), last = std::lround(std::ceil(hi / t.step - 1e-9));
  t.lo = first * t.step, t.hi = last * t.step;
  for (long k = first; k <= last; ++k) t.values.push_back(k * t.step);
  return t;
}

std::string tick_label(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  return fmt::format("{:.{}f}", value + 0.0, decimals);  // + 0.0: never "-0"
}

Ticks y_ticks(const std::vector<double>& data, double y_min, double y_max, const std::string& chart) {
  if (y_max > y_min) {
    for (double v : data)
      if (v < y_min || v > y_max)
        throw std::invalid_argument(fmt::format("plot: {}: value {} outside the fixed y range [{}, {}]", chart, v,
                                                y_min, y_max));
    return nice_ticks(y_min, y_max);
  }
  double lo = 0, hi = 0;
  for (double v : data) lo = std::min(lo, v), hi = std::max(hi, v);
  return nice_ticks(lo, hi);
}

int PlotArea::y_px(double v) const {
  return bottom - static_cast<int>(std::lround((v - y.lo) / (y.hi - y.lo) * (bottom - top)));
}

int y_labels_width(const Ticks& y) {
  int w = 0;
  for (double v : y.values) w = std::max(w, text_width(tick_label(v, y.step), kScale));
  return w;
}

void draw_frame(Canvas& canvas, const PlotArea& area, const std::string& title, const std::string& y_label) {
  canvas.text((canvas.width() - text_width(title, kScale)) / 2, kMargin, title, kInk, kScale);
  canvas.text(kMargin, kMargin + kLineHeight + 14, y_label, kMuted, kScale);
  for (double v : area.y.values) {
    const int py = area.y_px(v);
    canvas.line(area.left, py, area.right, py, kGrid);
    const std::string label = tick_label(v, area.y.step);
    canvas.line(area.left - 5, py, area.left, py, kInk);
    canvas.text(area.left - 10 - text_width(label, kScale), py - kCapHeight / 2, label, kInk, kScale);
  }
  canvas.line(area.left, area.top, area.left, area.bottom, kInk);
  canvas.line(area.left, area.y_px(std::clamp(0.0, area.y.lo, area.y.hi)), area.right,
              area.y_px(std::clamp(0.0, area.y.lo, area.y.hi)), kInk);
}

namespace {
constexpr int kSwatch = 24, kSwatchGap = 8, kLegendRow = kLineHeight + 10;
}

int legend_width(const std::vector<std::string>& names, const std::string& reference_label) {
  int w = text_width(reference_label, kScale);
  for (const auto& n : names) w = std::max(w, text_width(n, kScale));
  return kSwatch + kSwatchGap + w;
}

void draw_legend(Canvas& canvas, int x, int y, const std::vector<std::string>& names, bool line_swatches,
                 const std::string& reference_label) {
  for (std::size_t i = 0; i <= names.size(); ++i) {
    const int row = y + static_cast<int>(i) * kLegendRow, mid = row + kCapHeight / 2;
    if (i == names.size()) {
      if (reference_label.empty()) break;
      canvas.line(x, mid, x + kSwatch - 1, mid, kMuted, 2, kReferenceDash / 2);
      canvas.text(x + kSwatch + kSwatchGap, row, reference_label, kMuted, kScale);
      break;
    }
    const Rgb c = series_colour(i);
    if (line_swatches) {
      canvas.line(x, mid, x + kSwatch - 1, mid, c, 3);
      canvas.fill_rect(x + kSwatch / 2 - 3, mid - 3, x + kSwatch / 2 + 4, mid + 4, c);
    } else {
      canvas.fill_rect(x + 2, row, x + kSwatch - 2, row + kCapHeight, c);
    }
    canvas.text(x + kSwatch + kSwatchGap, row, names[i], kInk, kScale);
  }
}

void check_finite(double v, const std::string& chart, const std::string& what) {
  if (!std::isfinite(v)) throw std::invalid_argument(fmt::format("plot: {}: {} is {}", chart, what, v));
}

}  // namespace lmask::plot
