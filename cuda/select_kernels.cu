// Selection kernels: threshold candidates, the radix select-merge of a tile
// into the running top-keep lists, the one-pass filter and its merge, and the
// transpose the select-merge path uses for a self-join's column lists.
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cuda/functional>

#include "cuda/error.cuh"
#include "cuda/kernel_common.cuh"
#include "cuda/kernels.cuh"
#include "cuda/select_logic.hpp"

namespace papersim::cuda {
namespace {

using kernels::grid_for;
using kernels::kSelectThreads;
using kernels::kWarp;
using logic::candidate_key;
using logic::float_key;
using logic::key_float;

__global__ void transpose_kernel(const float* s, int rows, int cols, std::int64_t ld_s, float* t,
                                 std::int64_t ld_t) {
  __shared__ float tile[32][33];  // +1 column avoids shared-memory bank conflicts
  const int c0 = blockIdx.x * 32, r0 = blockIdx.y * 32;
  for (int dy = threadIdx.y; dy < 32; dy += blockDim.y) {
    const int r = r0 + dy, c = c0 + threadIdx.x;
    if (r < rows && c < cols) tile[dy][threadIdx.x] = s[static_cast<std::int64_t>(r) * ld_s + c];
  }
  __syncthreads();
  for (int dy = threadIdx.y; dy < 32; dy += blockDim.y) {
    const int c = c0 + dy, r = r0 + threadIdx.x;
    if (r < rows && c < cols) t[static_cast<std::int64_t>(c) * ld_t + r] = tile[threadIdx.x][dy];
  }
}

// Warp-aggregated append of threshold candidates: one atomic per warp step.
__device__ __forceinline__ void emit_pair(bool want, std::int64_t row, std::int64_t col,
                                          float score, const PairSink& sink) {
  const unsigned active = __activemask();
  const unsigned mask = __ballot_sync(active, want);
  if (mask == 0) return;
  const int lane = threadIdx.x % kWarp;
  const int leader = __ffs(mask) - 1;
  unsigned long long base = 0;
  if (lane == leader) base = atomicAdd(sink.counter, static_cast<unsigned long long>(__popc(mask)));
  base = __shfl_sync(active, base, leader);
  if (want) {
    const unsigned long long pos = base + __popc(mask & ((1u << lane) - 1u));
    if (pos < static_cast<unsigned long long>(sink.capacity)) {
      sink.pairs[pos] =
          DevicePair{static_cast<std::int32_t>(row), static_cast<std::int32_t>(col), score};
    }
  }
}

__global__ void threshold_kernel(const float* s, int rows, int cols, std::int64_t ld_s,
                                 std::int64_t row_offset, std::int64_t col_offset, bool upper_only,
                                 PairSink sink) {
  const int r = blockIdx.x;
  if (r >= rows) return;
  const float* srow = s + static_cast<std::int64_t>(r) * ld_s;
  const std::int64_t g = row_offset + r;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    const float v = srow[i];
    emit_pair(logic::threshold_candidate(v, sink.low, g, col_offset + i, upper_only), g,
              col_offset + i, v, sink);
  }
}

struct Item {
  std::uint32_t key;  // 0 = not a candidate
  std::int32_t idx;
};

using BlockScan = cub::BlockScan<int, kSelectThreads>;
using BlockReduceInt = cub::BlockReduce<int, kSelectThreads>;
using BlockReduceU32 = cub::BlockReduce<std::uint32_t, kSelectThreads>;

struct SelectShared {
  union {
    BlockScan::TempStorage scan;
    BlockReduceInt::TempStorage reduce_int;
    BlockReduceU32::TempStorage reduce_u32;
  } temp;
  int hist[logic::kRadixBins];
  int bcast[2];
};

// The key of the `k`-th largest non-zero key among load(0..n) and how many keys
// equal to it are still needed (the rest of the top k are strictly greater).
// Requires at least k non-zero keys.
template <class Load>
__device__ void block_radix_kth(Load load, int n, int k, SelectShared& sm, std::uint32_t* kth,
                                int* need_eq) {
  std::uint32_t prefix = 0;
  int need = k;
  for (int pass = 0; pass < logic::kRadixPasses; ++pass) {
    for (int b = threadIdx.x; b < logic::kRadixBins; b += blockDim.x) sm.hist[b] = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
      const std::uint32_t key = load(i).key;
      if (key != 0 && logic::radix_prefix_match(key, prefix, pass)) {
        atomicAdd(&sm.hist[logic::radix_digit(key, pass)], 1);
      }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int bin = 0, left = 0;
      logic::radix_pick_bin(sm.hist, need, &bin, &left);
      sm.bcast[0] = bin;
      sm.bcast[1] = left;
    }
    __syncthreads();
    prefix |= static_cast<std::uint32_t>(sm.bcast[0]) << logic::radix_shift(pass);
    need = sm.bcast[1];
    __syncthreads();
  }
  *kth = prefix;
  *need_eq = need;
}

