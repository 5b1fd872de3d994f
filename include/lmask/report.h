// report.h — a results directory as one web page: DIR/index.html shows every
// study found in DIR (its table, rendered from the CSV, its picture, and its
// settings and timings from the JSON) with a paragraph on what was measured,
// then any other PNG pictures in DIR. Pictures are linked by relative path,
// so the directory can be moved or copied as a whole.
// Not here: running studies (study.h) or drawing their pictures (plot.h).
#pragma once

#include <string>
#include <vector>

namespace lmask {

// The page for `dir` as it is now (the files it lists must exist when read).
std::string report_html(const std::string& dir);
// Writes <dir>/index.html atomically and returns its path. InputError when
// dir is not a readable directory or the page cannot be written.
std::string write_report(const std::string& dir);

// The CSV text as an HTML table: first line the header, fields split at
// commas outside double quotes ("" inside quotes is a quote), every field
// HTML-escaped, numeric fields marked class="num".
std::string csv_to_html_table(const std::string& csv);
std::string html_escape(const std::string& text);

}  // namespace lmask
