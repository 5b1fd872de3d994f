// export.cpp — `lmask export --weights W.h5 --out model.lmw [--dtype f32|f16|int8]`:
// converts an HDF5 weight file into the flat .lmw format the embedded build
// reads from memory (lmw.h, docs/lmw-format.md). The weights are read with
// every check load_weights makes, and must build the model their arch
// names (read back from the written bytes), so a file that exports also
// loads. The output is written atomically: complete or absent.
#include <memory>
#include <stdexcept>

#include <fmt/core.h>

#include "commands.h"
#include "lmask/atomic_file.h"
#include "lmask/error.h"
#include "lmask/lmw.h"
#include "lmask/model.h"

namespace lmask::cli {

void add_export(CLI::App& app) {
  struct Options {
    std::string weights, out, dtype = "f32";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("export", "Write an HDF5 weight file as a flat .lmw file for the embedded build");
  cmd->add_option("--weights", o->weights, "HDF5 weights (lmask layout)")->required();
  cmd->add_option("--out", o->out, "the .lmw file to write")->required();
  cmd->add_option("--dtype", o->dtype, "conv and fc weights as f32, f16 or int8 (per output channel); "
                                       "BatchNorm and biases stay f32")
      ->check(CLI::IsMember({"f32", "f16", "int8"}));
  cmd->callback([o] {
    const Weights w = load_weights(o->weights);
    const LmwDType dtype = o->dtype == "f16" ? LmwDType::f16 : o->dtype == "int8" ? LmwDType::int8 : LmwDType::f32;
    std::string bytes;
    try {
      bytes = write_lmw(w, dtype);
    } catch (const std::invalid_argument& e) {  // what .lmw cannot hold (a long arch, a name with a newline)
      throw InputError(o->weights, e.what());
    }
    // The bytes must read back and build their model before they are
    // written. (Not Model::from_weights(w): folding rewrites the shared tensors.)
    (void)Model::from_weights(
        read_lmw_weights(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), o->weights));
    write_text_atomically(o->out, bytes);
    fmt::print("{}: {} tensors, {} bytes ({})\n", o->out, w.params.size(), bytes.size(), o->dtype);
  });
}

}  // namespace lmask::cli