// Stream-compact, in position order, the items with key > kth and the first
// `need_eq` items with key == kth (kth > 0); emit(out_pos, item) for each.
// Items of a chunk are loaded before any of the chunk is written, so the
// output may overwrite the input in place (out_pos <= position always).
template <class Load, class Emit>
__device__ void block_compact(Load load, int n, std::uint32_t kth, int need_eq, Emit emit,
                              SelectShared& sm) {
  int out_base = 0, eq_base = 0;
  for (int start = 0; start < n; start += blockDim.x) {
    const int i = start + threadIdx.x;
    const Item it = i < n ? load(i) : Item{0, 0};
    const int gt = it.key != 0 && it.key > kth;
    const int eq = it.key != 0 && it.key == kth;
    int eq_rank = 0, eq_total = 0;
    BlockScan(sm.temp.scan).ExclusiveSum(eq, eq_rank, eq_total);
    __syncthreads();
    const int take = gt || (eq && eq_base + eq_rank < need_eq);
    int pos = 0, total = 0;
    BlockScan(sm.temp.scan).ExclusiveSum(take, pos, total);
    __syncthreads();
    if (take) emit(out_base + pos, it);
    out_base += total;
    eq_base += eq_total;
    __syncthreads();
  }
}

// Merge one line of a score tile (a row, or with kStrided a column read with
// stride ld) into the running list of global row g: element i is global
// candidate idx_offset + i. Pass 1 counts the line's candidates (emitting
// threshold pairs on the way when emit_pairs, so the line is read once for
// both), pass 2 appends them (all, or the line's best `keep`) after the kept
// ones, pass 3 cuts the union back to `keep` in place.
template <bool kStrided>
__device__ void select_line(const float* line, std::int64_t stride, int n, std::int64_t g,
                            std::int64_t idx_offset, bool exclude_self, const TopKLists& lists,
                            const PairSink& sink, bool emit_pairs, bool upper_only,
                            SelectShared& sm) {
  auto at = [&](int i) -> float { return kStrided ? line[i * stride] : line[i]; };
  const int keep = lists.keep;
  float* ls = lists.score + g * 2 * keep;
  std::int32_t* li = lists.idx + g * 2 * keep;
  const int count = lists.count[g];
  const bool full = count >= keep;
  const float bound = full ? lists.bound[g] : 0.0f;

  auto tile_item = [&](int i) -> Item {
    const std::int64_t col = idx_offset + i;
    return Item{candidate_key(at(i), g, col, exclude_self, full, bound),
                static_cast<std::int32_t>(col)};
  };

  int local = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float v = at(i);
    const std::int64_t col = idx_offset + i;
    local += candidate_key(v, g, col, exclude_self, full, bound) != 0;
    if (emit_pairs)
      emit_pair(logic::threshold_candidate(v, sink.low, g, col, upper_only), g, col, v, sink);
  }
  const int n_tile = BlockReduceInt(sm.temp.reduce_int).Sum(local);
  if (threadIdx.x == 0) sm.bcast[0] = n_tile;
  __syncthreads();
  int appended = sm.bcast[0];
  __syncthreads();
  if (appended == 0) return;

  auto append = [&](int pos, const Item& it) {
    ls[count + pos] = key_float(it.key);
    li[count + pos] = it.idx;
  };
  if (appended <= keep) {
    block_compact(tile_item, n, 0u, 0, append, sm);
  } else {
    std::uint32_t kth;
    int need_eq;
    block_radix_kth(tile_item, n, keep, sm, &kth, &need_eq);
    block_compact(tile_item, n, kth, need_eq, append, sm);
    appended = keep;
  }
  __syncthreads();

  const int total = count + appended;
  if (total <= keep) {
    if (total == keep) {
      std::uint32_t local_min = 0xffffffffu;
      for (int i = threadIdx.x; i < total; i += blockDim.x)
        local_min = min(local_min, float_key(ls[i]));
      const std::uint32_t m =
          BlockReduceU32(sm.temp.reduce_u32).Reduce(local_min, ::cuda::minimum<>{});
      if (threadIdx.x == 0) lists.bound[g] = key_float(m);
    }
    if (threadIdx.x == 0) lists.count[g] = total;
    return;
  }
  auto list_item = [&](int i) -> Item { return Item{float_key(ls[i]), li[i]}; };
  std::uint32_t kth;
  int need_eq;
  block_radix_kth(list_item, total, keep, sm, &kth, &need_eq);
  auto put = [&](int pos, const Item& it) {
    ls[pos] = key_float(it.key);
    li[pos] = it.idx;
  };
  block_compact(list_item, total, kth, need_eq, put, sm);
  if (threadIdx.x == 0) {
    lists.count[g] = keep;
    lists.bound[g] = key_float(kth);
  }
}

