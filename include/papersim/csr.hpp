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

/// Copy of a view's rows as an owning matrix with offsets starting at 0.
CsrMatrix to_matrix(const CsrView& v);

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
