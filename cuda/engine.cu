// The per-device engine of the CUDA backend (engine.cuh): the inputs every
// device shares, the tile edge from device memory, and the tile loop of one
// device (head GEMM, tail, selection on two streams, pairs harvested per tile).

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "common/util.hpp"
#include "cuda/engine.cuh"
#include "cuda/error.cuh"
#include "cuda/kernels.cuh"
#include "cuda/resources.cuh"
#include "papersim/error.hpp"

namespace papersim::cuda {

namespace {

// fp16 inputs with fp32 accumulation err by at most ~9.8e-4 on a cosine of
// non-negative unit vectors (design notes §3); twice that keeps the
// completeness proof in finalize() valid with room for the tail's fp32 sums.
constexpr float kMargin = 2e-3f;

// Cost model (detail::estimated_cost), in units of one tensor-core multiply-add
// per pair and head column. A tail product is a scattered atomicAdd into the
// score tile. Measured on an H100 (bench/gpu/kernels_bench, results in
// bench/results/gpu-h100-80gb-hbm3-20261122.md): the head GEMM costs 4.6e-15 s
// per pair and column (16384² tiles, D = 512), the tail kernel 6e-11 s per
// product (1.6e10 products/s): a ratio of ~13,000. (That run used 1000, which
// picked D = 256 on the synthetic corpus of e2e_bench; 12,000 picks D = 832,
// which took the same engine at N = 1e6 from 23.7 s to 17.4 s on the H100.)
// The head rows are built once per run on the device, and a tile's fixed cost
// (a GEMM call and a few launches) is not yet measured: both are 0 here.
constexpr detail::CostModel kCost{/*head=*/1.0, /*tail=*/12000.0, /*head_row=*/0.0,
                                  /*tile=*/0.0, /*head_align=*/64};

constexpr std::int64_t kMaxEdge = 16384;
constexpr std::int64_t kRoundEdge = 256;

// The transpose of `t` (cols + 1 offsets, row ids increasing within a column):
// each of `chunks` threads counts, then places, the entries of a contiguous
// row range; a column's slots are handed out chunk by chunk, so rows stay in
// increasing order.
void transpose_rows(const CsrMatrix& t, std::int64_t cols, int threads,
                    std::vector<std::int64_t>& colptr, std::vector<std::int32_t>& rows,
                    std::vector<float>& vals) {
  const int chunks = static_cast<int>(std::max<std::int64_t>(
      1, std::min<std::int64_t>({threads, 8, std::max<std::int64_t>(t.rows, 1)})));
  const std::int64_t per = (t.rows + chunks - 1) / chunks;
  std::vector<std::int64_t> next(static_cast<std::size_t>(chunks) * cols, 0);
  parallel_for(chunks, chunks, [&](std::int64_t k) {
    std::int64_t* h = next.data() + k * cols;
    const std::int64_t r1 = std::min(t.rows, (k + 1) * per);
    for (std::int64_t p = t.indptr[std::min(t.rows, k * per)]; p < t.indptr[r1]; ++p)
      ++h[t.indices[p]];
  });
  colptr.assign(static_cast<std::size_t>(cols + 1), 0);
  for (std::int64_t c = 0; c < cols; ++c) {
    std::int64_t at = colptr[c];
    for (int k = 0; k < chunks; ++k) {
      const std::int64_t n = next[k * cols + c];
      next[k * cols + c] = at;
      at += n;
    }
    colptr[c + 1] = at;
  }
  rows.resize(t.indices.size());
  vals.resize(t.indices.size());
  parallel_for(chunks, chunks, [&](std::int64_t k) {
    std::int64_t* h = next.data() + k * cols;
    const std::int64_t r0 = std::min(t.rows, k * per), r1 = std::min(t.rows, (k + 1) * per);
    for (std::int64_t r = r0; r < r1; ++r) {
      for (std::int64_t p = t.indptr[r]; p < t.indptr[r + 1]; ++p) {
        const std::int64_t at = h[t.indices[p]]++;
        rows[at] = static_cast<std::int32_t>(r);
        vals[at] = t.data[p];
      }
    }
  });
}

}  // namespace

detail::PassTraits pass_traits() {
  detail::PassTraits t;
  t.cost = kCost;
  t.margin = kMargin;
  t.extra_min = 32;
  t.extra_per_k = 4;
  t.cap_keep_at_refs = true;
  // The tail kernels index the reference tail by original column.
  t.numbering = detail::TailNumbering::kColumns;
  // Dealt round-robin to the devices, so each gets a share of every row strip.
  t.order = detail::TileOrder::kRowMajor;
  t.head_rows_per_tile = false;  // built once per run on the device
  t.host_memory = false;
  return t;
}

EngineInputs prepare_inputs(const detail::JoinInputs& join, const SimilarityParams& params) {
  EngineInputs in;
  in.join = &join;
  in.self_join = join.self_join;
  const std::int64_t rows_q = join.queries.rows, rows_r = join.references.rows;
  if (rows_q >= (std::int64_t{1} << 31) || rows_r >= (std::int64_t{1} << 31)) {
    throw UsageError("the CUDA backend handles at most 2^31 - 1 rows per matrix");
  }
  // GEMM tiles stay aligned for the tensor cores: pad D to a multiple of 64
  // (padded slots are zero columns).
  in.head_dim = (join.split.head_dim + 63) / 64 * 64;
  const int threads = resolve_threads(params.threads);
  // The reference tail by term: postings in increasing row order, so a column
  // tile is one contiguous slice found by binary search.
  transpose_rows(join.r().tail, join.r().tail.cols, threads, in.ref_colptr, in.ref_rows,
                 in.ref_vals);
  in.keep = static_cast<int>(join.keep);
  in.want_pairs = params.threshold >= 0.0f;
  in.pair_low = params.threshold - join.margin;
  in.margin = join.margin;
  return in;
}

EngineInputs prepare_inputs(const CsrMatrix& queries, const CsrMatrix* references,
                            const SimilarityParams& params) {
  auto join = std::make_shared<detail::JoinInputs>();
  const CsrView r = references ? references->view() : CsrView{};
  *join = detail::prepare_join(queries.view(), references ? &r : nullptr, params, pass_traits());
  EngineInputs in = prepare_inputs(*join, params);
  in.owned_join = join;
  return in;
}

DeviceEngine::DeviceEngine(int device, const EngineInputs& in, const BackendOptions& options)
    : device_(device), current_(device), in_(in) {
  DeviceGuard guard(device_);
  PAPERSIM_CUDA_TRY(cudaGetDeviceProperties(&prop_, device_));
  use_filter_ = options.cuda_select == BackendOptions::CudaSelect::kFilter;
  use_row_tail_ = options.cuda_tail == BackendOptions::CudaTail::kRows;
  Stream& st = slots_[0].stream;
  PinnedBuffer<unsigned char> staging(std::size_t{64} << 20);
  const int d = in.head_dim;

  // Dense fp16 head rows from the split rows' head entries (indices = slots):
  // the identity slot map puts each value where the column's slot says.
  const detail::JoinInputs& join = *in.join;
  std::vector<std::int32_t> identity(static_cast<std::size_t>(std::max(join.split.head_dim, 1)));
  for (std::size_t s = 0; s < identity.size(); ++s) identity[s] = static_cast<std::int32_t>(s);
  auto build_head = [&](const CsrMatrix& x, DeviceBuffer<__half>& out) {
    out.resize(static_cast<std::size_t>(x.rows) * d);
    if (x.rows == 0 || d == 0) return;
    DeviceBuffer<std::int64_t> indptr(x.indptr.size());
    DeviceBuffer<std::int32_t> indices(std::max<std::size_t>(x.indices.size(), 1));
    DeviceBuffer<float> data(std::max<std::size_t>(x.data.size(), 1));
    DeviceBuffer<std::int32_t> slot_of(identity.size());
    upload(indptr.data(), x.indptr.data(), x.indptr.size(), staging, st.get());
    upload(indices.data(), x.indices.data(), x.indices.size(), staging, st.get());
    upload(data.data(), x.data.data(), x.data.size(), staging, st.get());
    upload(slot_of.data(), identity.data(), identity.size(), staging, st.get());
    launch_build_head(indptr.data(), indices.data(), data.data(), x.rows, slot_of.data(), d,
                      out.data(), st.get());
    st.synchronize();  // the temporaries are freed on return
  };
  build_head(join.q.head, head_q_);
  if (!in.self_join) build_head(join.r().head, head_r_);

  const CsrMatrix& qt = join.q.tail;
  tq_indptr_.resize(qt.indptr.size());
  tq_indices_.resize(std::max<std::size_t>(qt.indices.size(), 1));
  tq_data_.resize(std::max<std::size_t>(qt.data.size(), 1));
  upload(tq_indptr_.data(), qt.indptr.data(), qt.indptr.size(), staging, st.get());
  upload(tq_indices_.data(), qt.indices.data(), qt.indices.size(), staging, st.get());
  upload(tq_data_.data(), qt.data.data(), qt.data.size(), staging, st.get());
  tr_colptr_.resize(in.ref_colptr.size());
  tr_rows_.resize(std::max<std::size_t>(in.ref_rows.size(), 1));
  tr_vals_.resize(std::max<std::size_t>(in.ref_vals.size(), 1));
  upload(tr_colptr_.data(), in.ref_colptr.data(), in.ref_colptr.size(), staging, st.get());
  upload(tr_rows_.data(), in.ref_rows.data(), in.ref_rows.size(), staging, st.get());
  upload(tr_vals_.data(), in.ref_vals.data(), in.ref_vals.size(), staging, st.get());

  const std::size_t rows_q = static_cast<std::size_t>(in.rows_q());
  if (in.keep > 0) {
    list_score_.resize(rows_q * 2 * in.keep);
    list_idx_.resize(rows_q * 2 * in.keep);
    list_count_.resize(rows_q);
    list_bound_.resize(rows_q);
    list_pending_.resize(rows_q);
    PAPERSIM_CUDA_TRY(cudaMemsetAsync(list_count_.data(), 0, list_count_.bytes(), st.get()));
    PAPERSIM_CUDA_TRY(cudaMemsetAsync(list_pending_.data(), 0, list_pending_.bytes(), st.get()));
    PAPERSIM_CUDA_TRY(cudaMemsetAsync(list_bound_.data(), 0, list_bound_.bytes(), st.get()));
  }
  st.synchronize();
}

std::size_t DeviceEngine::resident_bytes() const {
  return head_q_.bytes() + head_r_.bytes() + tq_indptr_.bytes() + tq_indices_.bytes() +
         tq_data_.bytes() + tr_colptr_.bytes() + tr_rows_.bytes() + tr_vals_.bytes() +
         list_score_.bytes() + list_idx_.bytes() + list_count_.bytes() + list_bound_.bytes() +
         list_pending_.bytes();
}

std::size_t DeviceEngine::free_bytes() const {
  DeviceGuard guard(device_);
  std::size_t free_b = 0, total_b = 0;
  PAPERSIM_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
  return free_b;
}

void DeviceEngine::allocate_tiles(std::int64_t edge) {
  DeviceGuard guard(device_);
  edge_ = edge;
  row_tail_ = use_row_tail_ && tail_add_rows_fits(static_cast<int>(edge));
  const std::size_t tile = static_cast<std::size_t>(edge) * edge;
  for (TileSlot& s : slots_) {
    s.s.resize(tile);
    if (in_.self_join && in_.keep > 0) s.st.resize(tile);
    if (in_.want_pairs) {
      s.pairs.resize(std::size_t{1} << 20);
      s.counter.resize(1);
      s.counter_host.resize(1);
    }
  }
}

std::size_t DeviceEngine::working_bytes() const {
  std::size_t b = resident_bytes();
  for (const TileSlot& s : slots_)
    b += s.s.bytes() + s.st.bytes() + s.pairs.bytes() + s.counter.bytes();
  return b;
}

const __half* DeviceEngine::ref_head() const {
  return in_.self_join ? head_q_.data() : head_r_.data();
}

// Score one tile into slot.s: head GEMM, then the tail. A fused kernel can
// replace this and select() without touching the schedule.
void DeviceEngine::score(const detail::Tile& t, TileSlot& slot) {
  const int rows = static_cast<int>(t.row_end - t.row_begin);
  const int cols = static_cast<int>(t.col_end - t.col_begin);
  const int d = in_.head_dim;
  gemm_head_tile(slot.cublas.get(), slot.stream.get(), head_q_.data() + t.row_begin * d,
                 ref_head() + t.col_begin * d, rows, cols, d, slot.s.data(), edge_);
  const TailRows q{tq_indptr_.data(), tq_indices_.data(), tq_data_.data()};
  const TailColumns r{tr_colptr_.data(), tr_rows_.data(), tr_vals_.data()};
  if (row_tail_) {
    launch_tail_add_rows(q, t.row_begin, rows, r, t.col_begin, cols, slot.s.data(), edge_,
                         slot.stream.get());
  } else {
    launch_tail_add(q, t.row_begin, rows, r, t.col_begin, cols, slot.s.data(), edge_,
                    slot.stream.get());
  }
}

void DeviceEngine::select(const detail::Tile& t, TileSlot& slot, TileSlot& other) {
  const int rows = static_cast<int>(t.row_end - t.row_begin);
  const int cols = static_cast<int>(t.col_end - t.col_begin);
  const cudaStream_t st = slot.stream.get();
  const bool upper_only = in_.self_join && t.diagonal();
  PairSink sink{slot.pairs.data(), slot.counter.data(),
                static_cast<std::int64_t>(slot.pairs.size()), in_.pair_low};
  if (in_.want_pairs) {
    PAPERSIM_CUDA_TRY(cudaMemsetAsync(slot.counter.data(), 0, sizeof(unsigned long long), st));
  }
  if (in_.keep > 0) {
    const TopKLists lists{list_score_.data(), list_idx_.data(), list_count_.data(),
                          list_bound_.data(), in_.keep,         list_pending_.data()};
    const bool both_ways = in_.self_join && !t.diagonal();
    // Strips whose lists have been through a full selection: the filter pass
    // needs their bounds, else nearly every score of the tile survives it.
    const std::size_t row_strip = static_cast<std::size_t>(t.row_begin / edge_);
    const std::size_t col_strip = static_cast<std::size_t>(t.col_begin / edge_);
    if (seeded_.size() <= std::max(row_strip, col_strip))
      seeded_.resize(std::max(row_strip, col_strip) + 1, false);
    const bool filter = use_filter_ && seeded_[row_strip] && (!both_ways || seeded_[col_strip]);
    // Both slots update the same running lists: order the selections.
    PAPERSIM_CUDA_TRY(cudaStreamWaitEvent(st, other.selected.get(), 0));
    if (filter) {
      launch_filter_tile(slot.s.data(), rows, cols, edge_, t.row_begin, t.col_begin, in_.self_join,
                         both_ways, lists, in_.want_pairs ? &sink : nullptr, upper_only, st);
      launch_merge_pending(slot.s.data(), rows, cols, edge_, t.row_begin, t.col_begin,
                           in_.self_join, both_ways, lists, st);
    } else {
      launch_select_merge(slot.s.data(), rows, cols, edge_, t.row_begin, t.col_begin, in_.self_join,
                          lists, in_.want_pairs ? &sink : nullptr, upper_only, st);
      if (both_ways) {
        // Each pair of an off-diagonal tile also feeds the column's row.
        launch_transpose(slot.s.data(), rows, cols, edge_, slot.st.data(), edge_, st);
        launch_select_merge(slot.st.data(), cols, rows, edge_, t.col_begin, t.row_begin, true,
                            lists, nullptr, false, st);
      }
    }
    seeded_[row_strip] = true;
    if (both_ways) seeded_[col_strip] = true;
    slot.selected.record(st);
  } else if (in_.want_pairs) {
    launch_threshold(slot.s.data(), rows, cols, edge_, t.row_begin, t.col_begin, upper_only, sink,
                     st);
  }
  if (in_.want_pairs) {
    PAPERSIM_CUDA_TRY(cudaMemcpyAsync(slot.counter_host.data(), slot.counter.data(),
                                      sizeof(unsigned long long), cudaMemcpyDeviceToHost, st));
  }
}

void DeviceEngine::harvest(TileSlot& slot) {
  if (!slot.busy) return;
  slot.done.synchronize();
  slot.busy = false;
  if (!in_.want_pairs) return;
  std::size_t n = static_cast<std::size_t>(slot.counter_host.data()[0]);
  const cudaStream_t st = slot.stream.get();
  if (n > slot.pairs.size()) {
    // Overflow: the slot's score tile is intact, so redo just its threshold
    // pass into a buffer large enough.
    slot.pairs.resize(n + n / 2);
    const detail::Tile& t = slot.tile;
    PairSink sink{slot.pairs.data(), slot.counter.data(),
                  static_cast<std::int64_t>(slot.pairs.size()), in_.pair_low};
    PAPERSIM_CUDA_TRY(cudaMemsetAsync(slot.counter.data(), 0, sizeof(unsigned long long), st));
    launch_threshold(slot.s.data(), static_cast<int>(t.row_end - t.row_begin),
                     static_cast<int>(t.col_end - t.col_begin), edge_, t.row_begin, t.col_begin,
                     in_.self_join && t.diagonal(), sink, st);
    PAPERSIM_CUDA_TRY(cudaMemcpyAsync(slot.counter_host.data(), slot.counter.data(),
                                      sizeof(unsigned long long), cudaMemcpyDeviceToHost, st));
    slot.stream.synchronize();
    n = static_cast<std::size_t>(slot.counter_host.data()[0]);
  }
  if (n == 0) return;
  if (slot.pairs_host.size() < n) slot.pairs_host.resize(n + n / 2);
  PAPERSIM_CUDA_TRY(cudaMemcpyAsync(slot.pairs_host.data(), slot.pairs.data(),
                                    n * sizeof(DevicePair), cudaMemcpyDeviceToHost, st));
  slot.stream.synchronize();
  pairs_.insert(pairs_.end(), slot.pairs_host.data(), slot.pairs_host.data() + n);
}

void DeviceEngine::run(const std::vector<detail::Tile>& tiles,
                       const std::function<void(const detail::Tile&)>& on_tile) {
  DeviceGuard guard(device_);
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    TileSlot& slot = slots_[i % 2];
    TileSlot& other = slots_[(i + 1) % 2];
    if (slot.busy) {
      const detail::Tile done = slot.tile;
      harvest(slot);
      if (on_tile) on_tile(done);
    }
    slot.tile = tiles[i];
    score(tiles[i], slot);
    select(tiles[i], slot, other);
    slot.done.record(slot.stream.get());
    slot.busy = true;
  }
  // Drain in issue order.
  for (std::size_t j = 0; j < 2; ++j) {
    TileSlot& slot = slots_[(tiles.size() + j) % 2];
    if (slot.busy) {
      const detail::Tile done = slot.tile;
      harvest(slot);
      if (on_tile) on_tile(done);
    }
  }
  PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
}

