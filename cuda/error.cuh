#pragma once
// Checked CUDA and cuBLAS calls: every failure becomes papersim::CudaError
// naming the call, the error and where it happened.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "papersim/error.hpp"

namespace papersim::cuda {

inline std::string where(const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line);
}

// Also clears the runtime's last-error state, so a caller that catches the
// exception (and, e.g., falls back) does not see this error again from the next
// unrelated cudaGetLastError() or kernel-launch check. Sticky errors (a kernel
// fault) stay: the context is unusable after them.
[[noreturn]] inline void throw_cuda(cudaError_t err, const char* call, const char* file, int line) {
  cudaGetLastError();
  throw CudaError(std::string("CUDA error: ") + call + " failed with " + cudaGetErrorName(err) +
                  " (" + cudaGetErrorString(err) + ") at " + where(file, line));
}

[[noreturn]] inline void throw_cublas(cublasStatus_t status, const char* call, const char* file,
                                      int line) {
  throw CudaError(std::string("cuBLAS error: ") + call + " failed with " +
                  cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ") at " +
                  where(file, line));
}

}  // namespace papersim::cuda

#define PAPERSIM_CUDA_TRY(call)                                               \
  do {                                                                        \
    const cudaError_t papersim_err_ = (call);                                 \
    if (papersim_err_ != cudaSuccess) {                                       \
      ::papersim::cuda::throw_cuda(papersim_err_, #call, __FILE__, __LINE__); \
    }                                                                         \
  } while (0)

#define PAPERSIM_CUBLAS_TRY(call)                                              \
  do {                                                                         \
    const cublasStatus_t papersim_st_ = (call);                                \
    if (papersim_st_ != CUBLAS_STATUS_SUCCESS) {                               \
      ::papersim::cuda::throw_cublas(papersim_st_, #call, __FILE__, __LINE__); \
    }                                                                          \
  } while (0)

// Destructors must not throw: report and carry on.
#define PAPERSIM_CUDA_TRY_NO_THROW(call)                                    \
  do {                                                                      \
    const cudaError_t papersim_err_ = (call);                               \
    if (papersim_err_ != cudaSuccess) {                                     \
      std::fprintf(stderr, "papersim: %s failed with %s at %s:%d\n", #call, \
                   cudaGetErrorName(papersim_err_), __FILE__, __LINE__);    \
    }                                                                       \
  } while (0)

#define PAPERSIM_CUBLAS_TRY_NO_THROW(call)                                  \
  do {                                                                      \
    const cublasStatus_t papersim_st_ = (call);                             \
    if (papersim_st_ != CUBLAS_STATUS_SUCCESS) {                            \
      std::fprintf(stderr, "papersim: %s failed with %s at %s:%d\n", #call, \
                   cublasGetStatusName(papersim_st_), __FILE__, __LINE__);  \
    }                                                                       \
  } while (0)

// After every kernel launch: launch-configuration errors surface here, at the
// launch site, rather than at some later unrelated call.
#define PAPERSIM_CHECK_LAUNCH(name)                                                       \
  do {                                                                                    \
    const cudaError_t papersim_err_ = cudaGetLastError();                                 \
    if (papersim_err_ != cudaSuccess) {                                                   \
      ::papersim::cuda::throw_cuda(papersim_err_, "launch of " name, __FILE__, __LINE__); \
    }                                                                                     \
  } while (0)
