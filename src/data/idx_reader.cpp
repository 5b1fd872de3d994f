// idx_reader.cpp — the MNIST "idx" format: big-endian header (0, 0, type,
// rank, then rank uint32 sizes) followed by the values. zlib's gz* functions
// read gzip-compressed and plain files alike.
#include <zlib.h>

#include <algorithm>
#include <memory>
#include <string>

#include "lmask/dataset.h"
#include "lmask/error.h"
#include "lmask/regular_file.h"

namespace lmask {

namespace {

constexpr int kTypeUnsignedByte = 0x08;
// Far above Fashion-MNIST's 47 MB; a header claiming more is corrupt, and is
// refused before anything is allocated for it (gzip makes a 1 GiB file of
// zeros 1 MB small, so the file's size proves nothing).
constexpr unsigned long long kMaxIdxValues = 1ull << 30;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Values are read this many at a time (see read_idx).
constexpr std::size_t kChunk = std::size_t(1) << 24;

// Reads exactly `size` bytes or throws, naming truncation or a gzip error.
// `before` and `total` place these bytes in a longer read, for the message.
void read_exact(gzFile f, void* out, std::size_t size, const std::string& path, const char* what,
                std::size_t before = 0, std::size_t total = 0) {
  std::size_t done = 0;
  auto* bytes = static_cast<unsigned char*>(out);
  while (done < size) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size - done, 1u << 30));
    const int got = gzread(f, bytes + done, chunk);
    // zlib's own messages repeat the path, so only its verdict is kept.
    if (got < 0) throw InputError(path, "corrupt gzip data");
    if (got == 0) {
      int code = Z_OK;
      gzerror(f, &code);
      throw InputError(path, std::string("truncated: the ") + what + " ends after " +
                                 std::to_string(before + done) + " of " + std::to_string(total ? total : size) +
                                 " bytes" +
                                 (code != Z_OK ? " (the gzip stream is cut off)" : ""));
    }
    done += static_cast<std::size_t>(got);
  }
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  // A regular file only (RegularFile): a FIFO would block, a device never end.
  RegularFile regular(path);
  GzFile f(gzdopen(regular.fd(), "rb"));
  if (!f) throw InputError(path, "cannot open (out of memory)");
  regular.release();  // gzclose closes it now
  unsigned char magic[4];
  read_exact(f.get(), magic, 4, path, "header");
  if (magic[0] != 0 || magic[1] != 0)
    throw InputError(path, "not an idx file (bad magic bytes)");
  if (magic[2] != kTypeUnsignedByte)
    throw InputError(path, "idx value type " + std::to_string(magic[2]) + " is not unsigned byte (8)");
  const int rank = magic[3];
  if (rank < 1 || rank > 4) throw InputError(path, "idx rank " + std::to_string(rank) + " is not 1..4");

  IdxArray out;
  unsigned long long count = 1;
  for (int d = 0; d < rank; ++d) {
    unsigned char be[4];
    read_exact(f.get(), be, 4, path, "header");
    const std::uint32_t size = (std::uint32_t(be[0]) << 24) | (std::uint32_t(be[1]) << 16) |
                               (std::uint32_t(be[2]) << 8) | std::uint32_t(be[3]);
    count *= size;
    if (count > kMaxIdxValues) throw InputError(path, "idx header claims more than 2^30 values");
    out.dims.push_back(size);
  }
  // In chunks, so that memory grows with the data actually there: found by
  // fuzzing, a 16-byte header claiming 2^30 values made the reader allocate
  // 1 GiB before finding the file truncated.
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min<std::size_t>(count - done, kChunk);
    out.values.resize(done + n);
    read_exact(f.get(), out.values.data() + done, n, path, "data", done, count);
    done += n;
  }
  unsigned char extra;
  if (gzread(f.get(), &extra, 1) != 0)
    throw InputError(path, "more data than the idx header says");
  return out;
}

}  // namespace lmask
