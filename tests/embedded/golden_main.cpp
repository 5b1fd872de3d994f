// golden_main.cpp — the golden cases on the embedded build (lmask_embedded_test).
//
// Plain C++ with no test framework, so it runs wherever the embedded core
// runs (natively, or an aarch64 static binary under qemu-aarch64):
//   lmask_embedded_test MODEL.lmw CASES.lmw [--images N] [--kinds 0,1,...]
// MODEL.lmw: `lmask export` of ../shared/golden/resnet50_random.h5.
// CASES.lmw: tools/golden_cases_lmw.py of ../shared/golden/cases.h5 (input,
// mask, expected_clean, expected_layer, float32).
// Both files are mmap'ed and read in place. For each image: the clean
// forward against expected/clean, then the layer-masked forward for each
// chosen mask kind against expected/layer, max |diff| <= 1e-3 (the golden
// tolerance). It also checks the arena: no heap allocation inside a
// forward, nothing written outside the arena (guard bytes on both sides),
// and every slot filled to exactly its planned size (the plan is tight).
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
#include "lmask/lmw.h"

// Every operator new of the process is counted: a forward must make none.
static std::size_t g_allocations = 0;
void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace lmask;

constexpr float kTolerance = 1e-3f;  // ../shared/golden/README.md: logits
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

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.lmw CASES.lmw [--images N] [--kinds 0,1,...]\n", argv[0]);
    return 2;
  }
  int images = 3;
  std::vector<int> kinds = {0, 1, 2, 3, 4, 5};
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--images") images = std::clamp(std::atoi(argv[i + 1]), 1, 3);
    if (std::string(argv[i]) == "--kinds") {
      kinds.clear();
      for (const char* p = argv[i + 1]; *p; ++p)
        if (*p >= '0' && *p <= '5') kinds.push_back(*p - '0');
    }
  }
  const MappedFile model_file(argv[1]), cases_file(argv[2]);
  const ResNet net = ResNet::load(read_lmw_weights(model_file.data, model_file.size, argv[1]));
  const LmwFile cases = parse_lmw(cases_file.data, cases_file.size, argv[2]);
  const int h = 224, w = 224, classes = net.spec().num_classes;
  const std::vector<float> input = values(tensor(cases, "input", 3 * 3 * h * w));
  const std::vector<float> masks = values(tensor(cases, "mask", 3 * 6 * h * w));
  const std::vector<float> clean = values(tensor(cases, "expected_clean", 3 * std::size_t(classes)));
  const std::vector<float> layer = values(tensor(cases, "expected_layer", 3 * 6 * std::size_t(classes)));

  const ArenaPlan plan = plan_arena(net, 1, h, w);
  std::printf("plan: weights %zu bytes, arena %zu bytes, peak %zu bytes\n", plan.weight_bytes, plan.arena_bytes,
              plan.weight_bytes + plan.arena_bytes);
  unsigned char* block = static_cast<unsigned char*>(std::aligned_alloc(64, plan.arena_bytes + 2 * kGuardBytes));
  std::memset(block, kGuardByte, plan.arena_bytes + 2 * kGuardBytes);
  void* arena = block + kGuardBytes;
  std::vector<float> logits(classes);
  ArenaUse use;
  bool ok = true;

  auto check = [&](const std::string& what, const float* mask, const float* expected, const float* x) {
    const std::size_t before = g_allocations;
    const auto t0 = std::chrono::steady_clock::now();
    const bool ran = forward_arena(logits.data(), x, mask, net, plan, arena, &use);
    const double s = seconds_since(t0);
    const std::size_t allocations = g_allocations - before;
    float diff = 0.f;
    for (int c = 0; c < classes; ++c) {
      const float d = std::fabs(logits[c] - expected[c]);
      diff = std::isnan(d) ? INFINITY : std::max(diff, d);
    }
    const bool good = ran && allocations == 0 && diff <= kTolerance;
    std::printf("%-28s max |diff| %.2e  %.2f s  %zu allocations  %s\n", what.c_str(), diff, s, allocations,
                good ? "OK" : "NOT OK");
    ok = ok && good;
  };
  for (int i = 0; i < images; ++i) {
    const float* x = input.data() + std::size_t(i) * 3 * h * w;
    check("image " + std::to_string(i) + " clean", nullptr, clean.data() + std::size_t(i) * classes, x);
    for (int k : kinds)
      check("image " + std::to_string(i) + " layer " + kMaskKinds[k],
            masks.data() + (std::size_t(i) * 6 + k) * h * w, layer.data() + (std::size_t(i) * 6 + k) * classes, x);
  }

  // The arena: untouched guards, every slot used to exactly its planned size.
  for (std::size_t i = 0; i < kGuardBytes; ++i)
    if (block[i] != kGuardByte || block[kGuardBytes + plan.arena_bytes + i] != kGuardByte) {
      std::printf("arena: a write outside the arena  NOT OK\n");
      ok = false;
      break;
    }
  bool tight = true;
  for (int s = 0; s < kSlotCount; ++s)
    if (use.floats[s] != plan.floats[s]) {
      std::printf("arena: slot %s planned %zu floats, used %zu  NOT OK\n", arena_slot_name(s), plan.floats[s],
                  use.floats[s]);
      tight = false;
    }
  if (tight && !kinds.empty()) std::printf("arena: every slot used to exactly its planned size  OK\n");
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
