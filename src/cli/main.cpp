// main.cpp — the lmask command line: one subcommand per file in src/cli/.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <malloc.h>

#include <exception>

#include "commands.h"
#include "lmask/error.h"

int main(int argc, char** argv) {
  // Every forward allocates and frees activations of a few to tens of MB.
  // glibc serves those with fresh mmaps (or trims them off the heap), so each
  // forward paid page faults and kernel zeroing for all of them; keeping freed
  // memory in the heap lets the next forward reuse it. 32 MiB is the
  // largest mmap threshold glibc accepts on 64-bit systems.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"lmask: CNN inference with layer masking"};
  app.require_subcommand(1);
  lmask::cli::add_classify(app);
  lmask::cli::add_bench(app);
  lmask::cli::add_eval(app);
  lmask::cli::add_study(app);
  lmask::cli::add_explain(app);
  lmask::cli::add_report(app);
  lmask::cli::add_merge(app);  // issue 10: shards of `lmask study --shard i/n`
  lmask::cli::add_export(app);  // issue 8: `lmask export` (.lmw) and `lmask plan` (embedded memory)
  lmask::cli::add_plan(app);
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
