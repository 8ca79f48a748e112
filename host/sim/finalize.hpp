#pragma once
// The exact end of every similarity run: the candidate lists kept with a
// margin during a backend's approximate pass (TopKRow, Candidates), the exact
// finalize() that re-scores them into the reported result, and the brute-force
// reference. The driver (sim/driver.hpp) runs finalize for every backend, so
// their answers agree by construction.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "papersim/csr.hpp"
#include "papersim/similarity.hpp"

namespace papersim::detail {

/// Order of candidates: higher score first, then lower doc.
inline bool better(float score_a, std::int64_t doc_a, float score_b, std::int64_t doc_b) {
  return score_a > score_b || (score_a == score_b && doc_a < doc_b);
}

/// Bounded list of the best `capacity` (score, doc) entries seen for one row,
/// kept as a min-heap on `better` so the worst kept entry is at the front.
class TopKRow {
 public:
  explicit TopKRow(std::int64_t capacity = 0) : capacity_(capacity) {}
  void reset(std::int64_t capacity) {
    capacity_ = capacity;
    heap_.clear();
  }
  std::int64_t capacity() const { return capacity_; }
  std::int64_t size() const { return static_cast<std::int64_t>(heap_.size()); }
  bool full() const { return size() >= capacity_; }
  /// Score an entry must beat to enter once full (ties resolved by `better`).
  float bound() const { return full() && !heap_.empty() ? heap_.front().score : -1.0f; }
  void push(float score, std::int64_t doc) {
    if (capacity_ <= 0) return;
    if (!full()) {
      heap_.push_back({doc, score});
      std::push_heap(heap_.begin(), heap_.end(), worse_first);
    } else if (better(score, doc, heap_.front().score, heap_.front().doc)) {
      std::pop_heap(heap_.begin(), heap_.end(), worse_first);
      heap_.back() = {doc, score};
      std::push_heap(heap_.begin(), heap_.end(), worse_first);
    }
  }
  const std::vector<Neighbor>& entries() const { return heap_; }
  std::vector<Neighbor>& entries() { return heap_; }

 private:
  static bool worse_first(const Neighbor& a, const Neighbor& b) {
    return better(a.score, a.doc, b.score, b.doc);
  }
  std::int64_t capacity_ = 0;
  std::vector<Neighbor> heap_;
};

/// What an approximate pass hands to `finalize`. Every approximate score must be
/// within `margin` of `exact_dot`, and be exactly 0 iff the rows share no term.
struct Candidates {
  /// Capacity each row's list was kept with (k + extra), >= k.
  std::int64_t keep = 0;
  /// Per query row: the best `keep` candidates by approximate score among all
  /// columns with a positive score (never the row itself in a self-join); fewer
  /// only when fewer positive-score columns exist.
  std::vector<TopKRow> rows;
  /// Every pair with approximate score >= threshold - margin (self-join: a < b).
  std::vector<ScoredPair> pairs;
  float margin = 0.0f;
};

/// Re-score every candidate with `exact_dot`, cut to the final top-k (score >= min_score,
/// score > 0) and threshold pairs, and prove each top-k list complete: a row whose
/// list was full and whose k-th exact score does not clear the worst kept approximate
/// score by more than `margin` is recomputed exactly against all columns.
/// `references` is null for a self-join. Fills result->topk, result->pairs and the
/// rescored / fallback_rows counters. Multithreaded over rows with `params.threads`.
void finalize(const CsrView& queries, const CsrView* references, const SimilarityParams& params,
              Candidates& candidates, SimilarityResult* result);

/// Reference implementation: exact brute force over all pairs (tests and fallback).
SimilarityResult brute_force(const CsrView& queries, const CsrView* references,
                             const SimilarityParams& params);
inline SimilarityResult brute_force(const CsrMatrix& queries, const CsrMatrix* references,
                                    const SimilarityParams& params) {
  const CsrView r = references ? references->view() : CsrView{};
  return brute_force(queries.view(), references ? &r : nullptr, params);
}
inline void finalize(const CsrMatrix& queries, const CsrMatrix* references,
                     const SimilarityParams& params, Candidates& candidates,
                     SimilarityResult* result) {
  const CsrView r = references ? references->view() : CsrView{};
  finalize(queries.view(), references ? &r : nullptr, params, candidates, result);
}

}  // namespace papersim::detail
