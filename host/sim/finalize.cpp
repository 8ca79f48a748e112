#include "sim/finalize.hpp"

#include <algorithm>
#include <atomic>
#include <limits>

#include "common/util.hpp"

namespace papersim::detail {
namespace {

bool neighbor_order(const Neighbor& x, const Neighbor& y) {
  return better(x.score, x.doc, y.score, y.doc);
}

// Lowest score a top-k neighbour may have: positive, and at least min_score when set.
bool qualifies(float score, float min_score) {
  return score > 0.0f && (min_score < 0.0f || score >= min_score);
}

bool pair_order(const ScoredPair& x, const ScoredPair& y) {
  return x.a < y.a || (x.a == y.a && x.b < y.b);
}

// Exact top-k of query row `i` against every reference row (the fallback and the
// brute-force reference share it, so both break ties the same way).
std::vector<Neighbor> exact_row(const CsrView& q, std::int64_t i, const CsrView& r, bool self_join,
                                std::int64_t k, float min_score) {
  TopKRow row(k);
  if (q.row_nnz(i) == 0) return {};
  for (std::int64_t j = 0; j < r.rows; ++j) {
    if (self_join && j == i) continue;
    const float s = exact_dot(q, i, r, j);
    if (qualifies(s, min_score)) row.push(s, j);
  }
  std::vector<Neighbor> out = std::move(row.entries());
  std::sort(out.begin(), out.end(), neighbor_order);
  return out;
}

// Scores one query row against many reference rows, bit-identical to exact_dot:
// the query row is scattered into a dense array, and each reference row is walked
// in increasing column order adding the float64 products where the query has a
// term. Columns the query lacks add +0.0, which leaves a float64 sum unchanged,
// so the sum sees the same products in the same order as exact_dot's merge
// while costing one lookup per reference term instead of a branchy merge.
class RowScorer {
 public:
  void load(const CsrView& q, std::int64_t i) {
    if (dense_.size() < static_cast<std::size_t>(q.cols))
      dense_.assign(static_cast<std::size_t>(q.cols), 0.0f);
    clear();
    q_ = &q;
    row_ = i;
    for (std::int64_t p = q.indptr[i]; p < q.indptr[i + 1]; ++p) dense_[q.indices[p]] = q.data[p];
  }
  float score(const CsrView& r, std::int64_t j) const {
    double sum = 0.0;
    for (std::int64_t p = r.indptr[j]; p < r.indptr[j + 1]; ++p) {
      const float a = dense_[r.indices[p]];
      if (a != 0.0f) sum += static_cast<double>(a) * static_cast<double>(r.data[p]);
    }
    return static_cast<float>(sum);
  }
  ~RowScorer() = default;

