#pragma once
// The similarity join of a multi-process run (papersim/comm.hpp): each rank
// owns a contiguous block of query rows (and, in a cross join, of reference
// rows); the other ranks' blocks visit it one at a time around a ring, and
// every (own rows × visiting block) tile is an ordinary backend join. Each
// tile's results are exact (the driver finalizes them), and a row's global
// top-k is the best k of its tiles' top-k lists under the one order (score
// descending, doc ascending), merged at the row's owner: so the merged result
// equals one process's result bit for bit.

#include <cstdint>
#include <string>
#include <string_view>

#include "papersim/comm.hpp"
#include "papersim/csr.hpp"
#include "papersim/similarity.hpp"

namespace papersim::detail {

/// Rows [begin, end) of a global row space.
struct RowBlock {
  std::int64_t begin = 0, end = 0;
  std::int64_t rows() const { return end - begin; }
};

/// Rank `rank`'s block of `n` rows over `ranks` ranks: contiguous, in rank
/// order, sizes differing by at most one.
RowBlock block_of(std::int64_t n, int ranks, int rank);

/// A CSR view as bytes (with the global index of its first row) and back.
std::string pack_csr(const CsrView& x, std::int64_t first_row);
CsrMatrix unpack_csr(std::string_view bytes, std::int64_t* first_row);

/// Counters of one ring join on this rank.
struct RingStats {
  std::int64_t rows = 0;        ///< This rank's query rows (its share of the documents).
  std::int64_t device = -1;     ///< The one CUDA device this rank joined on, else -1.
  std::int64_t bytes_sent = 0;  ///< Column blocks sent around the ring.
  std::int64_t steps = 0;       ///< Ring shifts.
  std::int64_t tiles = 0;       ///< (own × visiting) joins run here.
  std::int64_t pairs = 0;       ///< Pairs scored here.
  double seconds = 0;           ///< Wall time of the joins (shifts excluded).
  double shift_seconds = 0;     ///< Wall time of the shifts.
  /// Bytes this rank sent in collectives so far (vocabulary, counts), for reports.
  std::int64_t collective_bytes = 0;
};

/// Collective. This rank's `queries` are global query rows [q_begin, ...);
/// `references` (null: a self-join of the queries) global reference rows
/// [r_begin, ...). Returns, for this rank's query rows, the top-k lists (docs in
/// global row numbers of the other side) and the pairs found here (global
/// numbers; a self-join's pair once, a < b, at one rank). `params.progress`,
/// when set, sees this rank's pairs.
SimilarityResult ring_join(Comm& comm, SimilarityBackend& backend, const CsrView& queries,
                           std::int64_t q_begin, const CsrView* references, std::int64_t r_begin,
                           const SimilarityParams& params, RingStats* ring_stats);

/// Collective. Every rank's ring_join result at rank 0, as one process's result
/// (lists in global row order, pairs sorted by (a, b), counters summed); the
/// other ranks get an empty result with the summed counters.
SimilarityResult gather_result(Comm& comm, SimilarityResult local);

}  // namespace papersim::detail
