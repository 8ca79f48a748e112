#pragma once
// Shared planning for the similarity engines: the head/tail vocabulary split
// (dense block of the most frequent terms, sparse tail), its cost model, the
// split rows every backend reads, and the tile plan with its ordering. The
// driver (sim/driver.hpp) makes all of these once per run; a backend only
// computes approximate scores over the tiles it is handed.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "papersim/csr.hpp"

namespace papersim::detail {

/// Head/tail split of the columns.
struct HeadTailSplit {
  int head_dim = 0;                      ///< D: number of head columns.
  std::vector<std::int32_t> head_terms;  ///< Head columns by decreasing df, ties by lower column.
  std::vector<std::int32_t> slot_of;  ///< Column -> head slot in [0, D), or -1 for a tail column.
};

/// Document frequency of every column over the rows of `x` (`x.cols` entries),
/// counted on `threads` workers (resolve_threads) over disjoint row ranges.
std::vector<std::int64_t> column_df(const CsrView& x, int threads = 1);

/// The same counts read off `x`'s column blocks (`blocks.covers(x.rows)`): a
/// block column's postings are distinct rows, so their count is its df within
/// the block. Reads the block columns (a few times fewer than the entries), on
/// `threads` workers over disjoint block ranges where there are millions.
std::vector<std::int64_t> column_df(const CsrView& x, const ColumnBlocksView& blocks,
                                    int threads = 1);

/// Costs of one backend, in units of one head multiply-add (one pair, one head column).
/// Calibrated per backend by measurement (see each backend's constants).
struct CostModel {
  double head = 1.0;      ///< Per pair and head column: dense multiply-add.
  double tail = 1.0;      ///< Per tail product: posting load and scatter-add.
  double head_row = 0.0;  ///< Per head column of a dense head row built for a tile.
  double tile = 0.0;      ///< Fixed per tile: index build, calls, launches.
  /// Head columns are charged in whole groups of `head_align` (CUDA pads D to 64).
  int head_align = 1;
};

/// Shape of a join as the cost model sees it.
struct JoinShape {
  std::int64_t rows_q = 0;
  std::int64_t rows_r = 0;
  bool self_join = true;
  /// Tile edges (rows, columns) the run would use with head size D.
  std::function<std::pair<std::int64_t, std::int64_t>(int head_dim)> tile_edges;
  /// Whether dense head rows are built per tile (CPU) rather than once per run (CUDA).
  bool head_rows_per_tile = true;
};

/// Estimated cost (model units) of a run with the `d` most frequent columns in the head.
/// `tail_products` is the number of sparse tail products left with that head:
/// self-join Σ_t df(t)·(df(t)-1)/2, cross join Σ_t df_q(t)·df_r(t) over tail columns.
double estimated_cost(const CostModel& cost, const JoinShape& shape, std::int64_t d,
                      double tail_products);

/// Choose the split. `requested` >= 0 forces D (clamped to the column count);
/// -1 picks the D, in steps of 64 columns, that minimizes `estimated_cost`.
/// `df_q` counts the query rows' columns; `df_r` the reference rows' (null for a
/// self-join, where `df_q` is the only matrix). Columns no pair can use (df 0 on
/// either side) are never in an automatic head. Columns are ranked by decreasing
/// df_q + df_r, ties by lower column, so the split is deterministic.
HeadTailSplit choose_head_split(const std::vector<std::int64_t>& df_q,
                                const std::vector<std::int64_t>* df_r, const JoinShape& shape,
                                int requested, const CostModel& cost);

/// One code per column for the split: a head slot (>= 0), `-2 - id` for a tail
/// column with tail id `id`, or -1 for a column dropped (no pair can use it).
/// `tail_id` maps columns to tail ids (-1: not a tail column). `cols` entries.
std::vector<std::int32_t> column_codes(const HeadTailSplit& split,
                                       const std::vector<std::int32_t>& tail_id, std::int64_t cols);

/// Rows split for the tile loops: head entries as (slot, value) so a dense head
/// row is a memset and a short scatter, and tail entries with their columns
/// mapped through a backend-chosen `tail_id` (entries mapped to -1 dropped;
/// each row's entries sorted by the mapped id).
struct SplitRows {
  CsrMatrix head;  ///< indices = head slots, `cols` = D.
  CsrMatrix tail;  ///< indices = tail ids, `cols` = number of tail ids.
  std::size_t bytes() const { return head.bytes() + tail.bytes(); }
};

/// Split the rows of `x` in parallel (`threads` workers). With `sort_tail` false
/// a row's tail entries keep the column order even where the ids do not (for
/// rows only ever read into an inverted index, where the order is irrelevant).
SplitRows split_rows(const CsrView& x, const HeadTailSplit& split,
                     const std::vector<std::int32_t>& tail_id, std::int32_t tail_ids, int threads,
                     bool sort_tail = true);

/// One tile: rows [row_begin, row_end) × columns [col_begin, col_end).
struct Tile {
  std::int64_t row_begin = 0, row_end = 0, col_begin = 0, col_end = 0;
  bool diagonal() const { return row_begin == col_begin; }
};

/// Order in which a plan lists its tiles.
enum class TileOrder {
  /// Row block by row block, columns increasing (the CUDA engine deals these
  /// round-robin to its devices and seeds a strip's lists on its first tile).
  kRowMajor,
  /// Consecutive tiles touch different blocks, so concurrent workers rarely wait
  /// on the same block's lists: self-join, the diagonal tiles, then the rounds of a
  /// round-robin tournament (circle method) of the blocks; cross join, column
  /// blocks outer, row blocks inner.
  kSpread,
};

/// Tiles covering a self-join (only tiles on and above the diagonal, square) or
/// a cross join (the whole rectangle), in the given order.
struct TilePlan {
  std::int64_t tile_rows = 0, tile_cols = 0;
  std::vector<Tile> tiles;
  std::int64_t pairs = 0;  ///< Pairs the plan evaluates (unordered pairs for a self-join).
  /// Pairs of one tile of this plan (a diagonal tile of a self-join: its upper triangle).
  std::int64_t tile_pairs(const Tile& t, bool self_join) const;
};

TilePlan plan_tiles(std::int64_t rows, std::int64_t cols, bool self_join, std::int64_t tile_rows,
                    std::int64_t tile_cols, TileOrder order = TileOrder::kRowMajor);

/// Largest tile edge (multiple of 64, at least 64) whose working set fits in
/// `budget_bytes` for `workers` concurrent tiles: a score tile of edge² floats
/// plus the dense head blocks (2 × edge × head_dim floats) per worker.
std::int64_t tile_edge_for_budget(std::size_t budget_bytes, int head_dim, int workers);

/// Throws UsageError unless queries and references share the same columns.
void check_cross_join_shapes(const CsrView& queries, const CsrView& references);

/// Bytes of physical memory currently available on the host (MemAvailable).
std::size_t host_available_memory();

}  // namespace papersim::detail
