// removal_report.cpp — S1's table (one row per method and fraction, counts
// and rates) and its picture (accuracy against the fraction removed).
#include <fmt/core.h>

#include "lmask/plot.h"
#include "lmask/study.h"
#include "study_common.h"

namespace lmask {

std::string removal_csv(const RemovalResult& r) {
  using study::rate;
  std::string csv = "method,fraction,removed_patches,patches,images,correct,top1,unchanged,unchanged_rate,kl_sum,mean_kl\n";
  for (const RemovalRow& row : r.rows)
    csv += fmt::format("{},{:g},{},{},{},{},{:.6f},{},{:.6f},{:.9g},{:.9g}\n", study::csv_field(row.method),
                       row.fraction, row.removed_patches, r.common.patches, row.images, row.correct,
                       rate(row.correct, row.images), row.unchanged, rate(row.unchanged, row.images), row.kl_sum.value(),
                       rate(row.kl_sum, row.images));
  return csv;
}

ImageU8 removal_chart(const RemovalResult& r, const std::string& dataset) {
  LineChart chart;
  chart.title = "S1 removal: top-1 accuracy, " + study::chart_subject(dataset, r.common.images);
  chart.x_label = fmt::format("fraction of patches removed ({} px patches, {} per image)", r.common.patch,
                              r.common.patches);
  chart.y_label = "top-1 accuracy";
  chart.y_min = 0, chart.y_max = 1;
  for (const RemovalRow& row : r.rows) {
    if (chart.series.empty() || chart.series.back().name != row.method) chart.series.push_back({row.method, {}, {}});
    chart.series.back().x.push_back(row.fraction);
    chart.series.back().y.push_back(study::rate(row.correct, row.images));
  }
  return draw_line_chart(chart);
}

}  // namespace lmask
