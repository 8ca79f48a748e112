#pragma once
// The CPU kernel of a cross join with few queries: the queries' columns held
// dense, every reference row scored against all of them in one pass over its
// entries. With a hundred queries against many references, this reads each
// reference entry once and needs no head/tail split, no inverted index of the
// references and no column blocks (whose verification and reading cost more
// than the pass itself).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "papersim/csr.hpp"

namespace papersim::detail {

/// Queries scored together: lanes of one vector group.
inline constexpr std::int64_t kDenseLanes = 16;

/// Most queries one DenseQueries holds (eight vector groups of accumulators,
/// which stay in registers).
inline constexpr std::int64_t kDenseMaxQueries = 128;

/// Rows [i0, i1) of a query matrix (at most kDenseMaxQueries) as dense columns:
/// for each column some query has, a row of width() values (query i's value at
/// lane i - i0, zero where a query lacks the column).
class DenseQueries {
 public:
  /// Hold rows [i0, i1) of `q`. The first build sizes the column table (q.cols
  /// entries); later builds reuse it.
  void build(const CsrView& q, std::int64_t i0, std::int64_t i1);

  std::int64_t begin() const { return i0_; }
  std::int64_t end() const { return i1_; }
  /// Lanes per reference row of scores: the queries rounded up to kDenseLanes.
  std::int64_t width() const { return groups_ * kDenseLanes; }

  /// Approximate scores (fp32 sums of products) of reference rows [c0, c1) of
  /// `refs` (same columns as the queries): scores[(j - c0) * width() + (i - i0)]
  /// for query i, zero in the lanes past the last query. `scores` holds
  /// (c1 - c0) * width() floats.
  void score(const CsrView& refs, std::int64_t c0, std::int64_t c1, float* scores) const;

  /// Bytes held now.
  std::size_t bytes() const;
  /// Bytes a DenseQueries holds for queries with `cols` columns whose strips
  /// hold at most `strip_nnz` entries, `rows` queries at a time.
  static std::size_t bytes_bound(std::int64_t cols, std::int64_t strip_nnz, std::int64_t rows);

 private:
  struct alignas(64) Group {
    float lane[kDenseLanes];
  };
  std::vector<std::int32_t> slot_;  // column -> row of values_ groups; 0 = the zero row
  std::vector<std::int32_t> used_;  // columns with a slot, to clear them for the next build
  std::vector<Group> values_;       // (slots + 1) × groups_, row 0 all zeros
  std::int64_t groups_ = 0;
  std::int64_t i0_ = -1, i1_ = -1;
};

}  // namespace papersim::detail
