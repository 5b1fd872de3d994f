// registry.cpp — the backends built into this binary, fastest first, and the
// thread setting they share. The only file with a build switch
// (LMASK_WITH_<BACKEND>); everything else calls make_backend().
#include <omp.h>

#include "backends.h"
#include "lmask/error.h"
#ifdef LMASK_WITH_CUDA
#include "cuda/cuda_device.h"
#endif

namespace lmask {

namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Backend> (*from_graph)(const Graph&);
  // Optional: why it cannot run in this process ("" when it can); nullptr:
  // it always can. A built backend that cannot run is not offered.
  std::string (*unavailable)() = nullptr;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> built = {
#ifdef LMASK_WITH_CUDA
      {"cuda", backends::make_cuda_from_graph, backends::cuda_unavailable_reason},
#endif
#ifdef LMASK_WITH_ONEDNN
      {"onednn", backends::make_onednn_from_graph, nullptr},
#endif
      {"native", backends::make_native_graph, nullptr},
  };
  return built;
}

std::string unavailable(const Entry& e) { return e.unavailable ? e.unavailable() : std::string(); }

// The entry called `name` ("" or "auto": the fastest that can run here), or
// an InputError saying why it cannot run, or what is built and, for a known
// backend left out of this build, how to build it.
const Entry& find(const std::string& name) {
  const auto& all = entries();
  if (name.empty() || name == "auto") {
    for (const Entry& e : all)
      if (unavailable(e).empty()) return e;
  }
  for (const Entry& e : all)
    if (name == e.name) {
      const std::string why = unavailable(e);
      if (!why.empty()) throw InputError("--backend " + name, why);
      return e;
    }
  std::string built;
  for (const Entry& e : all) built += std::string(built.empty() ? "" : ", ") + e.name;
  std::string hint;
  if (name == "onednn") hint = "; install libdnnl-dev and reconfigure with -DLMASK_ONEDNN=ON";
  if (name == "cuda") hint = "; reconfigure with -DLMASK_CUDA=ON (needs nvcc and cuBLAS), or `make cuda`";
  throw InputError("--backend " + name, "not built into this binary (built: " + built + ")" + hint);
}

}  // namespace

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
  for (const Entry& e : entries())
    if (unavailable(e).empty()) names.push_back(e.name);
  return names;
}

std::unique_ptr<Backend> make_backend(const std::string& name, const Graph& graph) {
  return find(name).from_graph(graph);
}

void set_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
}

int threads() { return omp_get_max_threads(); }

}  // namespace lmask
