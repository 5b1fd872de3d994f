// host_device.h — LMASK_HOST_DEVICE: marks the small inline formulas that
// host code and the CUDA kernels share (mask_rules.h, activation_math.h,
// ops.h's adaptive bins), so a formula is written once for every backend.
// Under nvcc they compile for both sides; elsewhere the mark is nothing.
#pragma once

#ifdef __CUDACC__
#define LMASK_HOST_DEVICE __host__ __device__
#else
#define LMASK_HOST_DEVICE
#endif
