#pragma once
// Kernels of the CUDA backend, behind host launch functions taking raw device
// pointers and a stream, so the backend, the kernel tests and the benchmarks
// call the same entry points. Every launch is checked.
//
// Layouts (all device memory):
// - head block: row-major rows × D __half (D = head_dim, a multiple of 64);
// - score tile S: row-major R × C float, leading dimension ldS >= C;
// - query tail: CSR (indptr rows+1 int64, indices/data); reference tail: CSC by
//   term (colptr cols+1 int64, row ids increasing, values);
// - running top-keep lists: per global row `2 * keep` (score, idx) slots, of
//   which the first `count[row]` hold the kept candidates (unsorted); the other
//   half is scratch for the next tile's candidates.

#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace papersim::cuda {

/// One threshold candidate as written by the kernels (global row ids).
struct DevicePair {
  std::int32_t a;
  std::int32_t b;
  float score;
};

/// Query rows' tail entries (CSR over all query rows).
struct TailRows {
  const std::int64_t* indptr = nullptr;
  const std::int32_t* indices = nullptr;
  const float* data = nullptr;
};

/// Reference rows' tail entries by term (CSC over all reference rows).
struct TailColumns {
  const std::int64_t* colptr = nullptr;
  const std::int32_t* rows = nullptr;
  const float* data = nullptr;
};

/// Running per-row candidate lists (see the file comment).
struct TopKLists {
  float* score = nullptr;
  std::int32_t* idx = nullptr;
  std::int32_t* count = nullptr;
  float* bound = nullptr;  ///< Worst kept score, valid once count == keep.
  int keep = 0;
  /// Per row, how many candidates the one-pass filter appended to the row's
  /// scratch half [keep, 2·keep) for the current tile; zero between tiles
  /// (launch_merge_pending resets it). Only the filter path uses it.
  std::int32_t* pending = nullptr;
};

/// Threshold candidates: pairs with score >= low go to pairs[atomicAdd(counter)]
/// while the slot is below capacity; the counter keeps counting past it so the
/// caller can detect overflow and rerun the tile with a larger buffer.
struct PairSink {
  DevicePair* pairs = nullptr;
  unsigned long long* counter = nullptr;
  std::int64_t capacity = 0;
  float low = 0.0f;
};

/// out[r * D + slot_of[col]] = fp16(value) for every head entry of rows [0, rows)
/// of a CSR matrix; every other element is set to zero.
void launch_build_head(const std::int64_t* indptr, const std::int32_t* indices, const float* data,
                       std::int64_t rows, const std::int32_t* slot_of, int head_dim, __half* out,
                       cudaStream_t stream);

/// S (R × C, ld ldS) = Q · Rᵀ, Q the R head rows at `q_rows`, R the C head rows at
/// `r_rows` (both row-major, D columns); fp16 inputs, fp32 tensor-core accumulation.
/// D == 0 zeroes S instead.
void gemm_head_tile(cublasHandle_t handle, cudaStream_t stream, const __half* q_rows,
                    const __half* r_rows, int rows, int cols, int head_dim, float* s,
                    std::int64_t ld_s);

/// S[r][c] += Σ over tail terms shared by query row row0 + r and reference row
/// col0 + c of the product of their weights.
void launch_tail_add(TailRows q, std::int64_t row0, int rows, TailColumns ref, std::int64_t col0,
                     int cols, float* s, std::int64_t ld_s, cudaStream_t stream);

/// The same sums as launch_tail_add, by a block per query row that adds its
/// products up in shared memory (4 bytes per tile column) and updates the
/// tile row once, without global atomics. Needs tail_add_rows_fits(cols).
void launch_tail_add_rows(TailRows q, std::int64_t row0, int rows, TailColumns ref,
                          std::int64_t col0, int cols, float* s, std::int64_t ld_s,
                          cudaStream_t stream);

/// Whether a row of `cols` floats fits in one block's shared memory on the
/// current device (launch_tail_add_rows).
bool tail_add_rows_fits(int cols);

/// T (C × R, ld ldT) = Sᵀ for S (R × C, ld ldS).
void launch_transpose(const float* s, int rows, int cols, std::int64_t ld_s, float* t,
                      std::int64_t ld_t, cudaStream_t stream);

/// Merge one score tile into the running lists of its rows: row r of S is
/// global row row_offset + r, column c is global candidate col_offset + c.
/// Keeps per row the best `keep` candidates by score among those with a
/// positive score (not the row itself when exclude_self). When `sink` is
/// non-null also emits the threshold candidates of the tile (only r < c
/// globally when upper_only).
void launch_select_merge(const float* s, int rows, int cols, std::int64_t ld_s,
                         std::int64_t row_offset, std::int64_t col_offset, bool exclude_self,
                         TopKLists lists, const PairSink* sink, bool upper_only,
                         cudaStream_t stream);

/// One pass over a score tile (the filter path): every score is tested against
/// its row's list (global row row_offset + r) and, when `both_ways` (an
/// off-diagonal self-join tile), against its column's list (global row
/// col_offset + c), with the same rule as select_merge (positive, not itself,
/// not below the list's worst kept score once full). Survivors are appended to
/// the list's scratch half at keep + atomicAdd(pending[list]); a list whose
/// pending count exceeds `keep` has overflowed and launch_merge_pending
/// reselects it from the tile. Emits threshold candidates when `sink` is set.
/// Needs lists.pending; the tile is only read.
void launch_filter_tile(const float* s, int rows, int cols, std::int64_t ld_s,
                        std::int64_t row_offset, std::int64_t col_offset, bool exclude_self,
                        bool both_ways, TopKLists lists, const PairSink* sink, bool upper_only,
                        cudaStream_t stream);

/// Fold what launch_filter_tile left pending into the running lists of the
/// tile's rows (and columns when `both_ways`), cut back to `keep`, and reset
/// `pending`. Lists that overflowed are reselected from the score tile `s`
/// (which must still hold the tile), as select_merge would.
void launch_merge_pending(const float* s, int rows, int cols, std::int64_t ld_s,
                          std::int64_t row_offset, std::int64_t col_offset, bool exclude_self,
                          bool both_ways, TopKLists lists, cudaStream_t stream);

/// Only the threshold candidates of a tile (no top-k lists).
void launch_threshold(const float* s, int rows, int cols, std::int64_t ld_s,
                      std::int64_t row_offset, std::int64_t col_offset, bool upper_only,
                      PairSink sink, cudaStream_t stream);

}  // namespace papersim::cuda