 private:
  void clear() {
    if (q_ == nullptr) return;
    for (std::int64_t p = q_->indptr[row_]; p < q_->indptr[row_ + 1]; ++p)
      dense_[q_->indices[p]] = 0.0f;
    q_ = nullptr;
  }
  std::vector<float> dense_;
  const CsrView* q_ = nullptr;
  std::int64_t row_ = 0;
};

}  // namespace

void finalize(const CsrView& queries, const CsrView* references, const SimilarityParams& params,
              Candidates& candidates, SimilarityResult* result) {
  const bool self_join = references == nullptr;
  const CsrView& refs = self_join ? queries : *references;
  const std::int64_t n = queries.rows;
  const std::int64_t k = params.k;
  const float margin = candidates.margin;
  result->topk.assign(static_cast<std::size_t>(n), {});
  std::atomic<std::int64_t> rescored{0}, fallback{0};

  const int workers = resolve_threads(params.threads);
  std::vector<RowScorer> scorers(static_cast<std::size_t>(workers));
  if (k > 0) {
    parallel_for_worker(
        n, workers,
        [&](std::int64_t i, int w) {
          std::vector<Neighbor> list;
          if (i < static_cast<std::int64_t>(candidates.rows.size())) {
            TopKRow& row = candidates.rows[i];
            const bool full = row.size() > 0 && row.full();
            const float worst_approx = row.bound();
            list = std::move(row.entries());
            row.reset(0);
            if (static_cast<std::int64_t>(list.size()) > k) {
              // Each of the k best approximate candidates scores at least a_k - margin
              // exactly, so a candidate below a_k - 2 * margin approximately is beaten
              // strictly by k others and cannot enter the list: skip re-scoring it.
              std::sort(list.begin(), list.end(), neighbor_order);
              const float floor = list[static_cast<std::size_t>(k - 1)].score - 2.0f * margin;
              list.erase(std::find_if(list.begin() + k, list.end(),
                                      [&](const Neighbor& nb) { return nb.score < floor; }),
                         list.end());
            }
            rescored.fetch_add(static_cast<std::int64_t>(list.size()), std::memory_order_relaxed);
            if (!list.empty()) {
              RowScorer& scorer = scorers[w];
              scorer.load(queries, i);
              for (Neighbor& nb : list) nb.score = scorer.score(refs, nb.doc);
            }
            std::sort(list.begin(), list.end(), neighbor_order);
            const auto kept_end = std::find_if(list.begin(), list.end(), [&](const Neighbor& nb) {
              return !qualifies(nb.score, params.min_score);
            });
            list.erase(kept_end, list.end());
            if (static_cast<std::int64_t>(list.size()) > k)
              list.resize(static_cast<std::size_t>(k));
            if (full) {
              // A column outside the kept list scored at most worst_approx approximately,
              // so at most worst_approx + margin exactly. The list is proven complete when
              // every such column is beaten strictly: by the k-th kept exact score, or by
              // the lowest qualifying score when fewer than k qualify.
              const float outside_max = worst_approx + margin;
              const bool proven = static_cast<std::int64_t>(list.size()) == k
                                      ? list.back().score > outside_max
                                      : params.min_score > outside_max;
              if (!proven) {
                fallback.fetch_add(1, std::memory_order_relaxed);
                TopKRow exact(k);
                RowScorer& scorer = scorers[w];
                scorer.load(queries, i);
                for (std::int64_t j = 0; j < refs.rows; ++j) {
                  if (self_join && j == i) continue;
                  const float s = scorer.score(refs, j);
                  if (qualifies(s, params.min_score)) exact.push(s, j);
                }
                list = std::move(exact.entries());
                std::sort(list.begin(), list.end(), neighbor_order);
              }
            }
          }
          result->topk[i] = std::move(list);
        },
        64);
  }

  result->pairs.clear();
  if (params.threshold >= 0.0f) {
    std::vector<ScoredPair>& cand = candidates.pairs;
    rescored.fetch_add(static_cast<std::int64_t>(cand.size()), std::memory_order_relaxed);
    parallel_for(
        static_cast<std::int64_t>(cand.size()), params.threads,
        [&](std::int64_t p) { cand[p].score = exact_dot(queries, cand[p].a, refs, cand[p].b); },
        4096);
    for (const ScoredPair& p : cand) {
      if (p.score > 0.0f && p.score >= params.threshold) result->pairs.push_back(p);
    }
    std::sort(result->pairs.begin(), result->pairs.end(), pair_order);
    // Two tiles never evaluate the same pair, but a backend may hand it twice.
    result->pairs.erase(std::unique(result->pairs.begin(), result->pairs.end(),
                                    [](const ScoredPair& x, const ScoredPair& y) {
                                      return x.a == y.a && x.b == y.b;
                                    }),
                        result->pairs.end());
    cand.clear();
    cand.shrink_to_fit();
  }
  result->stats.rescored += rescored.load();
  result->stats.fallback_rows += fallback.load();
}

SimilarityResult brute_force(const CsrView& queries, const CsrView* references,
                             const SimilarityParams& params) {
  const bool self_join = references == nullptr;
  const CsrView& refs = self_join ? queries : *references;
  SimilarityResult result;
  result.stats.backend = "brute-force";
  result.topk.assign(static_cast<std::size_t>(queries.rows), {});
  for (std::int64_t i = 0; i < queries.rows; ++i) {
    if (queries.row_nnz(i) == 0) ++result.stats.zero_rows;
  }
  if (params.k > 0) {
    parallel_for(queries.rows, params.threads, [&](std::int64_t i) {
      result.topk[i] = exact_row(queries, i, refs, self_join, params.k, params.min_score);
    });
  }
  if (params.threshold >= 0.0f) {
    for (std::int64_t i = 0; i < queries.rows; ++i) {
      for (std::int64_t j = self_join ? i + 1 : 0; j < refs.rows; ++j) {
        const float s = exact_dot(queries, i, refs, j);
        if (s > 0.0f && s >= params.threshold) result.pairs.push_back({i, j, s});
      }
    }
  }
  result.stats.pairs_evaluated =
      self_join ? queries.rows * (queries.rows - 1) / 2 : queries.rows * refs.rows;
  return result;
}

}  // namespace papersim::detail
