// The exact CPU engine. Per tile of row block × column block:
//   1. head: the dense block of the D most frequent terms, multiplied with a
//      single-threaded OpenBLAS sgemm per worker (our threads own the tiles);
//   2. tail: the remaining terms through an inverted index of the column block,
//      added into the same score rows;
//   3. selection: one vectorized pass over the scores against each row's (and,
//      in a self-join, each column's) current acceptance cut, pushing the rare
//      hits into the running top-k lists and threshold candidates.
// Scores are fp32 approximations of exact_dot; finalize() re-scores the
// candidates exactly and proves every list complete.
#include "sim/cpu_backend.hpp"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>

#include "common/util.hpp"
#include "papersim/error.hpp"
#include "sim/dense_queries.hpp"
#include "sim/driver.hpp"
#include "sim/finalize.hpp"
#include "sim/plan.hpp"

namespace papersim::detail {
namespace {

// Cost model constants (estimated_cost in sim/plan.hpp), in units of one sgemm
// multiply-add per pair and head column. Calibrated by measurement: `sim_bench
// --model-terms` prints each run's terms (pairs·D, tail products, head rows
// built·D, tiles) and bench/calibrate_cost_model.py fits the CPU seconds of
// sweeps over D (0 ... 1024) and the tile edge (512 ... 4096) by non-negative
// least squares, one free constant per run set (split, finalize). On 2 shared
// Xeon cores (OpenBLAS AVX2, synthetic abstracts; 1,000 and 100 queries against
// 309,000 references, and a 30,000-row self-join; bench/results/cost-model-cpu.md):
// head 1.0e-10 s per multiply-add, tail 8.6e-10 s per product (8.4 head units);
// head-row building and the per-tile cost fitted to 0, i.e. below the noise of
// these runs (600 against 76 tiles changed nothing measurable): they are set to
// a memset and a scatter per head value (2) and to the measured upper bound of
// a tile's fixed cost (~0.1 ms, 1e6 units). The model then picks the measured
// fastest D (64) on all three shapes, where the union-df model picked D = 1856
// for the 1,000-query cross join (96 s against 12.9 s).
constexpr CostModel kCost{/*head=*/1.0, /*tail=*/8.4, /*head_row=*/2.0, /*tile=*/1e6,
                          /*head_align=*/1};

// The approximation is an fp32 sgemm plus fp32 tail additions of at most a few
// hundred non-negative products of unit vectors: its error is below ~1e-6.
// A margin 100x larger costs nothing measurable (a few more rescored candidates)
// and keeps the completeness proof valid however the BLAS orders its sums.
constexpr float kMargin = 1e-4f;

// Rows per sgemm call: enough for sgemm to run near its peak, few enough that
// the score strip (kStrip × tile columns) is still cached when the tail and the
// selection pass read it right after the product.
constexpr std::int64_t kStrip = 128;

// Largest default tile edge. Wider column blocks make their counting sort
// (TailIndex::build, 16 bytes an entry) scatter over more memory than the
// caches hold; narrower ones make a self-join recode each column block more
// often. Measured on 2 cores, pairs seconds at edges 1024 / 2048 / 4096: 100
// synthetic queries x 300k references 0.29-0.32 / 0.28-0.36 / 0.35-0.37, 10,000 x 300k
// 12.6 / 11.7 / 14.2, all 120,405 arxiv-daily rows' self-join 44.3 / 39.4 / 40.4.
constexpr std::int64_t kMaxEdge = 2048;

// Largest tile edge at all (--tile included): postings hold 16-bit column
// offsets, which keeps the tail's inner loop at 6 bytes a product.
constexpr std::int64_t kMaxTileEdge = 65536;

// Most queries of a cross join scored by the dense-queries kernel (DenseQueries)
// instead of the head/tail tiles. Both read every reference entry about once,
// so their ratio depends mostly on the number of queries: the kernel's work
// per entry grows with the queries' lane groups (and their rows' footprint in
// cache), the tiles' is nearly flat. Pairs seconds of both, 2 threads, the
// synthetic 300k index (bench/dense_queries_crossover.sh, results in
// bench/results/dense-queries-2core-20261203.md): 1 query 0.03 / 0.06,
// 16 0.03 / 0.10, 64 0.07 / 0.16, 100 0.13 / 0.19, 128 0.17 / 0.21,
// 160 0.24 / 0.27, 192 0.30 / 0.29, 256 0.36 / 0.37 (512: 0.69 / 0.55).
constexpr std::int64_t kDenseQueryRows = 160;
static_assert(kStrip <= kDenseMaxQueries, "a strip of queries fits one DenseQueries");

// Columns of a tile row used to seed a list that is not yet full.
constexpr std::int64_t kSeedColumns = 256;

// Tail terms looked up ahead of use in the span table.
constexpr std::int64_t kPrefetch = 6;

// Entries ahead whose column codes are fetched while a block is coded.
constexpr std::int64_t kCodeAhead = 16;

constexpr float kTiny = std::numeric_limits<float>::denorm_min();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Rows [begin, end) of `x` through the column codes (sim/plan.hpp column_codes):
// head values into the dense rows at `head` ((end - begin) × d, zeroed here;
// null when d = 0), each tail entry to `on_tail(row offset, tail id, value)`.
template <class OnTail>
void code_rows(const CsrView& x, const std::int32_t* code, std::int64_t begin, std::int64_t end,
               std::int64_t d, float* head, OnTail&& on_tail) {
  if (d > 0) std::memset(head, 0, static_cast<std::size_t>((end - begin) * d) * sizeof(float));
  const std::int64_t last = x.indptr[end];
  for (std::int64_t r = begin; r < end; ++r) {
    float* hrow = head + (r - begin) * d;
    for (std::int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      // The code table (4 bytes a column) is larger than L2: fetch ahead, across rows.
      if (p + kCodeAhead < last) __builtin_prefetch(code + x.indices[p + kCodeAhead]);
      const std::int32_t k = code[x.indices[p]];
      if (k >= 0) {
        hrow[k] = x.data[p];
      } else if (k < -1) {
        on_tail(r - begin, -2 - k, x.data[p]);
      }
    }
  }
}

// The column block of a tile, coded from the CSR view (sim/plan.hpp
// column_codes): its dense head rows and an inverted index of its tail terms.
// Built per tile straight from the input rows, so no split copy of the
// references (or of a self-join's rows) is ever made.
struct TailIndex {
  struct Span {
    std::int32_t start = 0, len = 0;  // len 0 = term absent from the block
  };
  std::vector<Span> span;  // by tail id
  std::vector<std::int32_t> touched;
  std::vector<std::uint16_t> col;  // posting: column offset within the block (< kMaxTileEdge)
  std::vector<float> val;
  // The postings `span` points into: `col`/`val`, or a saved block's (load).
  const std::uint16_t* post_col = nullptr;
  const float* post_val = nullptr;
  // The block's tail entries in column order, before the sort by tail id.
  std::vector<std::int32_t> staged_id;
  std::vector<std::uint16_t> staged_col;
  std::vector<float> staged_val;