__global__ void __launch_bounds__(kSelectThreads)
    select_merge_kernel(const float* s, int rows, int cols, std::int64_t ld_s,
                        std::int64_t row_offset, std::int64_t col_offset, bool exclude_self,
                        TopKLists lists, PairSink sink, bool emit_pairs, bool upper_only) {
  __shared__ SelectShared sm;
  const int r = blockIdx.x;
  if (r >= rows) return;
  select_line<false>(s + static_cast<std::int64_t>(r) * ld_s, 1, cols, row_offset + r, col_offset,
                     exclude_self, lists, sink, emit_pairs, upper_only, sm);
}

// The filter path's one pass over a tile. A block covers kFilterRows rows ×
// 128 columns; each lane owns 4 adjacent columns (one float4 per row) and
// keeps their lists' state in registers, each warp walks rows. Row survivors
// of a warp step share one atomic on their row's pending count; column
// survivors (rare once the lists are full) take one atomic each.
constexpr int kFilterThreads = 256;
constexpr int kFilterCols = 128;
constexpr int kFilterRows = 64;

__global__ void __launch_bounds__(kFilterThreads)
    filter_tile_kernel(const float* s, int rows, int cols, std::int64_t ld_s,
                       std::int64_t row_offset, std::int64_t col_offset, bool exclude_self,
                       bool both_ways, TopKLists lists, PairSink sink, bool emit_pairs,
                       bool upper_only) {
  const int lane = threadIdx.x % kWarp;
  const int warp = threadIdx.x / kWarp;
  const int c0 = blockIdx.x * kFilterCols + lane * 4;
  const int r_begin = blockIdx.y * kFilterRows;
  const int r_end = min(rows, r_begin + kFilterRows);
  const int keep = lists.keep;
  const std::int64_t list_stride = 2 * static_cast<std::int64_t>(keep);

  bool col_ok[4], col_full[4];
  float col_bound[4];
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    col_ok[k] = c0 + k < cols;
    col_full[k] = false;
    col_bound[k] = 0.0f;
    if (both_ways && col_ok[k]) {
      const std::int64_t gc = col_offset + c0 + k;
      col_full[k] = lists.count[gc] >= keep;
      if (col_full[k]) col_bound[k] = lists.bound[gc];
    }
  }
  const bool vec =
      (ld_s % 4 == 0) && (reinterpret_cast<std::uintptr_t>(s) % 16 == 0) && c0 + 3 < cols;

  // All of this thread's loads first (8 rows × one float4), so each thread
  // has them in flight together instead of one per loop step (the stores
  // below may alias the tile as far as the compiler knows).
  constexpr int kRowsPerWarp = kFilterRows / (kFilterThreads / kWarp);
  float vals[kRowsPerWarp][4];
  bool row_full[kRowsPerWarp];
  float row_bound[kRowsPerWarp];
#pragma unroll
  for (int j = 0; j < kRowsPerWarp; ++j) {
    const int r = r_begin + warp + j * (kFilterThreads / kWarp);
    row_full[j] = false;
    row_bound[j] = 0.0f;
#pragma unroll
    for (int k = 0; k < 4; ++k) vals[j][k] = 0.0f;
    if (r >= r_end) continue;
    const std::int64_t g = row_offset + r;
    row_full[j] = lists.count[g] >= keep;
    row_bound[j] = lists.bound[g];
    const float* srow = s + static_cast<std::int64_t>(r) * ld_s;
    if (vec) {
      const float4 x = *reinterpret_cast<const float4*>(srow + c0);
      vals[j][0] = x.x;
      vals[j][1] = x.y;
      vals[j][2] = x.z;
      vals[j][3] = x.w;
    } else {
#pragma unroll
      for (int k = 0; k < 4; ++k)
        if (col_ok[k]) vals[j][k] = srow[c0 + k];
    }
  }

