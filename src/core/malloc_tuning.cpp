// malloc_tuning.cpp — see malloc_tuning.h.
#include "lmask/malloc_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace lmask {

void tune_malloc_for_forwards() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace lmask
