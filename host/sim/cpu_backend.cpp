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
#include "sim/candidates.hpp"
#include "sim/plan.hpp"

namespace papersim::detail {
namespace {

// Cost model constants (choose_head_split), in units of one sgemm multiply-add
// per pair and head column. Calibrated with `sim_bench --sweep-head` on the first
// 20,000 arxiv-daily abstracts (scikit-learn defaults), one thread: on the lent
// Xeon with OpenBLAS' AVX2 kernel D = 64, 128, 256, 512 took 3.37, 3.34, 3.87,
// 5.93 s. Fitting time = pairs × (D × head + tail_products(D) × tail) gives one
// head column ≈ 0.05 ns per pair (2e10 multiply-adds/s) and one tail product
// (posting load + scatter-add into the score row) ≈ 1–2.4 ns, i.e. 20–50 head
// columns; 30 sits in that range. It picks D = 128 with scikit-learn defaults and
// D = 64 with English stop words removed, the fastest or within noise of it.
constexpr double kHeadCost = 1.0;
constexpr double kTailCost = 30.0;

// The approximation is an fp32 sgemm plus fp32 tail additions of at most a few
// hundred non-negative products of unit vectors: its error is below ~1e-6.
// A margin 100x larger costs nothing measurable (a few more rescored candidates)
// and keeps the completeness proof valid however the BLAS orders its sums.
constexpr float kMargin = 1e-4f;

// Rows per sgemm call: enough for sgemm to run near its peak, few enough that
// the score strip (kStrip × tile columns) is still cached when the tail and the
// selection pass read it right after the product.
constexpr std::int64_t kStrip = 128;

// Largest tile edge: beyond it tiles only cost memory (the column block's head
// and tail index are reused by every strip already).
constexpr std::int64_t kMaxEdge = 4096;

// Columns of a tile row used to seed a list that is not yet full.
constexpr std::int64_t kSeedColumns = 256;

// Tail terms looked up ahead of use in the span table.
constexpr std::int64_t kPrefetch = 6;

constexpr float kTiny = std::numeric_limits<float>::denorm_min();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Extra candidates kept per row so the exact k-th score usually clears the
// worst kept approximate one by more than the margin (no fallback needed).
std::int64_t extra_candidates(std::int64_t k) { return std::max<std::int64_t>(6, k / 4); }

// The rows split for the tile loops: head entries as (slot, value) so a dense
// head row is a memset and a short scatter, and tail entries with their terms
// renumbered by decreasing df. Renumbering keeps the terms looked up most often
// at the front of the per-term index arrays (cache-resident), and terms that can
// pair with no other row (df 1 in a self-join, absent from one side in a cross
// join) are dropped from the tail: they contribute no product.
struct SplitRows {
  CsrMatrix head;  // indices = head slots
  CsrMatrix tail;  // indices = renumbered tail terms
};

SplitRows split_rows(const CsrMatrix& x, const HeadTailSplit& split,
                     const std::vector<std::int32_t>& tail_id, std::int32_t tail_terms) {
  SplitRows out;
  out.head.rows = out.tail.rows = x.rows;
  out.head.cols = split.head_dim;
  out.tail.cols = tail_terms;
  out.head.indptr.assign(static_cast<std::size_t>(x.rows + 1), 0);
  out.tail.indptr.assign(static_cast<std::size_t>(x.rows + 1), 0);
  std::vector<std::pair<std::int32_t, float>> row;
  for (std::int64_t r = 0; r < x.rows; ++r) {
    row.clear();
    for (std::int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      const std::int32_t c = x.indices[p];
      const std::int32_t slot = split.slot_of[c];
      if (slot >= 0) {
        out.head.indices.push_back(slot);
        out.head.data.push_back(x.data[p]);
      } else if (tail_id[c] >= 0) {
        row.push_back({tail_id[c], x.data[p]});
      }
    }
    std::sort(row.begin(), row.end());
    for (const auto& [t, v] : row) {
      out.tail.indices.push_back(t);
      out.tail.data.push_back(v);
    }
    out.head.indptr[r + 1] = out.head.nnz();
    out.tail.indptr[r + 1] = out.tail.nnz();
  }
  return out;
}

void fill_head(const CsrMatrix& head, std::int64_t begin, std::int64_t end, std::int64_t d,
               float* out) {
  std::memset(out, 0, static_cast<std::size_t>((end - begin) * d) * sizeof(float));
  for (std::int64_t r = begin; r < end; ++r) {
    float* row = out + (r - begin) * d;
    for (std::int64_t p = head.indptr[r]; p < head.indptr[r + 1]; ++p)
      row[head.indices[p]] = head.data[p];
  }
}

// Inverted index of the tail terms of one column block.
struct TailIndex {
  struct Span {
    std::int32_t start = 0, len = 0;  // len 0 = term absent from the block
  };
  std::vector<Span> span;  // by renumbered term
  std::vector<std::int32_t> touched;
  std::vector<std::int32_t> col;  // posting: column offset within the block
  std::vector<float> val;