  // No term present: span lengths of the previous block back to 0.
  void reset(std::int32_t tail_ids) {
    if (span.size() != static_cast<std::size_t>(tail_ids))
      span.assign(static_cast<std::size_t>(tail_ids), {});
    for (std::int32_t t : touched) span[t].len = 0;
    touched.clear();
  }

  // Rows [c0, c1) of `x`: head values into `head` ((c1 - c0) × d, when d > 0),
  // tail values into the postings. When few queries meet many references, this
  // build is most of the work (every reference entry, once), so its pass over
  // the entries has no data-dependent branch: a head value is stored to its
  // slot or to a sink, a tail entry is staged at a cursor that advances only
  // for tail entries. A counting sort by tail id over the staged entries alone
  // then lays out the postings, each in increasing column order.
  void build(const CsrView& x, const std::int32_t* code, std::int32_t tail_ids, std::int64_t c0,
             std::int64_t c1, std::int64_t d, float* head) {
    reset(tail_ids);
    const std::int64_t first = x.indptr[c0], last = x.indptr[c1];
    if (staged_id.size() < static_cast<std::size_t>(last - first)) {
      // Only when an explicit reserve was too small (never within a run).
      staged_id.resize(static_cast<std::size_t>(last - first));
      staged_col.resize(staged_id.size());
      staged_val.resize(staged_id.size());
    }
    if (d > 0) std::memset(head, 0, static_cast<std::size_t>((c1 - c0) * d) * sizeof(float));
    const std::int32_t* __restrict idx = x.indices;
    const float* __restrict data = x.data;
    std::int32_t* __restrict s_id = staged_id.data();
    std::uint16_t* __restrict s_col = staged_col.data();
    float* __restrict s_val = staged_val.data();
    float sink = 0.0f;
    std::int64_t n = 0;
    for (std::int64_t r = c0; r < c1; ++r) {
      float* hrow = d > 0 ? head + (r - c0) * d : &sink;
      const auto offset = static_cast<std::uint16_t>(r - c0);
      const std::int64_t pe = x.indptr[r + 1];
      for (std::int64_t p = x.indptr[r]; p < pe; ++p) {
        // The code table (4 bytes a column) is larger than L1: fetch ahead, across rows.
        if (p + kCodeAhead < last) __builtin_prefetch(code + idx[p + kCodeAhead]);
        const std::int32_t k = code[idx[p]];
        const float v = data[p];
        *(k >= 0 ? hrow + k : &sink) = v;
        s_id[n] = -2 - k;
        s_col[n] = offset;
        s_val[n] = v;
        n += k < -1 ? 1 : 0;
      }
    }
    for (std::int64_t e = 0; e < n; ++e) {
      const std::int32_t t = s_id[e];
      if (span[t].len++ == 0) touched.push_back(t);
    }
    std::int32_t offset = 0;
    for (std::int32_t t : touched) {
      span[t].start = offset;
      offset += span[t].len;
      span[t].len = 0;  // refilled below as a cursor
    }
    if (col.size() < static_cast<std::size_t>(n)) {
      col.resize(static_cast<std::size_t>(n));
      val.resize(static_cast<std::size_t>(n));
    }
    std::uint16_t* __restrict pc = col.data();
    float* __restrict pv = val.data();
    Span* __restrict sp = span.data();
    for (std::int64_t e = 0; e < n; ++e) {
      Span& at = sp[s_id[e]];
      const std::int32_t i = at.start + at.len++;
      pc[i] = s_col[e];
      pv[i] = s_val[e];
    }
    post_col = col.data();
    post_val = val.data();
  }

