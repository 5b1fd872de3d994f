// linearity_report.cpp — S4's table (one row per method: sums and means of
// cosine similarity and relative L2 distance) and its picture (bars per method).
#include <fmt/core.h>

#include "lmask/error.h"
#include "lmask/plot.h"
#include "lmask/study.h"
#include "study_common.h"

namespace lmask {

namespace {

std::size_t compared(const LinearityRow& row) { return row.images - row.zero_feature_images; }

}  // namespace

std::string linearity_csv(const LinearityResult& r) {
  std::string csv = "method,images,zero_feature_images,cosine_sum,mean_cosine,rel_l2_sum,mean_rel_l2\n";
  for (const LinearityRow& row : r.rows)
    csv += fmt::format("{},{},{},{:.9g},{:.6f},{:.9g},{:.6f}\n", study::csv_field(row.method), row.images,
                       row.zero_feature_images, row.cosine_sum.value(), study::rate(row.cosine_sum, compared(row)),
                       row.rel_l2_sum.value(), study::rate(row.rel_l2_sum, compared(row)));
  return csv;
}

ImageU8 linearity_chart(const LinearityResult& r, const std::string& dataset) {
  BarChart chart;
  chart.title = fmt::format("S4 linearity: sum of {} one-patch features vs all {} shown, {}", kLinearityPatches,
                            kLinearityPatches, study::chart_subject(dataset, r.common.images));
  chart.y_label = "mean over images";
  chart.series = {"cosine(sum f_i, f_all)", "|sum f_i - f_all| / |f_all|"};
  for (const LinearityRow& row : r.rows) {
    // A mean over no images would be a made-up number; say so instead.
    if (compared(row) == 0)
      throw InputError("linearity", "method '" + row.method +
                                        "': the features of the four visible patches are zero for every image");
    chart.groups.push_back(row.method);
    chart.values.push_back({row.cosine_sum.value() / compared(row), row.rel_l2_sum.value() / compared(row)});
  }
  return draw_bar_chart(chart);
}

}  // namespace lmask
