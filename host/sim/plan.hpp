#pragma once
// Shared planning for the similarity engines: the head/tail vocabulary split
// (dense block of the most frequent terms, sparse tail) and the tile schedule.
// The CPU backend multiplies the head with sgemm, the CUDA backend with fp16
// tensor cores; both add the tail and use the same tiles.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "papersim/csr.hpp"

namespace papersim::detail {

/// Head/tail split of the columns.
struct HeadTailSplit {
  int head_dim = 0;                      ///< D: number of head columns.
  std::vector<std::int32_t> head_terms;  ///< Head columns by decreasing df, ties by lower column.
  std::vector<std::int32_t> slot_of;  ///< Column -> head slot in [0, D), or -1 for a tail column.
};

/// Document frequency of every column over the rows of `a` and (if non-null) `b`.
std::vector<std::int64_t> column_df(const CsrMatrix& a, const CsrMatrix* b = nullptr);

/// Choose the split. `requested` >= 0 forces D (clamped to the column count);
/// -1 picks D by the cost model: per pair, a head column costs `head_cost` units
/// (dense multiply-add, cheap on BLAS or tensor cores) and a tail column costs
/// df^2 / (rows_a * rows_b) sparse products at `tail_cost` units each.
/// D is rounded to a multiple of 64 so GEMM tiles stay aligned.
HeadTailSplit choose_head_split(const std::vector<std::int64_t>& df, std::int64_t rows_a,
                                std::int64_t rows_b, int requested, double head_cost,
                                double tail_cost);

/// Dense head rows [begin, end) of `x`: row-major, `end - begin` × `split.head_dim`,
/// zeros where a row lacks a head term.
void fill_head_block(const CsrMatrix& x, const HeadTailSplit& split, std::int64_t begin,
                     std::int64_t end, float* out);

/// `x` without its head columns (column ids unchanged).
CsrMatrix tail_matrix(const CsrMatrix& x, const HeadTailSplit& split);

/// One tile: rows [row_begin, row_end) × columns [col_begin, col_end).
struct Tile {
  std::int64_t row_begin = 0, row_end = 0, col_begin = 0, col_end = 0;
  bool diagonal() const { return row_begin == col_begin; }
};

/// Tiles covering a self-join (only tiles on and above the diagonal) or a cross join.
struct TilePlan {
  std::int64_t tile_rows = 0, tile_cols = 0;
  std::vector<Tile> tiles;
  std::int64_t pairs = 0;  ///< Pairs the plan evaluates (unordered pairs for a self-join).
};

TilePlan plan_tiles(std::int64_t rows, std::int64_t cols, bool self_join, std::int64_t tile_rows,
                    std::int64_t tile_cols);

/// Largest tile edge (multiple of 64, at least 64) whose working set fits in
/// `budget_bytes` for `workers` concurrent tiles: a score tile of edge² floats
/// plus the dense head blocks (2 × edge × head_dim floats) per worker.
std::int64_t tile_edge_for_budget(std::size_t budget_bytes, int head_dim, int workers);

/// Throws UsageError unless queries and references share the same columns
/// (both backends' cross_join check it the same way).
void check_cross_join_shapes(const CsrMatrix& queries, const CsrMatrix& references);

/// Bytes of physical memory currently available on the host (MemAvailable).
std::size_t host_available_memory();

}  // namespace papersim::detail
