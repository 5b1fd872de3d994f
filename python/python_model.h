// python_model.h — lmask.Model's C++ side: a Model with the lock and thread
// count its Python calls run under.
//
// Every call that runs the network releases the GIL (other Python threads
// go on meanwhile; two models on two threads run in parallel) and holds the
// model's own lock, since a backend object is not thread-safe (backend.h):
// two threads calling one model take turns instead of racing.
#pragma once

#include <mutex>
#include <string>
#include <utility>

#include <pybind11/pybind11.h>

#include "lmask/backend.h"
#include "lmask/model.h"

namespace lmask::python {

class PythonModel {
 public:
  // Reads `path` (an .h5 or .lmw weight file) and puts the model on
  // `backend`; threads 0: OpenMP's default.
  PythonModel(const std::string& path, const std::string& backend, int threads);

  const Model& model() const { return model_; }
  int threads() const { return threads_; }

  // Runs `work` (which must not touch Python objects) with the GIL released,
  // the model's lock held and OpenMP's thread count set to the model's for
  // this thread, restored afterwards.
  template <class Work>
  auto run(Work&& work) const -> decltype(work()) {
    pybind11::gil_scoped_release no_gil;
    std::lock_guard<std::mutex> lock(mutex_);
    const ThreadCount count(threads_);
    return work();
  }

 private:
  // OpenMP's thread count is per calling thread: set for one call, then put back.
  class ThreadCount {
   public:
    explicit ThreadCount(int n) : before_(lmask::threads()), set_(n > 0) { set_threads(n); }
    ~ThreadCount() {
      if (set_) set_threads(before_);
    }
    ThreadCount(const ThreadCount&) = delete;
    ThreadCount& operator=(const ThreadCount&) = delete;

   private:
    int before_;
    bool set_;
  };

  Model model_;
  int threads_ = 0;
  mutable std::mutex mutex_;
};

}  // namespace lmask::python