#pragma unroll
  for (int j = 0; j < kRowsPerWarp; ++j) {
    const int r = r_begin + warp + j * (kFilterThreads / kWarp);
    if (r >= r_end) break;  // uniform across the warp
    const std::int64_t g = row_offset + r;
    const bool full = row_full[j];
    const float bound = full ? row_bound[j] : 0.0f;
    const float* v = vals[j];

    bool take[4];
    int n_row = 0;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      take[k] =
          col_ok[k] && candidate_key(v[k], g, col_offset + c0 + k, exclude_self, full, bound) != 0;
      n_row += take[k];
    }
    if (__any_sync(0xffffffffu, n_row > 0)) {
      int incl = n_row;
#pragma unroll
      for (int o = 1; o < kWarp; o *= 2) {
        const int y = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += y;
      }
      int base = 0;
      if (lane == kWarp - 1) base = atomicAdd(lists.pending + g, incl);
      base = __shfl_sync(0xffffffffu, base, kWarp - 1);
      int pos = base + incl - n_row;
      float* ls = lists.score + g * list_stride + keep;
      std::int32_t* li = lists.idx + g * list_stride + keep;
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        if (take[k]) {
          if (pos < keep) {
            ls[pos] = v[k];
            li[pos] = static_cast<std::int32_t>(col_offset + c0 + k);
          }
          ++pos;
        }
      }
    }
    if (both_ways) {
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const std::int64_t gc = col_offset + c0 + k;
        if (col_ok[k] && candidate_key(v[k], gc, g, exclude_self, col_full[k], col_bound[k]) != 0) {
          const int pos = atomicAdd(lists.pending + gc, 1);
          if (pos < keep) {
            lists.score[gc * list_stride + keep + pos] = v[k];
            lists.idx[gc * list_stride + keep + pos] = static_cast<std::int32_t>(g);
          }
        }
      }
    }
    if (emit_pairs) {
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const std::int64_t col = col_offset + c0 + k;
        emit_pair(col_ok[k] && logic::threshold_candidate(v[k], sink.low, g, col, upper_only), g,
                  col, v[k], sink);
      }
    }
  }
}

// Block per line of the tile: blocks [0, rows) are its rows, [rows, rows +
// cols) its columns (both_ways only). A line with nothing pending returns at
// once; one that overflowed is reselected from the tile.
__global__ void __launch_bounds__(kSelectThreads)
    merge_pending_kernel(const float* s, int rows, int cols, std::int64_t ld_s,
                         std::int64_t row_offset, std::int64_t col_offset, bool exclude_self,
                         TopKLists lists) {
  __shared__ SelectShared sm;
  const bool col_line = static_cast<int>(blockIdx.x) >= rows;
  const int line = col_line ? static_cast<int>(blockIdx.x) - rows : static_cast<int>(blockIdx.x);
  const std::int64_t g = col_line ? col_offset + line : row_offset + line;
  const int pending = lists.pending[g];
  if (pending == 0) return;
  const int keep = lists.keep;
  if (pending > keep) {
    const PairSink none{};
    if (col_line) {
      select_line<true>(s + line, ld_s, rows, g, row_offset, exclude_self, lists, none, false,
                        false, sm);
    } else {
      select_line<false>(s + static_cast<std::int64_t>(line) * ld_s, 1, cols, g, col_offset,
                         exclude_self, lists, none, false, false, sm);
    }
  } else {
    float* ls = lists.score + g * 2 * keep;
    std::int32_t* li = lists.idx + g * 2 * keep;
    const int count = lists.count[g];
    const int total = count + pending;
    if (total <= keep) {
      // Scratch [keep, keep + pending) to [count, total): disjoint since total <= keep.
      for (int i = threadIdx.x; i < pending; i += blockDim.x) {
        ls[count + i] = ls[keep + i];
        li[count + i] = li[keep + i];
      }
      __syncthreads();
      if (total == keep) {
        std::uint32_t local_min = 0xffffffffu;
        for (int i = threadIdx.x; i < total; i += blockDim.x)
          local_min = min(local_min, float_key(ls[i]));
        const std::uint32_t m =
            BlockReduceU32(sm.temp.reduce_u32).Reduce(local_min, ::cuda::minimum<>{});
        if (threadIdx.x == 0) lists.bound[g] = key_float(m);
      }
      if (threadIdx.x == 0) lists.count[g] = total;
    } else if (total <= kSelectThreads) {
      // Small union (the steady state): one item per thread, its rank by
      // (key descending, position ascending) is unique, and the items ranked
      // below `keep` go straight to their rank's slot. Everything is read
      // into registers and shared memory before anything is written.
      __shared__ std::uint32_t keys[kSelectThreads];
      const int i = threadIdx.x;
      Item mine{0, 0};
      if (i < total) {
        const int p = i < count ? i : keep + (i - count);
        mine = Item{float_key(ls[p]), li[p]};
      }
      keys[i] = mine.key;
      __syncthreads();
      if (i < total) {
        int rank = 0;
        for (int j = 0; j < total; ++j) {
          const std::uint32_t kj = keys[j];
          rank += kj > mine.key || (kj == mine.key && j < i);
        }
        if (rank < keep) {
          ls[rank] = key_float(mine.key);
          li[rank] = mine.idx;
          if (rank == keep - 1) lists.bound[g] = key_float(mine.key);
        }
      }
      if (threadIdx.x == 0) lists.count[g] = keep;
    } else {
      // The union read as kept [0, count) then scratch [keep, keep + pending):
      // logical position i sits at or after physical slot i, and outputs go
      // to slots < keep, so compacting in place never overwrites unread items.
      auto union_item = [&](int i) -> Item {
        const int p = i < count ? i : keep + (i - count);
        return Item{float_key(ls[p]), li[p]};
      };
      std::uint32_t kth;
      int need_eq;
      block_radix_kth(union_item, total, keep, sm, &kth, &need_eq);
      auto put = [&](int pos, const Item& it) {
        ls[pos] = key_float(it.key);
        li[pos] = it.idx;
      };
      block_compact(union_item, total, kth, need_eq, put, sm);
      if (threadIdx.x == 0) {
        lists.count[g] = keep;
        lists.bound[g] = key_float(kth);
      }
    }
  }
  if (threadIdx.x == 0) lists.pending[g] = 0;
}

}  // namespace