  void build(const CsrMatrix& tail, std::int64_t c0, std::int64_t c1) {
    if (span.size() != static_cast<std::size_t>(tail.cols))
      span.assign(static_cast<std::size_t>(tail.cols), {});
    for (std::int32_t t : touched) span[t].len = 0;
    touched.clear();
    const std::int64_t lo = tail.indptr[c0], hi = tail.indptr[c1];
    for (std::int64_t p = lo; p < hi; ++p) {
      const std::int32_t t = tail.indices[p];
      if (span[t].len++ == 0) touched.push_back(t);
    }
    std::int32_t offset = 0;
    for (std::int32_t t : touched) {
      span[t].start = offset;
      offset += span[t].len;
      span[t].len = 0;  // refilled below as a cursor
    }
    col.resize(static_cast<std::size_t>(hi - lo));
    val.resize(static_cast<std::size_t>(hi - lo));
    for (std::int64_t j = c0; j < c1; ++j) {
      for (std::int64_t p = tail.indptr[j]; p < tail.indptr[j + 1]; ++p) {
        Span& sp = span[tail.indices[p]];
        const std::int32_t at = sp.start + sp.len++;
        col[at] = static_cast<std::int32_t>(j - c0);
        val[at] = tail.data[p];
      }
    }
  }
  std::size_t bytes() const {
    return span.size() * sizeof(Span) + (touched.capacity() + col.capacity() + val.capacity()) * 4;
  }
};

// srow[pc[e]] += v * pv[e]: the tail's inner loop. Columns within one posting
// list are distinct, so the unrolled updates are independent. Not inlined: inside
// the tile loop the unrolled body ran out of registers and spilled.
__attribute__((noinline)) void scatter_add(float* __restrict srow,
                                           const std::int32_t* __restrict pc,
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

struct Worker {
  std::vector<float> a, b, s;  // head strip, head column block, score strip
  std::vector<float> colcut;
  std::vector<Neighbor> gathered;
  TailIndex index;
  std::vector<ScoredPair> pairs;
};

// Order tiles so that consecutive tiles touch different blocks: concurrent
// workers then rarely wait on the same block lock. Self-join: the diagonal
// tiles, then the rounds of a round-robin tournament (circle method) of the
// blocks; cross join: column blocks outer, row blocks inner.
std::vector<Tile> schedule(const TilePlan& plan, std::int64_t rows, bool self_join) {
  const std::int64_t edge = plan.tile_rows;
  const std::int64_t blocks = (rows + edge - 1) / edge;
  auto tile_of = [&](std::int64_t bi, std::int64_t bj) {
    return Tile{bi * edge, std::min(rows, (bi + 1) * edge), bj * edge,
                std::min(rows, (bj + 1) * edge)};
  };
  if (!self_join) {
    std::vector<Tile> t = plan.tiles;
    std::stable_sort(t.begin(), t.end(),
                     [](const Tile& x, const Tile& y) { return x.col_begin < y.col_begin; });
    return t;
  }
  std::vector<Tile> out;
  out.reserve(plan.tiles.size());
  for (std::int64_t b = 0; b < blocks; ++b) out.push_back(tile_of(b, b));
  const std::int64_t m = blocks % 2 == 0 ? blocks : blocks + 1;  // m - 1 = dummy when odd
  for (std::int64_t round = 0; round + 1 < m; ++round) {
    for (std::int64_t p = 0; p < m / 2; ++p) {
      const std::int64_t x = p == 0 ? m - 1 : (round + p) % (m - 1);
      const std::int64_t y = p == 0 ? round : (round + m - 1 - p) % (m - 1);
      if (x >= blocks || y >= blocks) continue;  // the dummy sits out
      out.push_back(tile_of(std::min(x, y), std::max(x, y)));
    }
  }
  return out;
}

class CpuBackend final : public SimilarityBackend {
 public:
  std::string name() const override { return "cpu"; }

  SimilarityResult self_join(const CsrMatrix& x, const SimilarityParams& params) override {
    return run(x, nullptr, params);
  }
  SimilarityResult cross_join(const CsrMatrix& queries, const CsrMatrix& references,
                              const SimilarityParams& params) override {
    check_cross_join_shapes(queries, references);
    return run(queries, &references, params);
  }

 private:
  SimilarityResult run(const CsrMatrix& q, const CsrMatrix* r, const SimilarityParams& params);
};

SimilarityResult CpuBackend::run(const CsrMatrix& q, const CsrMatrix* r,
                                 const SimilarityParams& params) {
  validate_params(params);
  const auto start = std::chrono::steady_clock::now();
  const bool self = r == nullptr;
  const CsrMatrix& ref = self ? q : *r;
  const int threads = resolve_threads(params.threads);
  // Parallelism comes from our tiles; a multithreaded BLAS inside would oversubscribe.
  openblas_set_num_threads(1);

  SimilarityResult result;
  result.stats.backend = name();
  for (std::int64_t i = 0; i < q.rows; ++i) {
    if (q.row_nnz(i) == 0) ++result.stats.zero_rows;
  }

  const std::vector<std::int64_t> df = column_df(q, self ? nullptr : &ref);
  const HeadTailSplit split =
      choose_head_split(df, q.rows, ref.rows, params.head_dim, kHeadCost, kTailCost);
  const std::int64_t d = split.head_dim;
  // Tail terms by decreasing df; only terms that can meet on both sides.
  std::vector<std::int32_t> tail_id(df.size(), -1);
  std::int32_t tail_terms = 0;
  {
    const std::vector<std::int64_t> df_ref = self ? std::vector<std::int64_t>() : column_df(ref);
    std::vector<std::int32_t> order;
    for (std::size_t c = 0; c < df.size(); ++c) {
      const bool pairs_up = self ? df[c] >= 2 : df_ref[c] > 0 && df[c] > df_ref[c];
      if (split.slot_of[c] < 0 && pairs_up) order.push_back(static_cast<std::int32_t>(c));
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int32_t x, std::int32_t y) { return df[x] > df[y]; });
    for (std::int32_t c : order) tail_id[c] = tail_terms++;
  }
  const SplitRows q_rows = split_rows(q, split, tail_id, tail_terms);
  SplitRows ref_rows_storage;
  if (!self) ref_rows_storage = split_rows(ref, split, tail_id, tail_terms);
  const SplitRows& ref_rows = self ? q_rows : ref_rows_storage;
  const CsrMatrix& q_tail = q_rows.tail;
  const CsrMatrix& ref_tail = ref_rows.tail;

  std::int64_t edge = params.tile;
  if (edge <= 0) {
    std::size_t budget = params.memory_budget;
    if (budget == 0)
      budget = std::min<std::size_t>(host_available_memory() / 4, std::size_t{2} << 30);
    edge = std::min(tile_edge_for_budget(budget, static_cast<int>(d), threads), kMaxEdge);
  }
  const std::int64_t longest = std::max<std::int64_t>(1, std::max(q.rows, ref.rows));
  edge = std::min(edge, (longest + 63) / 64 * 64);
  const TilePlan plan = plan_tiles(q.rows, ref.rows, self, edge, edge);
  const std::vector<Tile> order = schedule(plan, q.rows, self);
  if (order.size() != plan.tiles.size()) throw Error("cpu backend: tile schedule lost tiles");

  Candidates cand;
  cand.margin = kMargin;
  const std::int64_t k = params.k;
  cand.keep = k > 0 ? k + extra_candidates(k) : 0;
  if (k > 0) cand.rows.assign(static_cast<std::size_t>(q.rows), TopKRow(cand.keep));
  // Per query row: the lowest approximate score that may still enter its list.
  const float base_cut = std::max(params.min_score - kMargin, kTiny);
  std::vector<float> cut(static_cast<std::size_t>(q.rows), k > 0 ? base_cut : kInf);
  const float tcut = params.threshold >= 0.0f ? std::max(params.threshold - kMargin, kTiny) : kInf;

  const std::int64_t row_blocks = (q.rows + edge - 1) / edge;
  std::vector<std::mutex> block_locks(
      static_cast<std::size_t>(std::max<std::int64_t>(row_blocks, 1)));

  const std::int64_t ldc = (edge + 15) / 16 * 16;  // padded score rows: whole 16-wide chunks
  std::vector<Worker> workers(static_cast<std::size_t>(threads));
  std::atomic<std::int64_t> done{0};
  std::mutex progress_mutex;
  std::atomic<std::size_t> index_bytes{0};

  parallel_for_worker(
      static_cast<std::int64_t>(order.size()), threads,
      [&](std::int64_t t, int w) {
        const Tile& tile = order[t];
        Worker& wk = workers[w];
        const std::int64_t rows = tile.row_end - tile.row_begin;
        const std::int64_t cols = tile.col_end - tile.col_begin;
        const bool diag = self && tile.diagonal();
        wk.a.resize(static_cast<std::size_t>(kStrip * std::max<std::int64_t>(d, 1)));
        wk.b.resize(static_cast<std::size_t>(edge * std::max<std::int64_t>(d, 1)));
        wk.s.resize(static_cast<std::size_t>(kStrip * ldc));
        wk.colcut.resize(static_cast<std::size_t>(ldc));
        if (d > 0) fill_head(ref_rows.head, tile.col_begin, tile.col_end, d, wk.b.data());
        wk.index.build(ref_tail, tile.col_begin, tile.col_end);
        std::size_t ib = wk.index.bytes(), prev = index_bytes.load();
        while (ib > prev && !index_bytes.compare_exchange_weak(prev, ib)) {
        }

        // Only the selection touches shared lists: it locks the tile's blocks.
        std::mutex& row_lock = block_locks[tile.row_begin / edge];
        std::mutex* col_lock = self && !diag ? &block_locks[tile.col_begin / edge] : nullptr;

        for (std::int64_t s0 = 0; s0 < rows; s0 += kStrip) {
          const std::int64_t sr = std::min(kStrip, rows - s0);
          const std::int64_t i0 = tile.row_begin + s0;
          float* S = wk.s.data();
          if (d > 0) {
            fill_head(q_rows.head, i0, i0 + sr, d, wk.a.data());
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
            const std::int64_t i = i0 + ii;
            const std::int64_t pe = q_tail.indptr[i + 1];
            for (std::int64_t p = q_tail.indptr[i]; p < pe; ++p) {
              // The span table is too large for L1; fetch a few terms ahead.
              if (p + kPrefetch < pe)
                __builtin_prefetch(&wk.index.span[q_tail.indices[p + kPrefetch]]);
              const TailIndex::Span sp = wk.index.span[q_tail.indices[p]];
              const std::int32_t n = sp.len;
              if (n == 0) continue;
              const float v = q_tail.data[p];
              const std::int32_t* pc = wk.index.col.data() + sp.start;
              const float* pv = wk.index.val.data() + sp.start;
              scatter_add(srow, pc, pv, n, v);
            }
            // Padding falls below every cut. A diagonal tile keeps both triangles:
            // each row pass then sees every pair within the block, so the tile needs
            // no column pass; only the row itself is masked.
            std::fill(srow + cols, srow + ldc, -1.0f);
            if (diag) srow[s0 + ii] = -1.0f;
          }

          std::unique_lock<std::mutex> lock_a(row_lock, std::defer_lock), lock_b;
          if (col_lock != nullptr) {
            lock_b = std::unique_lock<std::mutex>(*col_lock, std::defer_lock);
            std::lock(lock_a, lock_b);
          } else {
            lock_a.lock();
          }
          const bool column_pass = self && !diag;
          float* colcut = wk.colcut.data();
          for (std::int64_t jj = 0; jj < cols; ++jj) {
            colcut[jj] = column_pass ? std::min(cut[tile.col_begin + jj], tcut) : kInf;
          }
          std::fill(colcut + cols, colcut + ldc, kInf);
          for (std::int64_t ii = 0; ii < sr; ++ii) {
            const float* __restrict srow = S + ii * ldc;
            const std::int64_t i = i0 + ii;
            // Row pushes start at column row_from; columns before it were seeded.
            std::int64_t row_from = 0;
            if (k > 0 && !cand.rows[i].full()) {
              // A list not yet full takes nearly every positive score. Seed it with
              // the best `keep` of a prefix of this tile's row (one selection), so the
              // rest of the row meets a real cut and skips at vector speed.
              row_from = std::min(
                  ldc, (std::max<std::int64_t>(kSeedColumns, 4 * cand.keep) + 15) / 16 * 16);
              const std::int64_t seed_end = std::min(row_from, cols);
              std::vector<Neighbor>& g = wk.gathered;
              g.clear();
              for (std::int64_t jj = 0; jj < seed_end; ++jj) {
                if (srow[jj] >= cut[i]) g.push_back({tile.col_begin + jj, srow[jj]});
              }
              if (static_cast<std::int64_t>(g.size()) > cand.keep) {
                std::nth_element(g.begin(), g.begin() + (cand.keep - 1), g.end(),
                                 [](const Neighbor& x, const Neighbor& y) {
                                   return better(x.score, x.doc, y.score, y.doc);
                                 });
                g.resize(static_cast<std::size_t>(cand.keep));
              }
              TopKRow& list = cand.rows[i];
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
                  TopKRow& list = cand.rows[i];
                  list.push(sc, j);
                  cut[i] = std::max(list.bound(), base_cut);
                  rowcut = std::min(cut[i], tcut);
                }
                if (column_pass && sc >= cut[j]) {
                  TopKRow& list = cand.rows[j];
                  list.push(sc, i);
                  cut[j] = std::max(list.bound(), base_cut);
                  colcut[j0 + u] = std::min(cut[j], tcut);
                }
              }
            }
          }
        }

        const std::int64_t tile_pairs = diag ? rows * (rows - 1) / 2 : rows * cols;
        const std::int64_t now = done.fetch_add(tile_pairs) + tile_pairs;
        if (params.progress) {
          std::lock_guard<std::mutex> g(progress_mutex);
          params.progress(now, plan.pairs);
        }
      },
      1);

  for (Worker& wk : workers) {
    cand.pairs.insert(cand.pairs.end(), wk.pairs.begin(), wk.pairs.end());
    wk.pairs.clear();
    wk.pairs.shrink_to_fit();
  }
  result.stats.pairs_evaluated = plan.pairs;
  result.stats.head_dim = static_cast<int>(d);
  result.stats.tiles = static_cast<std::int64_t>(plan.tiles.size());
  const std::size_t per_worker = (kStrip * std::max<std::int64_t>(d, 1) +
                                  edge * std::max<std::int64_t>(d, 1) + kStrip * ldc + ldc) *
                                     sizeof(float) +
                                 index_bytes.load();
  result.stats.peak_working_bytes = per_worker * static_cast<std::size_t>(threads);
  workers.clear();

  finalize(q, self ? nullptr : &ref, params, cand, &result);
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

std::unique_ptr<SimilarityBackend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace papersim::detail
