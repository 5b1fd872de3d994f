// report_studies.h — what the report says about each study: its title and a
// paragraph on what was measured and what the paper found (after
// shared/spec/EXPERIMENTS.md). Internal to src/studies; the page itself is
// assembled in report_html.cpp.
#pragma once

#include <string>
#include <vector>

namespace lmask::report {

struct StudyText {
  std::string name;       // the file stem: <name>.csv, .png, .json
  std::string title;      // "S1 — segment removal"
  std::string paragraph;  // plain text (HTML-escaped when written)
};

// In the order the page shows them: removal, leakage, lime, linearity.
const std::vector<StudyText>& study_texts();

}  // namespace lmask::report