void launch_transpose(const float* s, int rows, int cols, std::int64_t ld_s, float* t,
                      std::int64_t ld_t, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  const dim3 block(32, 8);
  const dim3 grid((cols + 31) / 32, (rows + 31) / 32);
  transpose_kernel<<<grid, block, 0, stream>>>(s, rows, cols, ld_s, t, ld_t);
  PAPERSIM_CHECK_LAUNCH("transpose_kernel");
}

void launch_select_merge(const float* s, int rows, int cols, std::int64_t ld_s,
                         std::int64_t row_offset, std::int64_t col_offset, bool exclude_self,
                         TopKLists lists, const PairSink* sink, bool upper_only,
                         cudaStream_t stream) {
  if (rows == 0 || cols == 0 || lists.keep <= 0) return;
  const PairSink none{};
  select_merge_kernel<<<rows, kSelectThreads, 0, stream>>>(
      s, rows, cols, ld_s, row_offset, col_offset, exclude_self, lists, sink ? *sink : none,
      sink != nullptr, upper_only);
  PAPERSIM_CHECK_LAUNCH("select_merge_kernel");
}

void launch_filter_tile(const float* s, int rows, int cols, std::int64_t ld_s,
                        std::int64_t row_offset, std::int64_t col_offset, bool exclude_self,
                        bool both_ways, TopKLists lists, const PairSink* sink, bool upper_only,
                        cudaStream_t stream) {
  if (rows == 0 || cols == 0 || lists.keep <= 0) return;
  const PairSink none{};
  const dim3 grid((cols + kFilterCols - 1) / kFilterCols, (rows + kFilterRows - 1) / kFilterRows);
  filter_tile_kernel<<<grid, kFilterThreads, 0, stream>>>(
      s, rows, cols, ld_s, row_offset, col_offset, exclude_self, both_ways, lists,
      sink ? *sink : none, sink != nullptr, upper_only);
  PAPERSIM_CHECK_LAUNCH("filter_tile_kernel");
}

void launch_merge_pending(const float* s, int rows, int cols, std::int64_t ld_s,
                          std::int64_t row_offset, std::int64_t col_offset, bool exclude_self,
                          bool both_ways, TopKLists lists, cudaStream_t stream) {
  if (rows == 0 || cols == 0 || lists.keep <= 0) return;
  const unsigned blocks =
      static_cast<unsigned>(rows) + (both_ways ? static_cast<unsigned>(cols) : 0u);
  merge_pending_kernel<<<blocks, kSelectThreads, 0, stream>>>(s, rows, cols, ld_s, row_offset,
                                                              col_offset, exclude_self, lists);
  PAPERSIM_CHECK_LAUNCH("merge_pending_kernel");
}

void launch_threshold(const float* s, int rows, int cols, std::int64_t ld_s,
                      std::int64_t row_offset, std::int64_t col_offset, bool upper_only,
                      PairSink sink, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  threshold_kernel<<<rows, kSelectThreads, 0, stream>>>(s, rows, cols, ld_s, row_offset, col_offset,
                                                        upper_only, sink);
  PAPERSIM_CHECK_LAUNCH("threshold_kernel");
}

}  // namespace papersim::cuda