  // Block `b` of the references' saved column blocks, rows [c0, c1) of `x`: the
  // same head rows and postings as `build`, read instead of built. Only the
  // block's columns are visited (a few times fewer than its entries); a head
  // column's postings are scattered into the dense rows, a tail column's become
  // its span, in place in the saved postings.
  void load(const CsrView& x, const ColumnBlocksView& blocks, const std::int32_t* code,
            std::int32_t tail_ids, std::int64_t c0, std::int64_t c1, std::int64_t d, float* head) {
    reset(tail_ids);
    const std::int64_t b = c0 / blocks.block_rows;
    const std::int64_t first = x.indptr[c0] - x.indptr[0];
    const auto block_nnz = static_cast<std::uint32_t>(x.indptr[c1] - x.indptr[c0]);
    post_col = blocks.rows + first;
    post_val = blocks.values + first;
    if (d > 0) std::memset(head, 0, static_cast<std::size_t>((c1 - c0) * d) * sizeof(float));
    const std::uint64_t t0 = blocks.term_offsets[b], t1 = blocks.term_offsets[b + 1];
    const std::int32_t* __restrict terms = blocks.terms;
    const std::uint32_t* __restrict starts = blocks.starts;
    for (std::uint64_t e = t0; e < t1; ++e) {
      if (e + kCodeAhead < t1) __builtin_prefetch(code + terms[e + kCodeAhead]);
      const std::int32_t k = code[terms[e]];
      if (k == -1) continue;
      const std::uint32_t s0 = starts[e];
      const std::uint32_t s1 = e + 1 < t1 ? starts[e + 1] : block_nnz;
      if (k >= 0) {
        for (std::uint32_t i = s0; i < s1; ++i) head[post_col[i] * d + k] = post_val[i];
      } else {
        const std::int32_t t = -2 - k;
        span[t] = {static_cast<std::int32_t>(s0), static_cast<std::int32_t>(s1 - s0)};
        touched.push_back(t);
      }
    }
  }
  // `block_nnz` 0: postings are only ever loaded (saved blocks), never built.
  void reserve(std::int32_t tail_ids, std::int64_t block_nnz, std::int64_t block_columns) {
    span.assign(static_cast<std::size_t>(tail_ids), {});
    touched.reserve(static_cast<std::size_t>(std::min<std::int64_t>(tail_ids, block_columns)));
    // Sized (not only reserved) once: the build writes through the pointers.
    col.resize(static_cast<std::size_t>(block_nnz));
    val.resize(static_cast<std::size_t>(block_nnz));
    staged_id.resize(static_cast<std::size_t>(block_nnz));
    staged_col.resize(static_cast<std::size_t>(block_nnz));
    staged_val.resize(static_cast<std::size_t>(block_nnz));
  }
  std::size_t bytes() const {
    return span.capacity() * sizeof(Span) +
           (touched.capacity() + val.capacity() + staged_id.capacity() + staged_val.capacity()) *
               4 +
           (col.capacity() + staged_col.capacity()) * sizeof(std::uint16_t);
  }
};

// The rows of one strip, coded from the CSR view: dense head rows and each
// row's tail entries as (tail id, value).
struct StripRows {
  std::vector<std::int64_t> ptr;  // strip row -> first entry
  std::vector<std::int32_t> id;
  std::vector<float> val;

  void build(const CsrView& x, const std::int32_t* code, std::int64_t i0, std::int64_t i1,
             std::int64_t d, float* head) {
    ptr.assign(static_cast<std::size_t>(i1 - i0 + 1), 0);
    id.clear();
    val.clear();
    code_rows(x, code, i0, i1, d, head, [&](std::int64_t r, std::int32_t t, float v) {
      id.push_back(t);
      val.push_back(v);
      ptr[static_cast<std::size_t>(r + 1)] = static_cast<std::int64_t>(id.size());
    });
    // Rows without tail entries start where the previous row ended.
    for (std::size_t r = 1; r < ptr.size(); ++r) ptr[r] = std::max(ptr[r], ptr[r - 1]);
  }

