// leakage_report.cpp — S2's table (one row per method and condition, counts
// and rates) and its picture (bars per method and condition, chance dashed).
#include <fmt/core.h>

#include "lmask/plot.h"
#include "lmask/study.h"
#include "study_common.h"

namespace lmask {

std::string leakage_csv(const LeakageResult& r) {
  std::string csv = "method,condition,images,correct,top1,chance\n";
  for (const LeakageRow& row : r.rows)
    csv += fmt::format("{},{},{},{},{:.6f},{:.6f}\n", study::csv_field(row.method), row.condition, row.images,
                       row.correct, study::rate(row.correct, row.images), 1.0 / r.common.classes);
  return csv;
}

ImageU8 leakage_chart(const LeakageResult& r, const std::string& dataset) {
  BarChart chart;
  chart.title = "S2 leakage: top-1 accuracy with the object's mask removed, " +
                study::chart_subject(dataset, r.common.images);
  chart.y_label = "top-1 accuracy";
  chart.y_min = 0, chart.y_max = 1;
  chart.series = {"object: hole on the object", "rolled: hole moved off it", "mask-alone: hole in a blank image"};
  const std::size_t nc = leakage_conditions().size();
  for (std::size_t i = 0; i < r.rows.size(); i += nc) {
    chart.groups.push_back(r.rows[i].method);
    chart.values.emplace_back();
    for (std::size_t k = 0; k < nc; ++k)
      chart.values.back().push_back(study::rate(r.rows[i + k].correct, r.rows[i + k].images));
  }
  chart.reference = 1.0 / r.common.classes;
  chart.reference_label = fmt::format("chance 1/{}", r.common.classes);
  return draw_bar_chart(chart);
}

}  // namespace lmask
