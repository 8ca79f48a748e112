// Tail kernels: the sparse tail products of a tile, added into its scores
// (warp per row with global atomics, or block per row in shared memory).
#include "cuda/error.cuh"
#include "cuda/kernel_common.cuh"
#include "cuda/kernels.cuh"
#include "cuda/select_logic.hpp"

namespace papersim::cuda {
namespace {

using kernels::grid_for;
using kernels::kWarp;

// The first posting of `term` whose row is >= col0 (postings are sorted by row),
// so a tile's tail scan starts at its first column.
__device__ inline std::int64_t first_posting_at_or_after(const TailColumns& ref, std::int32_t term,
                                                         std::int64_t col0) {
  std::int64_t lo = ref.colptr[term], hi = ref.colptr[term + 1];
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (ref.rows[mid] < col0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// Warp per query row; lanes take the row's tail terms and walk the matching
// slice [col0, col0 + cols) of each term's posting list.
__global__ void tail_add_kernel(TailRows q, std::int64_t row0, int rows, TailColumns ref,
                                std::int64_t col0, int cols, float* s, std::int64_t ld_s) {
  const std::int64_t warp =
      (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (warp >= rows) return;
  const std::int64_t g = row0 + warp;
  float* srow = s + warp * ld_s;
  const std::int64_t col_end = col0 + cols;
  for (std::int64_t p = q.indptr[g] + lane; p < q.indptr[g + 1]; p += kWarp) {
    const std::int32_t term = q.indices[p];
    const float w = q.data[p];
    std::int64_t lo = first_posting_at_or_after(ref, term, col0);
    for (std::int64_t e = ref.colptr[term + 1]; lo < e; ++lo) {
      const std::int64_t c = ref.rows[lo];
      if (c >= col_end) break;
      atomicAdd(srow + (c - col0), w * ref.data[lo]);
    }
  }
}

// Block per query row: the row's tail products within the tile's columns are
// summed in shared memory (one float per column), then added to the tile row
// once, only in the 16-byte chunks that received any, instead of one DRAM
// atomic per product. Each 16-byte chunk is owned by one thread, so the
// read-modify-writes need no atomics.
constexpr int kTailRowThreads = 256;

__global__ void __launch_bounds__(kTailRowThreads)
    tail_add_rows_kernel(TailRows q, std::int64_t row0, int rows, TailColumns ref,
                         std::int64_t col0, int cols, float* s, std::int64_t ld_s) {
  extern __shared__ float4 acc4[];
  float* acc = reinterpret_cast<float*>(acc4);
  const int r = blockIdx.x;
  const std::int64_t g = row0 + r;
  const std::int64_t p_begin = q.indptr[g], p_end = q.indptr[g + 1];
  if (p_begin == p_end) return;  // the same for the whole block
  const int chunks = (cols + 3) / 4;
  for (int i = threadIdx.x; i < chunks; i += blockDim.x) acc4[i] = make_float4(0, 0, 0, 0);
  __syncthreads();
  const std::int64_t col_end = col0 + cols;
  for (std::int64_t p = p_begin + threadIdx.x; p < p_end; p += blockDim.x) {
    const std::int32_t term = q.indices[p];
    const float w = q.data[p];
    std::int64_t lo = first_posting_at_or_after(ref, term, col0);
    for (std::int64_t e = ref.colptr[term + 1]; lo < e; ++lo) {
      const std::int64_t c = ref.rows[lo];
      if (c >= col_end) break;
      atomicAdd(acc + (c - col0), w * ref.data[lo]);
    }
  }
  __syncthreads();
  float* srow = s + static_cast<std::int64_t>(r) * ld_s;
  const bool vec = (ld_s % 4 == 0) && (reinterpret_cast<std::uintptr_t>(s) % 16 == 0);
  const int full_chunks = vec ? cols / 4 : 0;
  // Four chunks per thread per step: their loads are issued together.
  constexpr int kUnroll = 4;
  for (int base = threadIdx.x; base < full_chunks; base += kUnroll * blockDim.x) {
    float4 a[kUnroll], x[kUnroll];
    bool touched[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int i = base + u * blockDim.x;
      touched[u] = false;
      if (i < full_chunks) {
        a[u] = acc4[i];
        touched[u] = a[u].x != 0.0f || a[u].y != 0.0f || a[u].z != 0.0f || a[u].w != 0.0f;
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (touched[u]) x[u] = reinterpret_cast<const float4*>(srow)[base + u * blockDim.x];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (!touched[u]) continue;
      x[u].x += a[u].x;
      x[u].y += a[u].y;
      x[u].z += a[u].z;
      x[u].w += a[u].w;
      reinterpret_cast<float4*>(srow)[base + u * blockDim.x] = x[u];
    }
  }
  for (int c = full_chunks * 4 + threadIdx.x; c < cols; c += blockDim.x) {
    if (acc[c] != 0.0f) srow[c] += acc[c];
  }
}

}  // namespace

void launch_tail_add(TailRows q, std::int64_t row0, int rows, TailColumns ref, std::int64_t col0,
                     int cols, float* s, std::int64_t ld_s, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  constexpr int kBlock = 256;
  tail_add_kernel<<<grid_for(static_cast<std::int64_t>(rows) * kWarp, kBlock), kBlock, 0, stream>>>(
      q, row0, rows, ref, col0, cols, s, ld_s);
  PAPERSIM_CHECK_LAUNCH("tail_add_kernel");
}

static std::size_t tail_add_rows_smem(int cols) {
  return static_cast<std::size_t>((cols + 3) / 4) * sizeof(float4);
}

bool tail_add_rows_fits(int cols) {
  int device = 0, max_optin = 0;
  PAPERSIM_CUDA_TRY(cudaGetDevice(&device));
  PAPERSIM_CUDA_TRY(
      cudaDeviceGetAttribute(&max_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  return tail_add_rows_smem(cols) <= static_cast<std::size_t>(max_optin);
}

void launch_tail_add_rows(TailRows q, std::int64_t row0, int rows, TailColumns ref,
                          std::int64_t col0, int cols, float* s, std::int64_t ld_s,
                          cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  const std::size_t smem = tail_add_rows_smem(cols);
  if (smem > 48 * 1024) {
    PAPERSIM_CUDA_TRY(cudaFuncSetAttribute(
        tail_add_rows_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  }
  tail_add_rows_kernel<<<rows, kTailRowThreads, smem, stream>>>(q, row0, rows, ref, col0, cols, s,
                                                                ld_s);
  PAPERSIM_CHECK_LAUNCH("tail_add_rows_kernel");
}

}  // namespace papersim::cuda
