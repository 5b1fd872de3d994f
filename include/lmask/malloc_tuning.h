// malloc_tuning.h — the one process-wide setting a program running many
// forwards should make: what the lmask CLI and the Python module call at
// start-up (a library never changes its host's allocator by itself).
#pragma once

namespace lmask {

// Every forward allocates and frees activations of a few to tens of MB.
// glibc serves those with fresh mmaps (or trims them off the heap), so each
// forward pays page faults and kernel zeroing for all of them; this keeps
// freed memory in the heap for the next forward to reuse (glibc's mmap
// threshold raised to 32 MiB, its largest on 64-bit systems; trimming only
// past 1 GiB). No effect where the C library is not glibc.
void tune_malloc_for_forwards();

}  // namespace lmask
