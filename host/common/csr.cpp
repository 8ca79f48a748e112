#include "papersim/csr.hpp"

#include <cstdio>
#include <ostream>
#include <string>

#include "papersim/error.hpp"

namespace papersim {

CsrMatrix CsrMatrix::slice_rows(std::int64_t begin, std::int64_t end) const {
  if (begin < 0 || end > rows || begin > end) throw Error("slice_rows: range out of bounds");
  CsrMatrix out;
  out.rows = end - begin;
  out.cols = cols;
  const std::int64_t lo = indptr[begin], hi = indptr[end];
  out.indptr.resize(out.rows + 1);
  for (std::int64_t r = 0; r <= out.rows; ++r) out.indptr[r] = indptr[begin + r] - lo;
  out.indices.assign(indices.begin() + lo, indices.begin() + hi);
  out.data.assign(data.begin() + lo, data.begin() + hi);
  return out;
}

void CsrMatrix::validate() const {
  if (rows < 0 || cols < 0) throw Error("CSR: negative shape");
  if (static_cast<std::int64_t>(indptr.size()) != rows + 1)
    throw Error("CSR: indptr size != rows + 1");
  if (indptr[0] != 0 || indptr[rows] != nnz())
    throw Error("CSR: indptr does not span the non-zeros");
  if (data.size() != indices.size()) throw Error("CSR: data and indices differ in length");
  for (std::int64_t r = 0; r < rows; ++r) {
    if (indptr[r + 1] < indptr[r]) throw Error("CSR: indptr decreases at row " + std::to_string(r));
    for (std::int64_t p = indptr[r]; p < indptr[r + 1]; ++p) {
      if (indices[p] < 0 || indices[p] >= cols)
        throw Error("CSR: column out of range in row " + std::to_string(r));
      if (p > indptr[r] && indices[p] <= indices[p - 1])
        throw Error("CSR: unsorted columns in row " + std::to_string(r));
    }
  }
}

float exact_dot(const CsrMatrix& a, std::int64_t i, const CsrMatrix& b, std::int64_t j) {
  std::int64_t p = a.indptr[i], pe = a.indptr[i + 1];
  std::int64_t q = b.indptr[j], qe = b.indptr[j + 1];
  double sum = 0.0;
  while (p < pe && q < qe) {
    const std::int32_t ca = a.indices[p], cb = b.indices[q];
    if (ca == cb) {
      // The product of two floats is exact in double, so the sum depends only on the order.
      sum += static_cast<double>(a.data[p]) * static_cast<double>(b.data[q]);
      ++p;
      ++q;
    } else if (ca < cb) {
      ++p;
    } else {
      ++q;
    }
  }
  return static_cast<float>(sum);
}

void write_matrix_market(const CsrMatrix& m, std::ostream& out) {
  out << "%%MatrixMarket matrix coordinate real general\n";
  out << "% rows = documents (doc + 1), columns = vocabulary index + 1\n";
  out << m.rows << ' ' << m.cols << ' ' << m.nnz() << '\n';
  std::string line;
  char buf[64];
  for (std::int64_t r = 0; r < m.rows; ++r) {
    for (std::int64_t p = m.indptr[r]; p < m.indptr[r + 1]; ++p) {
      // %.9g round-trips float32.
      int n = std::snprintf(buf, sizeof(buf), "%lld %d %.9g\n", static_cast<long long>(r + 1),
                            m.indices[p] + 1, static_cast<double>(m.data[p]));
      out.write(buf, n);
    }
  }
}

}  // namespace papersim
