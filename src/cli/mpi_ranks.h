// mpi_ranks.h — the ranks of an `mpirun -np N lmask ...` launch, behind
// three calls, so that nothing else in lmask sees MPI. Not a communication
// layer: the studies need one gather and one broadcast at the end of a run.
// Built without MPI (-DLMASK_MPI=OFF), a process is the only rank, and one
// started by a launcher with more ranks is refused instead of letting N
// copies of the whole run race on the same files.
#pragma once

#include <string>
#include <vector>

namespace lmask::cli {

class MpiRanks {
 public:
  // Joins the job when a launcher started this process with more than one
  // rank (Open MPI's mpirun; Hydra or srun --mpi=pmi2 through PMI_SIZE);
  // otherwise one rank, and MPI is never initialised.
  MpiRanks();
  ~MpiRanks();
  MpiRanks(const MpiRanks&) = delete;
  MpiRanks& operator=(const MpiRanks&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Every rank's text on rank 0, in rank order; {} on the other ranks.
  std::vector<std::string> gather(const std::string& mine) const;
  // Rank 0's flag, on every rank.
  bool broadcast(bool flag) const;

 private:
  int rank_ = 0, size_ = 1;
  bool joined_ = false;
};

}  // namespace lmask::cli