  void reserve(std::int64_t strip_nnz) {
    ptr.reserve(static_cast<std::size_t>(kStrip + 1));
    id.reserve(static_cast<std::size_t>(strip_nnz));
    val.reserve(static_cast<std::size_t>(strip_nnz));
  }
  std::size_t bytes() const {
    return ptr.capacity() * sizeof(std::int64_t) + (id.capacity() + val.capacity()) * 4;
  }
};

// srow[pc[e]] += v * pv[e]: the tail's inner loop. Columns within one posting
// list are distinct, so the unrolled updates are independent. Not inlined: inside
// the tile loop the unrolled body ran out of registers and spilled.
__attribute__((noinline)) void scatter_add(float* __restrict srow,
                                           const std::uint16_t* __restrict pc,
                                           const float* __restrict pv, std::int32_t n, float v) {
  std::int32_t e = 0;
  for (; e + 4 <= n; e += 4) {
    const std::int32_t c0 = pc[e], c1 = pc[e + 1], c2 = pc[e + 2], c3 = pc[e + 3];
    const float x0 = srow[c0] + v * pv[e], x1 = srow[c1] + v * pv[e + 1];
    const float x2 = srow[c2] + v * pv[e + 2], x3 = srow[c3] + v * pv[e + 3];
    srow[c0] = x0;
    srow[c1] = x1;
    srow[c2] = x2;
    srow[c3] = x3;
  }
  for (; e < n; ++e) srow[pc[e]] += v * pv[e];
}

// Most entries in any `edge` consecutive rows of `x` (a block's postings bound).
std::int64_t max_block_nnz(const CsrView& x, std::int64_t edge) {
  std::int64_t most = 0;
  for (std::int64_t b = 0; b < x.rows; b += edge)
    most = std::max(most, x.indptr[std::min(b + edge, x.rows)] - x.indptr[b]);
  return most;
}

// What one worker holds for tiles of edge `edge`, in bytes: head strip and
// column block, score strip and column cuts, the block's inverted index (span
// table over the tail ids, postings, touched terms) and a strip's coded rows.
// The buffers are reserved to exactly these sizes, so the figure is a bound.
struct WorkerShape {
  std::int64_t edge = 0, d = 0, ldc = 0;
  std::int64_t width = 0;          // widest column block: the edge, or all references when fewer
  std::int64_t block_nnz = 0;      // most entries of a built column block (0: blocks loaded)
  std::int64_t block_columns = 0;  // most distinct tail terms a column block may touch
  std::int64_t strip_nnz = 0;      // most entries of a strip of rows
  std::int32_t tail_ids = 0;
  std::size_t bytes() const {
    const auto dd = static_cast<std::size_t>(std::max<std::int64_t>(d, 1));
    const auto touched = static_cast<std::size_t>(std::min<std::int64_t>(tail_ids, block_columns));
    return (static_cast<std::size_t>(kStrip) * dd + static_cast<std::size_t>(width) * dd +
            static_cast<std::size_t>(kStrip * ldc + ldc)) *
               sizeof(float) +
           static_cast<std::size_t>(tail_ids) * 2 * sizeof(std::int32_t) +
           static_cast<std::size_t>(block_nnz) * 2 * (sizeof(std::uint16_t) + sizeof(float)) +
           static_cast<std::size_t>(block_nnz) * sizeof(std::int32_t) + touched * 4 +
           static_cast<std::size_t>(kStrip + 1) * sizeof(std::int64_t) +
           static_cast<std::size_t>(strip_nnz) * 2 * 4;
  }
};

// Most columns of one of the saved blocks.
std::int64_t max_block_columns(const ColumnBlocksView& blocks) {
  std::uint64_t most = 0;
  for (std::int64_t b = 0; b < blocks.blocks; ++b)
    most = std::max(most, blocks.term_offsets[b + 1] - blocks.term_offsets[b]);
  return static_cast<std::int64_t>(most);
}

// `loaded`: column blocks come from in.blocks (edge = their block rows).
WorkerShape worker_shape(const JoinInputs& in, std::int64_t edge, bool loaded) {
  WorkerShape w;
  w.edge = edge;
  w.d = in.split.head_dim;
  // Saved blocks fix the edge however few the references: buffers as wide as a block can be.
  w.width = std::max<std::int64_t>(1, std::min(edge, in.references.rows));
  w.ldc = (w.width + 15) / 16 * 16;  // padded score rows: whole 16-wide chunks
  w.block_nnz = loaded ? 0 : max_block_nnz(in.references, edge);
  w.block_columns = loaded ? max_block_columns(*in.blocks) : w.block_nnz;
  w.strip_nnz = max_block_nnz(in.queries, kStrip);
  w.tail_ids = in.tail_ids;
  return w;
}

// The locks of a strip's selection: its rows' and, when not null, the column
// block's (a self-join's column pass, a two-sided cross join), taken together
// without deadlock.
class StripLocks {
 public:
  StripLocks(std::mutex& rows, std::mutex* columns) : rows_(rows, std::defer_lock) {
    if (columns != nullptr) {
      columns_ = std::unique_lock<std::mutex>(*columns, std::defer_lock);
      std::lock(rows_, columns_);
    } else {
      rows_.lock();
    }
  }

 private:
  std::unique_lock<std::mutex> rows_, columns_;
};

struct Worker {
  std::vector<float> a, b, s;  // head strip, head column block, score strip
  std::vector<float> colcut;
  std::vector<Neighbor> gathered;
  TailIndex index;
  std::int64_t indexed_begin = -1, indexed_end = -1;  // the columns `index` and `b` hold now
  StripRows strip;
  std::vector<ScoredPair> pairs;
  DenseQueries dense;         // the dense-queries kernel's strip of queries
  std::vector<float> rowcut;  // its lanes' acceptance cuts
};

// Bytes one worker of the dense-queries kernel holds for column blocks of `edge`
// references: the strip's dense queries, the scores (a row of lanes per
// reference) and the lanes' cuts.
std::size_t dense_worker_bytes(const CsrView& queries, const CsrView& references,
                               std::int64_t edge) {
  const std::int64_t rows = std::min(queries.rows, kStrip);
  const std::int64_t width =
      std::max<std::int64_t>(1, (rows + kDenseLanes - 1) / kDenseLanes) * kDenseLanes;
  const std::int64_t refs = std::max<std::int64_t>(1, std::min(edge, references.rows));
  return DenseQueries::bytes_bound(queries.cols, max_block_nnz(queries, kStrip), rows) +
         static_cast<std::size_t>((refs + 1) * width) * sizeof(float);
}

class CpuPass final : public TilePass {
 public:
  std::string name() const override { return "cpu"; }
  PassTraits traits(const SimilarityParams&) const override {
    PassTraits t;
    t.cost = kCost;
    t.margin = kMargin;
    // Extra candidates kept per row so the exact k-th score usually clears the
    // worst kept approximate one by more than the margin (no fallback needed).
    t.extra_min = 6;
    t.extra_per_k = 4;
    t.numbering = TailNumbering::kByDf;
    t.order = TileOrder::kSpread;
    t.head_rows_per_tile = true;
    t.host_memory = true;
    t.split_rows = false;  // rows are coded per tile from the views
    t.reference_lists = true;
    t.column_blocks = true;
    return t;
  }
  std::int64_t tile_edge(const SimilarityParams& params, int d, std::int64_t rows_q,
                         std::int64_t rows_r, std::size_t budget) const override {
    return cpu_tile_edge(params, d, rows_q, rows_r, budget);
  }
  bool dense_queries(const CsrView& queries, const CsrView& references,
                     const SimilarityParams& params, std::size_t budget) const override;
  std::int64_t prepare(const JoinInputs& in, const SimilarityParams& params,
                       std::size_t budget) override;
  void run(const JoinInputs& in, const TilePlan& plan, const SimilarityParams& params,
           CandidateStore& store, SimilarityStats& stats) override;

