#pragma once
// Shared by the kernel files (head_kernels.cu, tail_kernels.cu,
// select_kernels.cu): launch shapes and small helpers. Device code only.

#include <cstdint>

namespace papersim::cuda::kernels {

constexpr int kSelectThreads = 256;
constexpr int kWarp = 32;

inline unsigned grid_for(std::int64_t threads, int block) {
  return static_cast<unsigned>((threads + block - 1) / block);
}

}  // namespace papersim::cuda::kernels
