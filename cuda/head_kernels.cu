// Head kernels: dense fp16 head rows from CSR head entries, and the head
// product of a tile (cuBLAS fp16 GEMM with fp32 accumulation).
#include "cuda/error.cuh"
#include "cuda/kernel_common.cuh"
#include "cuda/kernels.cuh"
#include "cuda/select_logic.hpp"

namespace papersim::cuda {
namespace {

using kernels::grid_for;
using kernels::kWarp;

__global__ void build_head_kernel(const std::int64_t* indptr, const std::int32_t* indices,
                                  const float* data, std::int64_t rows, const std::int32_t* slot_of,
                                  int head_dim, __half* out) {
  const std::int64_t warp =
      (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (warp >= rows) return;
  for (std::int64_t p = indptr[warp] + lane; p < indptr[warp + 1]; p += kWarp) {
    const std::int32_t slot = slot_of[indices[p]];
    if (slot >= 0) {
      out[warp * head_dim + slot] = __ushort_as_half(logic::half_bits_keep_positive(data[p]));
    }
  }
}

}  // namespace

void launch_build_head(const std::int64_t* indptr, const std::int32_t* indices, const float* data,
                       std::int64_t rows, const std::int32_t* slot_of, int head_dim, __half* out,
                       cudaStream_t stream) {
  if (rows == 0 || head_dim == 0) return;
  PAPERSIM_CUDA_TRY(cudaMemsetAsync(out, 0, sizeof(__half) * rows * head_dim, stream));
  constexpr int kBlock = 256;
  build_head_kernel<<<grid_for(rows * kWarp, kBlock), kBlock, 0, stream>>>(
      indptr, indices, data, rows, slot_of, head_dim, out);
  PAPERSIM_CHECK_LAUNCH("build_head_kernel");
}

void gemm_head_tile(cublasHandle_t handle, cudaStream_t stream, const __half* q_rows,
                    const __half* r_rows, int rows, int cols, int head_dim, float* s,
                    std::int64_t ld_s) {
  if (rows == 0 || cols == 0) return;
  if (head_dim == 0) {
    PAPERSIM_CUDA_TRY(
        cudaMemset2DAsync(s, ld_s * sizeof(float), 0, cols * sizeof(float), rows, stream));
    return;
  }
  // cuBLAS is column-major: row-major S (rows × cols, ld_s) is the column-major
  // cols × rows matrix Refᵀ·Q, where the row-major head blocks read as
  // column-major D × cols (Ref) and D × rows (Q) matrices with leading dimension D.
  const float alpha = 1.0f, beta = 0.0f;
  PAPERSIM_CUBLAS_TRY(cublasSetStream(handle, stream));
  PAPERSIM_CUBLAS_TRY(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, cols, rows, head_dim, &alpha,
                                   r_rows, CUDA_R_16F, head_dim, q_rows, CUDA_R_16F, head_dim,
                                   &beta, s, CUDA_R_32F, static_cast<int>(ld_s), CUBLAS_COMPUTE_32F,
                                   CUBLAS_GEMM_DEFAULT));
}

}  // namespace papersim::cuda
