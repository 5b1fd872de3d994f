// commands.h — each subcommand registers itself on the CLI11 app; its
// callback runs the command and throws InputError on bad input.
#pragma once

#include <CLI/CLI.hpp>

namespace lmask::cli {

void add_classify(CLI::App& app);
void add_bench(CLI::App& app);
void add_eval(CLI::App& app);
void add_study(CLI::App& app);
void add_explain(CLI::App& app);
void add_report(CLI::App& app);
void add_merge(CLI::App& app);
void add_export(CLI::App& app);  // issue 8: .lmw weights for the embedded build
void add_plan(CLI::App& app);    // issue 8: the embedded forward's memory plan

}  // namespace lmask::cli