void DeviceEngine::download_lists(std::vector<std::int32_t>& count, std::vector<float>& score,
                                  std::vector<std::int32_t>& idx) const {
  DeviceGuard guard(device_);
  const std::size_t rows = static_cast<std::size_t>(in_.rows_q());
  const std::size_t keep = static_cast<std::size_t>(in_.keep);
  count.resize(rows);
  score.resize(rows * keep);
  idx.resize(rows * keep);
  if (rows == 0 || keep == 0) return;
  // Only the kept half of each row's 2·keep slots.
  PAPERSIM_CUDA_TRY(cudaMemcpy(count.data(), list_count_.data(), rows * sizeof(std::int32_t),
                               cudaMemcpyDeviceToHost));
  PAPERSIM_CUDA_TRY(cudaMemcpy2D(score.data(), keep * sizeof(float), list_score_.data(),
                                 2 * keep * sizeof(float), keep * sizeof(float), rows,
                                 cudaMemcpyDeviceToHost));
  PAPERSIM_CUDA_TRY(cudaMemcpy2D(idx.data(), keep * sizeof(std::int32_t), list_idx_.data(),
                                 2 * keep * sizeof(std::int32_t), keep * sizeof(std::int32_t), rows,
                                 cudaMemcpyDeviceToHost));
}

