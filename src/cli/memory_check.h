// memory_check.h — refusing a forward too large for this machine before it
// starts, so that `bench --batch 4096 --size 4096` is one line saying what
// fits, not a bare std::bad_alloc (or the OOM killer) minutes into the run.
//
// What a forward needs is the embedded forward's arena plan (lmask/
// embedded.h, what `lmask plan` prints): the activations, masks and scratch
// of the whole batch, with every buffer reused as soon as it is dead. The
// native forward takes at least that much, so a batch whose plan does not
// fit in the memory available cannot run.
#pragma once

#include <cstdint>
#include <string>

#include "lmask/model.h"

namespace lmask::cli {

// Bytes this process can still allocate without swapping: the kernel's
// MemAvailable, or less where a cgroup (a container, a batch job) limits it.
std::uint64_t available_memory_bytes();

// InputError naming `where` (the --batch option, or the weights when the
// batch is one image) when a forward of `batch` images of height x width
// (layer-masked or clean) needs more than is available; the message gives
// both amounts and the largest batch that fits. `model` must still hold its
// weights (call it before open_backend hands them over).
void require_memory_for(const Model& model, int batch, int height, int width, bool masked,
                        const std::string& where);

}  // namespace lmask::cli
