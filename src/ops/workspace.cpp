// workspace.cpp — the convs' scratch buffer (ops.h).
#include "lmask/ops.h"

namespace lmask {

float* Workspace::columns(std::size_t count) {
  // Grow without copying: the old contents are never needed again.
  if (capacity_ < count) {
    cols_.reset();
    cols_.reset(new float[count]);
    capacity_ = count;
  }
  return cols_.get();
}

Workspace& Workspace::for_this_thread() {
  thread_local Workspace ws;
  return ws;
}

}  // namespace lmask
