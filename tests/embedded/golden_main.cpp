// golden_main.cpp — the golden cases on the embedded build (lmask_embedded_test).
//
// Plain C++ with no test framework, so it runs wherever the embedded core
// runs (natively, or an aarch64 static binary under qemu-aarch64):
//   lmask_embedded_test MODEL.lmw CASES.lmw [--images N] [--kinds 0,1,...] [--quantized]
// MODEL.lmw: `lmask export` of ../shared/golden/resnet50_random.h5, or of a
// zoo architecture's ../shared/golden/zoo/<arch>_random.h5.
// CASES.lmw: tools/golden_cases_lmw.py of ../shared/golden/cases.h5 (input,
// mask, expected_clean, expected_layer, float32), with --arch ARCH the
// expected logits of zoo/zoo_cases.h5 for that architecture.
// Both files are mmap'ed and read in place. For each image: the clean
// forward against expected/clean, then the layer-masked forward for each
// chosen mask kind against expected/layer, within the golden tolerance:
// max |diff| <= 1e-3 (../shared/golden/README.md), for the zoo
// 1e-3 * max(1, std of the expected row) (zoo/README.md). The forward runs
// the model's graph (lmask/resnet.h or lmask/zoo.h, by the file's arch) with
// its epilogues fused (graph_passes.h), as the native forwards do.
// --quantized, for a model exported with int8 weights: the golden logits
// are then out of reach, and the check is the root-mean-square difference
// against kQuantizedBound * max(1, std), which holds the file's scales and
// layout to being read right (weights in the wrong order or scale give
// differences of the order of the std); tests/test_embedded.cpp holds the
// arena to the native forward of the same int8 weights. It also checks the arena: no
// heap allocation inside a forward, nothing written outside the arena
// (guard bytes on both sides), and every buffer used to exactly its planned
// size (the plan is tight).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "lmask/embedded.h"
#include "lmask/error.h"
#include "lmask/graph_passes.h"
#include "lmask/lmw.h"
#include "lmask/resnet.h"
#include "lmask/tensor.h"
#include "lmask/zoo.h"

// Every heap allocation is counted: a forward must make none. The C
// functions reach these through the linker's --wrap (cmake/embedded.cmake),
// so a std::aligned_alloc in a Tensor counts as much as a vector's new.
static std::size_t g_allocations = 0;
extern "C" {
void* __real_malloc(std::size_t);
void* __real_calloc(std::size_t, std::size_t);
void* __real_realloc(void*, std::size_t);
void* __real_aligned_alloc(std::size_t, std::size_t);
int __real_posix_memalign(void**, std::size_t, std::size_t);
void* __real_memalign(std::size_t, std::size_t);
void* __wrap_malloc(std::size_t n) { return ++g_allocations, __real_malloc(n); }
void* __wrap_calloc(std::size_t k, std::size_t n) { return ++g_allocations, __real_calloc(k, n); }
void* __wrap_realloc(void* p, std::size_t n) { return ++g_allocations, __real_realloc(p, n); }
void* __wrap_aligned_alloc(std::size_t a, std::size_t n) { return ++g_allocations, __real_aligned_alloc(a, n); }
int __wrap_posix_memalign(void** p, std::size_t a, std::size_t n) {
  return ++g_allocations, __real_posix_memalign(p, a, n);
}
void* __wrap_memalign(std::size_t a, std::size_t n) { return ++g_allocations, __real_memalign(a, n); }
}

