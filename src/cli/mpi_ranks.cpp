// mpi_ranks.cpp — see mpi_ranks.h. The only file that includes mpi.h or
// reads LMASK_WITH_MPI (set by CMake when LMASK_MPI is on).
#include "mpi_ranks.h"

#include <climits>
#include <cstdlib>
#include <string>

#include "lmask/error.h"
#include "lmask/parse_number.h"

#ifdef LMASK_WITH_MPI
// The C interface only: without these, mpi.h drags in the deprecated C++
// bindings, which need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace lmask::cli {

namespace {

// The job's size as the launcher tells it, before MPI is touched: 1 when
// no launcher started this process.
int launched_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {  // Open MPI's mpirun; Hydra, srun --mpi=pmi2
    const char* v = std::getenv(name);
    if (const auto ranks = strict_integer(std::string(v ? v : ""), 1, INT_MAX)) return *ranks;
  }
  return 1;
}

}  // namespace

#ifdef LMASK_WITH_MPI

MpiRanks::MpiRanks() {
  if (launched_ranks() == 1) return;
  int provided = 0;
  // OpenMP threads run the forwards; only this thread calls MPI.
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  joined_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiRanks::~MpiRanks() {
  if (joined_) MPI_Finalize();
}

std::vector<std::string> MpiRanks::gather(const std::string& mine) const {
  if (!joined_) return {mine};
  if (mine.size() > std::size_t(INT_MAX)) throw InputError("mpirun", "a rank's result is over 2 GiB");
  const int length = static_cast<int>(mine.size());
  std::vector<int> lengths(rank_ == 0 ? size_ : 0), offsets(lengths.size());
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  long long total = 0;
  for (int r = 0; r < int(lengths.size()); ++r) {
    if (total > INT_MAX) throw InputError("mpirun", "the ranks' results are over 2 GiB together");
    offsets[r] = static_cast<int>(total);
    total += lengths[r];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0,
              MPI_COMM_WORLD);
  std::vector<std::string> texts;
  for (int r = 0; r < int(lengths.size()); ++r) texts.push_back(all.substr(offsets[r], lengths[r]));
  return texts;
}

bool MpiRanks::broadcast(bool flag) const {
  if (!joined_) return flag;
  int value = flag ? 1 : 0;
  MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return value != 0;
}

#else

MpiRanks::MpiRanks() {
  const int ranks = launched_ranks();
  if (ranks > 1)
    throw InputError("mpirun", "started as one of " + std::to_string(ranks) +
                                   " ranks, but this lmask was built without MPI (cmake -DLMASK_MPI=ON, with "
                                   "libopenmpi-dev installed)");
}

MpiRanks::~MpiRanks() = default;

std::vector<std::string> MpiRanks::gather(const std::string& mine) const { return {mine}; }

bool MpiRanks::broadcast(bool flag) const { return flag; }

#endif

}  // namespace lmask::cli
