// main.cpp — the lmask command line: one subcommand per file in src/cli/.
//
// Whatever goes wrong ends here as one line on stderr (exit_on.h): the
// README promises `lmask: error: WHERE: problem` and exit status 2 for bad
// input, and nothing a command does may end in a crash or a second line.
#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_on.h"
#include "lmask/malloc_tuning.h"

int main(int argc, char** argv) {
  lmask::tune_malloc_for_forwards();  // freed activations reused, not mmapped afresh per forward
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