// operator new, plain and aligned, throwing and not: each is one allocation
// (counted here, not again in malloc, which they call unwrapped).
namespace {
void* counted_new(std::size_t size, std::size_t align) {
  ++g_allocations;
  size = size ? size : 1;
  return align <= alignof(std::max_align_t) ? __real_malloc(size)
                                            : __real_aligned_alloc(align, (size + align - 1) / align * align);
}
}  // namespace
void* operator new(std::size_t size) {
  if (void* p = counted_new(size, 0)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t a) {
  if (void* p = counted_new(size, std::size_t(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t a) { return operator new(size, a); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_new(size, 0); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_new(size, 0); }
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_new(size, std::size_t(a));
}
void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_new(size, std::size_t(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using namespace lmask;

constexpr float kTolerance = 1e-3f;  // ../shared/golden/README.md: logits; zoo/README.md: times max(1, std)
constexpr float kQuantizedBound = 0.25f;
constexpr std::size_t kGuardBytes = 4096;
constexpr unsigned char kGuardByte = 0xA5;
const char* const kMaskKinds[] = {"patch30", "patch70", "disk", "all_visible", "all_removed", "patch50_8px"};

// A read-only mmap of a whole file (the embedded core reads from a buffer).
struct MappedFile {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  explicit MappedFile(const char* path) {
    const int fd = ::open(path, O_RDONLY);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) throw InputError(path, "cannot open");
    size = static_cast<std::size_t>(st.st_size);
    void* p = size ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : nullptr;
    ::close(fd);
    if (p == MAP_FAILED) throw InputError(path, "cannot mmap");
    data = static_cast<const std::uint8_t*>(p);
  }
  ~MappedFile() {
    if (data) ::munmap(const_cast<std::uint8_t*>(data), size);
  }
};

const LmwTensor& tensor(const LmwFile& f, const std::string& name, std::size_t numel) {
  for (const LmwTensor& t : f.tensors)
    if (t.name == name) {
      if (t.numel != numel || t.dtype != LmwDType::f32)
        throw InputError("cases", "'" + name + "' has the wrong size or dtype");
      return t;
    }
  throw InputError("cases", "no tensor '" + name + "'");
}

std::vector<float> values(const LmwTensor& t) {
  std::vector<float> v(t.numel);
  decode_lmw_tensor(t, v.data());
  return v;
}

// "0 allocations" proves something only if the counter sees every way to
// allocate: each C function, both kinds of operator new, and a Tensor of the
// library (std::aligned_alloc inside lmask_embedded). The pointers are
// volatile so that the compiler cannot drop an allocation it sees freed.
bool counter_sees_every_allocation() {
  const std::size_t before = g_allocations;
  void* volatile p[8] = {};
  void* aligned = nullptr;
  p[0] = std::malloc(8);
  p[1] = std::calloc(1, 8);
  p[2] = std::realloc(nullptr, 8);
  p[3] = std::aligned_alloc(64, 64);
  if (::posix_memalign(&aligned, 64, 64) == 0) p[4] = aligned;
  p[5] = ::operator new(8);
  p[6] = ::operator new(8, std::align_val_t(64));
  for (int i = 0; i < 5; ++i) std::free(p[i]);
  ::operator delete(p[5]);
  ::operator delete(p[6], std::align_val_t(64));
  const std::size_t direct = g_allocations - before;
  { const Tensor t(Shape{1, 1, 8, 8}); }
  const bool ok = direct == 7 && g_allocations - before > 7;
  std::printf("allocation counter: %zu of 7 direct allocations, %zu for a Tensor  %s\n", direct,
              g_allocations - before - direct, ok ? "OK" : "NOT OK");
  return ok;
}

// The golden tolerance for one expected row of `count` logits: 1e-3, times
// max(1, the row's standard deviation) for the zoo's cases.
float tolerance(const float* expected, int count, bool relative, bool quantized) {
  if (!relative && !quantized) return kTolerance;
  double mean = 0.0, sq = 0.0;
  for (int i = 0; i < count; ++i) mean += expected[i];
  mean /= count;
  for (int i = 0; i < count; ++i) sq += (expected[i] - mean) * (expected[i] - mean);
  return (quantized ? kQuantizedBound : kTolerance) * static_cast<float>(std::max(1.0, std::sqrt(sq / count)));
}

// The model's graph, epilogues fused: a zoo architecture's builder, or the ResNet's.
Graph model_graph(const Weights& w) {
  if (is_zoo_arch(w.arch)) return fuse_epilogues(fold_batchnorms(zoo_graph(w)));
  return fuse_epilogues(ResNet::load(w).graph());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.lmw CASES.lmw [--images N] [--kinds 0,1,...] [--quantized]\n", argv[0]);
    return 2;
  }
  int images = 3;
  std::vector<int> kinds = {0, 1, 2, 3, 4, 5};
  bool quantized = false;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quantized") {
      quantized = true;
    } else if (arg == "--images" && i + 1 < argc) {
      images = std::clamp(std::atoi(argv[++i]), 1, 3);
    } else if (arg == "--kinds" && i + 1 < argc) {
      kinds.clear();
      for (const char* p = argv[++i]; *p; ++p)
        if (*p >= '0' && *p <= '5') kinds.push_back(*p - '0');
    }
  }
  if (!counter_sees_every_allocation()) return 1;
  const MappedFile model_file(argv[1]), cases_file(argv[2]);
  const Weights weights = read_lmw_weights(model_file.data, model_file.size, argv[1]);
  const LmwFile cases = parse_lmw(cases_file.data, cases_file.size, argv[2]);
  const bool zoo = cases.arch.rfind("golden-zoo", 0) == 0;  // tools/golden_cases_lmw.py --arch
  const int h = 224, w = 224, classes = weights.num_classes;
  const std::vector<float> input = values(tensor(cases, "input", 3 * 3 * h * w));
  const std::vector<float> masks = values(tensor(cases, "mask", 3 * 6 * h * w));
  const std::vector<float> clean = values(tensor(cases, "expected_clean", 3 * std::size_t(classes)));
  const std::vector<float> layer = values(tensor(cases, "expected_layer", 3 * 6 * std::size_t(classes)));

  const Graph graph = model_graph(weights);
  const ArenaPlan plan = plan_arena(graph, 1, h, w);
  std::printf("model: %s (%s), cases %s\n", argv[1], weights.arch.c_str(), cases.arch.c_str());
  std::printf("plan: weights %zu bytes, arena %zu bytes, peak %zu bytes\n", plan.weight_bytes, plan.arena_bytes,
              plan.weight_bytes + plan.arena_bytes);
  unsigned char* block = static_cast<unsigned char*>(std::aligned_alloc(64, plan.arena_bytes + 2 * kGuardBytes));
  std::memset(block, kGuardByte, plan.arena_bytes + 2 * kGuardBytes);
  void* arena = block + kGuardBytes;
  std::vector<float> logits(classes);
  ArenaUse use(plan);
  bool ok = true;

  auto check = [&](const std::string& what, const float* mask, const float* expected, const float* x) {
    const std::size_t before = g_allocations;
    const auto t0 = std::chrono::steady_clock::now();
    const bool ran = forward_arena(logits.data(), x, mask, graph, plan, arena, &use);
    const double s = seconds_since(t0);
    const std::size_t allocations = g_allocations - before;
    float diff = 0.f;
    double squares = 0.0;
    for (int c = 0; c < classes; ++c) {
      const float d = std::fabs(logits[c] - expected[c]);
      diff = std::isnan(d) ? INFINITY : std::max(diff, d);
      squares += double(d) * d;
    }
    const float rms = static_cast<float>(std::sqrt(squares / classes));
    const float tol = tolerance(expected, classes, zoo, quantized);
    const bool good = ran && allocations == 0 && (quantized ? rms <= tol : diff <= tol);
    std::printf("%-28s max |diff| %.2e, rms %.2e (%s %.2e)  %.2f s  %zu allocations  %s\n", what.c_str(), diff, rms,
                quantized ? "rms bound" : "tolerance", tol, s, allocations, good ? "OK" : "NOT OK");
    ok = ok && good;
  };
  for (int i = 0; i < images; ++i) {
    const float* x = input.data() + std::size_t(i) * 3 * h * w;
    check("image " + std::to_string(i) + " clean", nullptr, clean.data() + std::size_t(i) * classes, x);
    for (int k : kinds)
      check("image " + std::to_string(i) + " layer " + kMaskKinds[k],
            masks.data() + (std::size_t(i) * 6 + k) * h * w, layer.data() + (std::size_t(i) * 6 + k) * classes, x);
  }

  // The arena: untouched guards, every buffer used to exactly its planned size.
  for (std::size_t i = 0; i < kGuardBytes; ++i)
    if (block[i] != kGuardByte || block[kGuardBytes + plan.arena_bytes + i] != kGuardByte) {
      std::printf("arena: a write outside the arena  NOT OK\n");
      ok = false;
      break;
    }
  bool tight = true;
  for (std::size_t b = 0; b < plan.buffers.size(); ++b)
    if (use.floats[b] != plan.buffers[b].floats) {
      const ArenaBuffer& buffer = plan.buffers[b];
      std::printf("arena: the %s buffer of node %d ('%s') planned %zu floats, used %zu  NOT OK\n",
                  arena_buffer_kind(buffer.kind), buffer.node, graph.nodes[buffer.node].name.c_str(), buffer.floats,
                  use.floats[b]);
      tight = false;
    }
  if (tight && !kinds.empty())
    std::printf("arena: each of its %zu buffers used to exactly its planned size  OK\n", plan.buffers.size());
  ok = ok && (tight || kinds.empty());
  std::free(block);
  std::printf("%s\n", ok ? "embedded golden: OK" : "embedded golden: NOT OK");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lmask_embedded_test: error: %s\n", e.what());
    return 2;
  }
}