 private:
  void run_dense(const JoinInputs& in, const TilePlan& plan, const SimilarityParams& params,
                 CandidateStore& store, SimilarityStats& stats);
  bool loaded_ = false;  // this run reads in.blocks (prepare's choice)
};

// Bytes of the acceptance cuts of a run: one per query row, and per reference
// row in a two-sided cross join.
std::size_t cut_bytes(const CsrView& queries, const CsrView& references, bool self_join,
                      const SimilarityParams& params) {
  const bool ref_lists = !self_join && params.reference_lists && params.k > 0;
  return static_cast<std::size_t>(queries.rows + (ref_lists ? references.rows : 0)) * sizeof(float);
}

bool CpuPass::dense_queries(const CsrView& queries, const CsrView& references,
                            const SimilarityParams& params, std::size_t budget) const {
  // A forced head size asks for the head/tail tiles.
  if (params.head_dim >= 0 || queries.rows == 0 || queries.rows > kDenseQueryRows ||
      references.rows == 0)
    return false;
  if (params.memory_budget == 0) return true;
  const std::int64_t edge = params.tile > 0 ? std::min(params.tile, kMaxTileEdge) : 64;
  const auto workers = static_cast<std::size_t>(resolve_threads(params.threads));
  return workers * dense_worker_bytes(queries, references, edge) +
             cut_bytes(queries, references, false, params) <=
         budget;
}

std::int64_t CpuPass::prepare(const JoinInputs& in, const SimilarityParams& params,
                              std::size_t budget) {
  loaded_ = false;
  const std::int64_t first =
      tile_edge(params, in.split.head_dim, in.queries.rows, in.references.rows, budget);
  const auto workers = static_cast<std::size_t>(resolve_threads(params.threads));
  const std::size_t cuts = cut_bytes(in.queries, in.references, in.self_join, params);
  if (in.dense_queries) {
    if (params.tile > 0 || params.memory_budget == 0) return first;
    for (std::int64_t edge = first; edge >= 64; edge -= 64)
      if (workers * dense_worker_bytes(in.queries, in.references, edge) + cuts <= budget)
        return edge;
    return 64;  // dense_queries() checked that these fit
  }
  // Saved column blocks fix the column edge at their rows: taken when the tile
  // edge is free (or asked for as that) and the budget allows tiles that wide.
  if (in.blocks != nullptr && !in.self_join) {
    const std::int64_t block_rows = in.blocks->block_rows;
    const bool edge_fits = params.tile == block_rows ||
                           (params.tile == 0 && (first >= block_rows || in.blocks->blocks == 1));
    if (edge_fits && (params.memory_budget == 0 ||
                      workers * worker_shape(in, block_rows, true).bytes() + cuts <= budget)) {
      loaded_ = true;
      return block_rows;
    }
  }
  if (params.tile > 0 || params.memory_budget == 0) return first;
  // An explicit budget is a bound on what the tiles hold: the largest edge whose
  // workers (with this input's densest blocks) and row cuts fit in it.
  std::size_t need = 0;
  for (std::int64_t edge = first; edge >= 64; edge -= 64) {
    need = workers * worker_shape(in, edge, false).bytes() + cuts;
    if (need <= budget) return edge;
  }
  throw UsageError("--memory-budget leaves " + format_bytes(budget) +
                   " for tiles, but the smallest tiles of this input need " + format_bytes(need) +
                   " (" + std::to_string(workers) +
                   " workers; fewer --threads or a larger budget)");
}

void CpuPass::run(const JoinInputs& in, const TilePlan& plan, const SimilarityParams& params,
                  CandidateStore& store, SimilarityStats& stats) {
  if (in.dense_queries) {
    run_dense(in, plan, params, store, stats);
    return;
  }
  const bool self = in.self_join;
  const int threads = resolve_threads(params.threads);
  // Parallelism comes from our tiles; a multithreaded BLAS inside would oversubscribe.
  openblas_set_num_threads(1);
  const std::int64_t d = in.split.head_dim;
  const CsrView& q_view = in.queries;
  const CsrView& ref_view = in.references;
  const std::int32_t* code = in.code.data();
  const std::int64_t edge = plan.tile_rows;
  const std::vector<Tile>& order = plan.tiles;
  const std::int64_t q_count = in.queries.rows;

  const std::int64_t k = params.k;
  const std::int64_t keep = store.keep();
  // Per query row: the lowest approximate score that may still enter its list.
  const float base_cut = std::max(params.min_score - kMargin, kTiny);
  std::vector<float> cut(static_cast<std::size_t>(q_count), k > 0 ? base_cut : kInf);
  // A two-sided cross join keeps every reference row's list too (the column
  // pass of a self-join's off-diagonal tiles, on the references' own lists).
  const bool ref_lists = store.has_reference_lists();
  std::vector<float> ref_cut(ref_lists ? static_cast<std::size_t>(in.references.rows) : 0,
                             base_cut);
  float* const ccut = self ? cut.data() : ref_cut.data();
  const float tcut = params.threshold >= 0.0f ? std::max(params.threshold - kMargin, kTiny) : kInf;

  const std::int64_t row_blocks = (q_count + edge - 1) / edge;
  const std::int64_t strips_per_block = (edge + kStrip - 1) / kStrip;
  std::vector<std::mutex> locks(static_cast<std::size_t>(
      std::max<std::int64_t>(1, self ? row_blocks : row_blocks * strips_per_block)));
  std::vector<std::mutex> ref_locks(
      ref_lists ? static_cast<std::size_t>((in.references.rows + edge - 1) / edge) : 0);

  const bool loaded = loaded_;
  const WorkerShape shape = worker_shape(in, edge, loaded);
  // Tiles left per column block: when a saved block has met every row block, its
  // owner may drop its pages (an index's go back to the page cache), so a cross
  // join against a mapped index holds a window of blocks, not all of them.
  const bool release = loaded && in.blocks->release != nullptr;
  std::vector<std::atomic<std::int64_t>> tiles_left(
      release ? static_cast<std::size_t>(in.blocks->blocks) : 0);
  if (release)
    for (const Tile& t : order) ++tiles_left[t.col_begin / edge];
  const std::int64_t max_ldc = shape.ldc;
  std::vector<Worker> workers(static_cast<std::size_t>(threads));
  for (Worker& wk : workers) {
    // Every buffer at its bound once: no growth, no reallocation inside the tiles.
    wk.a.resize(static_cast<std::size_t>(kStrip * std::max<std::int64_t>(d, 1)));
    wk.b.resize(static_cast<std::size_t>(shape.width * std::max<std::int64_t>(d, 1)));
    wk.s.resize(static_cast<std::size_t>(kStrip * max_ldc));
    wk.colcut.resize(static_cast<std::size_t>(max_ldc));
    wk.index.reserve(shape.tail_ids, shape.block_nnz, shape.block_columns);
    wk.strip.reserve(shape.strip_nnz);
  }

  parallel_for_worker(
      static_cast<std::int64_t>(order.size()), threads,
      [&](std::int64_t t, int w) {
        const Tile& tile = order[t];
        Worker& wk = workers[w];
        const std::int64_t rows = tile.row_end - tile.row_begin;
        const std::int64_t cols = tile.col_end - tile.col_begin;
        // Score rows as wide as this tile's columns (the last column block is
        // narrower than the edge the buffers are sized for).
        const std::int64_t ldc = (cols + 15) / 16 * 16;
        const bool diag = self && tile.diagonal();
        // A cross join's plan walks each reference block down every row block of
        // queries, so a worker's next tile often has the same columns: keep them.
        if (wk.indexed_begin != tile.col_begin || wk.indexed_end != tile.col_end) {
          if (loaded) {
            wk.index.load(ref_view, *in.blocks, code, in.tail_ids, tile.col_begin, tile.col_end, d,
                          wk.b.data());
          } else {
            wk.index.build(ref_view, code, in.tail_ids, tile.col_begin, tile.col_end, d,
                           wk.b.data());
          }
          wk.indexed_begin = tile.col_begin;
          wk.indexed_end = tile.col_end;
        }

        // Only the selection touches shared lists: it locks the tile's blocks (a
        // self-join's column pass updates the column block's lists too) or, in a
        // cross join, only the strip's rows, so workers on tiles of the same row
        // block (few queries, many references) select concurrently.
        const std::int64_t row_block = tile.row_begin / edge;
        std::mutex* col_lock = self && !diag ? &locks[tile.col_begin / edge]
                               : ref_lists   ? &ref_locks[tile.col_begin / edge]
                                             : nullptr;

        for (std::int64_t s0 = 0; s0 < rows; s0 += kStrip) {
          const std::int64_t sr = std::min(kStrip, rows - s0);
          const std::int64_t i0 = tile.row_begin + s0;
          float* S = wk.s.data();
          wk.strip.build(q_view, code, i0, i0 + sr, d, wk.a.data());
          const std::int64_t* sp_ptr = wk.strip.ptr.data();
          const std::int32_t* sp_id = wk.strip.id.data();
          const float* sp_val = wk.strip.val.data();
          if (d > 0) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(sr),
                        static_cast<int>(cols), static_cast<int>(d), 1.0f, wk.a.data(),
                        static_cast<int>(d), wk.b.data(), static_cast<int>(d), 0.0f, S,
                        static_cast<int>(ldc));
          } else {
            for (std::int64_t ii = 0; ii < sr; ++ii)
              std::fill(S + ii * ldc, S + ii * ldc + cols, 0.0f);
          }
          // Tail products, row by row into the strip.
          for (std::int64_t ii = 0; ii < sr; ++ii) {
            float* srow = S + ii * ldc;
            const std::int64_t pe = sp_ptr[ii + 1];
            for (std::int64_t p = sp_ptr[ii]; p < pe; ++p) {
              // The span table is too large for L1; fetch a few terms ahead.
              if (p + kPrefetch < pe) __builtin_prefetch(&wk.index.span[sp_id[p + kPrefetch]]);
              const TailIndex::Span sp = wk.index.span[sp_id[p]];
              const std::int32_t n = sp.len;
              if (n == 0) continue;
              const float v = sp_val[p];
              const std::uint16_t* pc = wk.index.post_col + sp.start;
              const float* pv = wk.index.post_val + sp.start;
              scatter_add(srow, pc, pv, n, v);
            }
            // Padding falls below every cut. A diagonal tile keeps both triangles:
            // each row pass then sees every pair within the block, so the tile needs
            // no column pass; only the row itself is masked.
            std::fill(srow + cols, srow + ldc, -1.0f);
            if (diag) srow[s0 + ii] = -1.0f;
          }

          std::mutex& row_lock =
              self ? locks[row_block] : locks[row_block * strips_per_block + s0 / kStrip];
          const StripLocks held(row_lock, col_lock);
          const bool column_pass = (self && !diag) || ref_lists;
          float* colcut = wk.colcut.data();
          for (std::int64_t jj = 0; jj < cols; ++jj) {
            colcut[jj] = column_pass ? std::min(ccut[tile.col_begin + jj], tcut) : kInf;
          }
          std::fill(colcut + cols, colcut + ldc, kInf);
          for (std::int64_t ii = 0; ii < sr; ++ii) {
            const float* __restrict srow = S + ii * ldc;
            const std::int64_t i = i0 + ii;
            // Row pushes start at column row_from; columns before it were seeded.
            std::int64_t row_from = 0;
            if (k > 0 && !store.row(i).full()) {
              // A list not yet full takes nearly every positive score. Seed it with
              // the best `keep` of a prefix of this tile's row (one selection), so the
              // rest of the row meets a real cut and skips at vector speed.
              row_from =
                  std::min(ldc, (std::max<std::int64_t>(kSeedColumns, 4 * keep) + 15) / 16 * 16);
              const std::int64_t seed_end = std::min(row_from, cols);
              std::vector<Neighbor>& g = wk.gathered;
              g.clear();
              for (std::int64_t jj = 0; jj < seed_end; ++jj) {
                if (srow[jj] >= cut[i]) g.push_back({tile.col_begin + jj, srow[jj]});
              }
              if (static_cast<std::int64_t>(g.size()) > keep) {
                std::nth_element(g.begin(), g.begin() + (keep - 1), g.end(),
                                 [](const Neighbor& x, const Neighbor& y) {
                                   return better(x.score, x.doc, y.score, y.doc);
                                 });
                g.resize(static_cast<std::size_t>(keep));
              }
              TopKRow& list = store.row(i);
              for (const Neighbor& nb : g) list.push(nb.score, nb.doc);
              cut[i] = std::max(list.bound(), base_cut);
            }
            float rowcut = std::min(cut[i], tcut);
            for (std::int64_t j0 = 0; j0 < ldc; j0 += 16) {
              const bool row_pass = j0 >= row_from;
              const float rc = row_pass ? rowcut : tcut;
              int any = 0;
              for (int u = 0; u < 16; ++u) any |= srow[j0 + u] >= std::min(rc, colcut[j0 + u]);
              if (!any) continue;
              for (int u = 0; u < 16; ++u) {
                const float sc = srow[j0 + u];
                if (!(sc >= std::min(rc, colcut[j0 + u]))) continue;
                const std::int64_t j = tile.col_begin + j0 + u;
                if (sc >= tcut && (!diag || j > i)) wk.pairs.push_back({i, j, sc});
                if (row_pass && sc >= cut[i]) {
                  TopKRow& list = store.row(i);
                  list.push(sc, j);
                  cut[i] = std::max(list.bound(), base_cut);
                  rowcut = std::min(cut[i], tcut);
                }
                if (column_pass && sc >= ccut[j]) {
                  TopKRow& list = self ? store.row(j) : store.ref_row(j);
                  list.push(sc, i);
                  ccut[j] = std::max(list.bound(), base_cut);
                  colcut[j0 + u] = std::min(ccut[j], tcut);
                }
              }
            }
          }
        }

        store.tile_done(tile);
        if (release && --tiles_left[tile.col_begin / edge] == 0) {
          wk.indexed_begin = wk.indexed_end = -1;
          const std::int64_t first = ref_view.indptr[tile.col_begin] - ref_view.indptr[0];
          in.blocks->release(*in.blocks, tile.col_begin / edge, first,
                             ref_view.indptr[tile.col_end] - ref_view.indptr[tile.col_begin]);
        }
      },
      1);

