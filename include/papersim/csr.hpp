#pragma once
/// @file csr.hpp
/// @brief Compressed sparse row matrix: the TF-IDF vectors handed to the similarity backends.

#include <cstdint>
#include <iosfwd>
#include <vector>

namespace papersim {

/// Non-owning view of rows of a CSR matrix (or of a mapped index file).
/// `indptr` has `rows + 1` entries that index `indices`/`data` directly; they need
/// not start at 0, so a row range of a larger matrix is a pointer shift of
/// `indptr` and never a copy. Row `r`'s entries are
/// `indices[indptr[r] .. indptr[r+1])` and `data[...]` likewise.
struct CsrView {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  const std::int64_t* indptr = nullptr;
  const std::int32_t* indices = nullptr;
  const float* data = nullptr;

  std::int64_t nnz() const { return rows > 0 ? indptr[rows] - indptr[0] : 0; }
  std::int64_t row_nnz(std::int64_t r) const { return indptr[r + 1] - indptr[r]; }
  /// Rows [begin, end) of this view, same columns, no copy.
  /// @throws papersim::Error when the range is out of bounds.
  CsrView row_range(std::int64_t begin, std::int64_t end) const;
};

/// Row-major sparse matrix, `rows` × `cols`.
/// - `indptr` has `rows + 1` 64-bit offsets (corpora may exceed 2^31 non-zeros);
/// - `indices[indptr[r] .. indptr[r+1])` are the row's column ids, strictly increasing;
/// - `data` holds the matching float32 values.
/// TF-IDF rows are L2-normalized (or all zero for a document without terms).
struct CsrMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int32_t> indices;
  std::vector<float> data;

  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
  std::int64_t row_nnz(std::int64_t r) const { return indptr[r + 1] - indptr[r]; }
  /// Bytes held by the three arrays.
  std::size_t bytes() const {
    return indptr.size() * sizeof(std::int64_t) + indices.size() * sizeof(std::int32_t) +
           data.size() * sizeof(float);
  }
  /// Rows [begin, end) as a new matrix with the same columns.
  CsrMatrix slice_rows(std::int64_t begin, std::int64_t end) const;
  /// Throws papersim::Error unless the shape, offsets and sorted indices are consistent.
  void validate() const;
  /// The whole matrix as a non-owning view (valid while the matrix is alive and unchanged).
  CsrView view() const;
};

/// Non-owning view of a CSR matrix's rows inverted by blocks: the rows are cut
/// into consecutive blocks of `block_rows` rows (the last one shorter), and each
/// block lists its distinct columns in increasing order with, per column, the
/// block's entries of that column as (row offset within the block, value) in
/// increasing row order. A saved index stores this next to its rows, so a cross
/// join against the index reads each block's inverted form instead of building
/// it from the rows in every run.
///
/// Shapes, for a matrix of Z entries cut into B blocks holding C block columns:
/// - `term_offsets`: B + 1 ascending offsets into `terms`/`starts`, from 0 to C;
///   block b's columns are entries [term_offsets[b], term_offsets[b + 1]);
/// - `terms`: C column ids, strictly increasing within each block;
/// - `starts`: C posting offsets relative to the block's first entry (the CSR
///   position indptr[b · block_rows]); a column's postings end where the next
///   column's start, the block's last column's at the block's entry count;
/// - `rows`, `values`: Z postings, block by block at the block's CSR positions.
struct ColumnBlocksView {
  std::int64_t block_rows = 0;  ///< 0: no blocks.
  std::int64_t blocks = 0;
  const std::uint64_t* term_offsets = nullptr;
  const std::int32_t* terms = nullptr;
  const std::uint32_t* starts = nullptr;
  const std::uint16_t* rows = nullptr;
  const float* values = nullptr;
  /// Optional: called once a reader is done with block `block`, whose postings
  /// are the `entries` from position `first_entry`, so the owner can drop its
  /// pages (a mapped index hands them back to the page cache). Null: nothing.
  void (*release)(const ColumnBlocksView& blocks, std::int64_t block, std::int64_t first_entry,
                  std::int64_t entries) = nullptr;
  /// Optional: the owner's verification of the blocks, deferred until a reader
  /// needs them (a mapped index checks its blocks only for a run that reads
  /// them). Throws when they are corrupt; the checks run once however often it
  /// is called. Null: nothing left to verify.
  void (*verify)(const ColumnBlocksView& blocks) = nullptr;
  /// The owner's state, for `verify`.
  const void* owner = nullptr;
  /// Run `verify`, if any: every reader calls this before reading the postings.
  void ensure_verified() const {
    if (verify != nullptr) verify(*this);
  }
  bool empty() const { return blocks == 0; }
  /// Whether these are the blocks of a matrix of `matrix_rows` rows (block count).
  bool covers(std::int64_t matrix_rows) const {
    return block_rows > 0 && blocks == (matrix_rows + block_rows - 1) / block_rows;
  }
};

/// Owning column blocks (see ColumnBlocksView).
struct ColumnBlocks {
  std::int64_t block_rows = 0;
  std::vector<std::uint64_t> term_offsets{0};
  std::vector<std::int32_t> terms;
  std::vector<std::uint32_t> starts;
  std::vector<std::uint16_t> rows;
  std::vector<float> values;
  std::int64_t blocks() const { return static_cast<std::int64_t>(term_offsets.size()) - 1; }
  ColumnBlocksView view() const;
};

/// Most rows a column block may have: row offsets are 16-bit.
inline constexpr std::int64_t kMaxColumnBlockRows = 65536;

/// Column blocks of the rows of `x`, built on `threads` workers; the postings
/// sit at the entries' positions relative to x.indptr[0].
/// @throws papersim::Error for block_rows outside [1, kMaxColumnBlockRows].
ColumnBlocks build_column_blocks(const CsrView& x, std::int64_t block_rows, int threads);

/// Copy of a view's rows as an owning matrix with offsets starting at 0.
CsrMatrix to_matrix(const CsrView& v);

/// Append the rows of `rows` (same columns) to `x`, their offsets shifted past
/// x's entries.
void append_rows(CsrMatrix& x, const CsrView& rows);

/// Canonical cosine score of row `i` of `a` and row `j` of `b`: the float64 sum,
/// in increasing column order, of the float32 products, rounded to float.
/// Every backend reports this value, so scores and ties agree bit for bit.
float exact_dot(const CsrView& a, std::int64_t i, const CsrView& b, std::int64_t j);
inline float exact_dot(const CsrMatrix& a, std::int64_t i, const CsrMatrix& b, std::int64_t j) {
  return exact_dot(a.view(), i, b.view(), j);
}

/// Write a Matrix Market coordinate file (1-based; rows = documents, columns = terms).
void write_matrix_market(const CsrMatrix& m, std::ostream& out);

}  // namespace papersim
