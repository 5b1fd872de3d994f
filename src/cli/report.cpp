// report.cpp — `lmask report DIR`: (re)writes DIR/index.html from the study
// results in DIR (lmask/report.h) and prints its path. The studies do this
// themselves when they finish; this command is for results copied or edited.
#include <memory>

#include <fmt/core.h>

#include "commands.h"
#include "lmask/report.h"

namespace lmask::cli {

void add_report(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("report", "Write DIR/index.html showing every study table and picture in DIR");
  cmd->add_option("dir", *dir, "a directory of study results (lmask study --out DIR)")->required();
  cmd->callback([dir] { fmt::print("{}\n", write_report(*dir)); });
}

}  // namespace lmask::cli