  for (Worker& wk : workers) store.add_pairs(wk.pairs);
  std::size_t held = (cut.size() + ref_cut.size()) * sizeof(float);
  for (const Worker& wk : workers) {
    held += (wk.a.capacity() + wk.b.capacity() + wk.s.capacity() + wk.colcut.capacity()) *
                sizeof(float) +
            wk.index.bytes() + wk.strip.bytes();
  }
  stats.peak_working_bytes = held;
  stats.column_blocks = loaded;
}

// The dense-queries kernel over the plan's tiles (a cross join): per strip of
// queries, the scores of each reference row of the tile against all of them
// (DenseQueries::score, outside any lock), then one selection pass over the
// references, each row of lanes tested against the queries' cuts at vector
// speed, the rare hits pushed as the tiles' selection pushes them.
void CpuPass::run_dense(const JoinInputs& in, const TilePlan& plan, const SimilarityParams& params,
                        CandidateStore& store, SimilarityStats& stats) {
  const int threads = resolve_threads(params.threads);
  const CsrView& q_view = in.queries;
  const CsrView& ref_view = in.references;
  const std::int64_t edge = plan.tile_rows;
  const std::vector<Tile>& order = plan.tiles;
  const std::int64_t q_count = q_view.rows;
  const std::int64_t k = params.k;
  const float base_cut = std::max(params.min_score - kMargin, kTiny);
  std::vector<float> cut(static_cast<std::size_t>(q_count), k > 0 ? base_cut : kInf);
  const bool ref_lists = store.has_reference_lists();
  std::vector<float> ref_cut(ref_lists ? static_cast<std::size_t>(ref_view.rows) : 0, base_cut);
  const float tcut = params.threshold >= 0.0f ? std::max(params.threshold - kMargin, kTiny) : kInf;

  const std::int64_t row_blocks = (q_count + edge - 1) / edge;
  const std::int64_t strips_per_block = (edge + kStrip - 1) / kStrip;
  std::vector<std::mutex> locks(static_cast<std::size_t>(row_blocks * strips_per_block));
  std::vector<std::mutex> ref_locks(
      ref_lists ? static_cast<std::size_t>((ref_view.rows + edge - 1) / edge) : 0);

  const std::int64_t strip_rows = std::min(q_count, kStrip);
  const std::int64_t max_width =
      std::max<std::int64_t>(1, (strip_rows + kDenseLanes - 1) / kDenseLanes) * kDenseLanes;
  const std::int64_t max_refs = std::max<std::int64_t>(1, std::min(edge, ref_view.rows));
  std::vector<Worker> workers(static_cast<std::size_t>(threads));
  for (Worker& wk : workers) {
    wk.s.resize(static_cast<std::size_t>(max_refs * max_width));
    wk.rowcut.resize(static_cast<std::size_t>(max_width));
  }

  parallel_for_worker(
      static_cast<std::int64_t>(order.size()), threads,
      [&](std::int64_t t, int w) {
        const Tile& tile = order[t];
        Worker& wk = workers[w];
        const std::int64_t rows = tile.row_end - tile.row_begin;
        const std::int64_t cols = tile.col_end - tile.col_begin;
        std::mutex* col_lock = ref_lists ? &ref_locks[tile.col_begin / edge] : nullptr;
        for (std::int64_t s0 = 0; s0 < rows; s0 += kStrip) {
          const std::int64_t sr = std::min(kStrip, rows - s0);
          const std::int64_t i0 = tile.row_begin + s0;
          // Consecutive tiles of a worker mostly share the strip: keep it.
          if (wk.dense.begin() != i0 || wk.dense.end() != i0 + sr)
            wk.dense.build(q_view, i0, i0 + sr);
          const std::int64_t width = wk.dense.width();
          float* S = wk.s.data();
          wk.dense.score(ref_view, tile.col_begin, tile.col_end, S);

          const StripLocks held(locks[(tile.row_begin / edge) * strips_per_block + s0 / kStrip],
                                col_lock);
          float* rc = wk.rowcut.data();
          for (std::int64_t u = 0; u < width; ++u)
            rc[u] = u < sr ? std::min(cut[i0 + u], tcut) : kInf;
          for (std::int64_t jj = 0; jj < cols; ++jj) {
            const float* __restrict srow = S + jj * width;
            const std::int64_t j = tile.col_begin + jj;
            float cc = ref_lists ? std::min(ref_cut[j], tcut) : kInf;
            int any = 0;
            for (std::int64_t u = 0; u < width; ++u) any |= srow[u] >= std::min(rc[u], cc);
            if (!any) continue;
            for (std::int64_t u = 0; u < sr; ++u) {
              const float sc = srow[u];
              if (!(sc >= std::min(rc[u], cc))) continue;
              const std::int64_t i = i0 + u;
              if (sc >= tcut) wk.pairs.push_back({i, j, sc});
              if (sc >= cut[i]) {
                TopKRow& list = store.row(i);
                list.push(sc, j);
                cut[i] = std::max(list.bound(), base_cut);
                rc[u] = std::min(cut[i], tcut);
              }
              if (ref_lists && sc >= ref_cut[j]) {
                TopKRow& list = store.ref_row(j);
                list.push(sc, i);
                ref_cut[j] = std::max(list.bound(), base_cut);
                cc = std::min(ref_cut[j], tcut);
              }
            }
          }
        }
        store.tile_done(tile);
      },
      1);

  for (Worker& wk : workers) store.add_pairs(wk.pairs);
  std::size_t held = (cut.size() + ref_cut.size()) * sizeof(float);
  for (const Worker& wk : workers)
    held += (wk.s.capacity() + wk.rowcut.capacity()) * sizeof(float) + wk.dense.bytes();
  stats.peak_working_bytes = held;
  stats.column_blocks = false;
}

}  // namespace

CostModel cpu_cost_model() { return kCost; }

std::int64_t cpu_dense_query_rows() { return kDenseQueryRows; }

std::int64_t cpu_tile_edge(const SimilarityParams& params, int d, std::int64_t rows_q,
                           std::int64_t rows_r, std::size_t budget) {
  std::int64_t edge = std::min(params.tile, kMaxTileEdge);
  if (edge <= 0) {
    if (budget == 0)
      budget = std::min<std::size_t>(host_available_memory() / 4, std::size_t{2} << 30);
    edge = std::min(tile_edge_for_budget(budget, d, resolve_threads(params.threads)), kMaxEdge);
  }
  const std::int64_t longest = std::max<std::int64_t>(1, std::max(rows_q, rows_r));
  return std::min(edge, (longest + 63) / 64 * 64);
}

std::unique_ptr<SimilarityBackend> make_cpu_backend() {
  return std::make_unique<DriverBackend>(std::make_unique<CpuPass>());
}

}  // namespace papersim::detail