std::int64_t choose_tile_edge(const SimilarityParams& params, const EngineInputs& in,
                              std::size_t free_bytes) {
  const std::int64_t longest = std::max(in.rows_q(), in.rows_r());
  const std::int64_t cap = std::max<std::int64_t>(64, (longest + 63) / 64 * 64);
  if (params.tile > 0) return std::min(params.tile, cap);
  // Two slots, each a score tile (plus its transpose in a self-join with top-k).
  const double per_edge2 = 2.0 * sizeof(float) * ((in.self_join && in.keep > 0) ? 2 : 1);
  double budget = 0.8 * static_cast<double>(free_bytes);
  if (params.memory_budget > 0)
    budget = std::min(budget, static_cast<double>(params.memory_budget));
  std::int64_t edge = static_cast<std::int64_t>(std::sqrt(std::max(budget, 0.0) / per_edge2));
  if (edge < 64) {
    throw CudaError("CUDA backend: not enough device memory for even a 64 x 64 tile (" +
                    format_bytes(free_bytes) + " free after the resident data)");
  }
  edge = edge >= kRoundEdge ? edge / kRoundEdge * kRoundEdge : edge / 64 * 64;
  return std::min(edge, std::min(kMaxEdge, cap));
}

}  // namespace papersim::cuda
