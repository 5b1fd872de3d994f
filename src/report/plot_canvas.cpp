// plot_canvas.cpp — pixels, rectangles, lines and text on an RGB canvas, and
// the series palette. Clipping, not refusal, at the edges: see plot.h.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "lmask/plot.h"

namespace lmask {

Rgb series_colour(std::size_t i) {
  static const Rgb kPalette[] = {{0, 90, 200},   {230, 110, 0},  {0, 150, 70},    {200, 30, 40},
                                 {130, 70, 180}, {120, 80, 40},  {220, 80, 170},  {100, 100, 100},
                                 {160, 160, 0},  {0, 170, 190}};
  constexpr std::size_t kCount = sizeof kPalette / sizeof kPalette[0];
  if (i < kCount) return kPalette[i];
  // Beyond the palette: hues a golden angle apart never repeat and stay far
  // from their recent neighbours; saturation and value keep them readable on white.
  const double hue = std::fmod(double(i - kCount) * 137.507764, 360.0) / 60.0;
  const double s = 0.75, v = 0.8, c = v * s, x = c * (1 - std::fabs(std::fmod(hue, 2.0) - 1)), m = v - c;
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(hue)) {
    case 0: r = c, g = x; break;
    case 1: r = x, g = c; break;
    case 2: g = c, b = x; break;
    case 3: g = x, b = c; break;
    case 4: r = x, b = c; break;
    default: r = c, b = x; break;
  }
  auto byte = [m](double u) { return static_cast<std::uint8_t>(std::lround((u + m) * 255)); };
  return {byte(r), byte(g), byte(b)};
}

Canvas::Canvas(int width, int height, Rgb background) {
  if (width <= 0 || height <= 0 || double(width) * height > kMaxImagePixels)
    throw std::invalid_argument("plot: canvas size " + std::to_string(width) + "x" + std::to_string(height) +
                                " is empty or too large");
  img_ = ImageU8(width, height);
  fill_rect(0, 0, width, height, background);
}

void Canvas::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= img_.width || y >= img_.height) return;
  std::uint8_t* p = img_.pixel(x, y);
  p[0] = c.r, p[1] = c.g, p[2] = c.b;
}

void Canvas::fill_rect(int x0, int y0, int x1, int y1, Rgb c) {
  for (int y = std::max(y0, 0); y < std::min(y1, img_.height); ++y)
    for (int x = std::max(x0, 0); x < std::min(x1, img_.width); ++x) set(x, y, c);
}

void Canvas::outline_rect(int x0, int y0, int x1, int y1, Rgb c) {
  line(x0, y0, x1 - 1, y0, c);
  line(x0, y1 - 1, x1 - 1, y1 - 1, c);
  line(x0, y0, x0, y1 - 1, c);
  line(x1 - 1, y0, x1 - 1, y1 - 1, c);
}

void Canvas::line(int x0, int y0, int x1, int y1, Rgb c, int thickness, int dash) {
  if (thickness < 1) throw std::invalid_argument("plot: line thickness must be >= 1");
  // Bresenham over the longer axis; each step stamps a thickness-wide square.
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  const int lo = -(thickness - 1) / 2, hi = thickness / 2;
  int err = dx + dy;
  for (int step = 0;; ++step) {
    if (dash <= 0 || (step / dash) % 2 == 0) fill_rect(x0 + lo, y0 + lo, x0 + hi + 1, y0 + hi + 1, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
}

int Canvas::text(int x, int y, const std::string& s, Rgb c, int scale) {
  if (scale < 1) throw std::invalid_argument("plot: text scale must be >= 1");
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto& rows = glyph(s[i]);
    const int gx = x + static_cast<int>(i) * kGlyphAdvance * scale;
    for (int r = 0; r < kGlyphHeight; ++r)
      for (int col = 0; col < kGlyphWidth; ++col)
        if (rows[r] >> (kGlyphWidth - 1 - col) & 1)
          fill_rect(gx + col * scale, y + r * scale, gx + (col + 1) * scale, y + (r + 1) * scale, c);
  }
  return text_width(s, scale);
}

}  // namespace lmask
