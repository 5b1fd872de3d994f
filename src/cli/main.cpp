// main.cpp — the lmask command line: one subcommand per file in src/cli/.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <exception>

#include "commands.h"
#include "lmask/error.h"

int main(int argc, char** argv) {
  CLI::App app{"lmask: CNN inference with layer masking"};
  app.require_subcommand(1);
  lmask::cli::add_classify(app);
  lmask::cli::add_bench(app);
  lmask::cli::add_eval(app);
  lmask::cli::add_study(app);
  lmask::cli::add_explain(app);
  lmask::cli::add_report(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const lmask::InputError& e) {
    fmt::print(stderr, "lmask: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "lmask: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
