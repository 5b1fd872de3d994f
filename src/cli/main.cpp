// main.cpp — the lmask command line: one subcommand per file in src/cli/.
//
// Whatever goes wrong ends here as one line on stderr (exit_on.h): the
// README promises `lmask: error: WHERE: problem` and exit status 2 for bad
// input, and nothing a command does may end in a crash or a second line.
#include <CLI/CLI.hpp>

#include <malloc.h>

#include "commands.h"
#include "exit_on.h"

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
    if (e.get_exit_code() == 0) return app.exit(e);  // --help: the help on stdout
    return lmask::cli::exit_on_option_error(e);
  } catch (...) {
    return lmask::cli::exit_on_exception(std::current_exception());
  }
  return lmask::cli::exit_after_stdout();
}
