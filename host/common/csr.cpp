#include "papersim/csr.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ostream>
#include <string>

#include "common/util.hpp"
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

CsrView CsrView::row_range(std::int64_t begin, std::int64_t end) const {
  if (begin < 0 || end > rows || begin > end) throw Error("row_range: range out of bounds");
  return {end - begin, cols, indptr + begin, indices, data};
}

ColumnBlocksView ColumnBlocks::view() const {
  ColumnBlocksView v;
  v.block_rows = block_rows;
  v.blocks = blocks();
  v.term_offsets = term_offsets.data();
  v.terms = terms.data();
  v.starts = starts.data();
  v.rows = rows.data();
  v.values = values.data();
  return v;
}

ColumnBlocks build_column_blocks(const CsrView& x, std::int64_t block_rows, int threads) {
  if (block_rows < 1 || block_rows > kMaxColumnBlockRows)
    throw Error("column blocks: block_rows " + std::to_string(block_rows) + " outside [1, " +
                std::to_string(kMaxColumnBlockRows) + "]");
  ColumnBlocks out;
  out.block_rows = block_rows;
  const std::int64_t blocks = (x.rows + block_rows - 1) / block_rows;
  const std::int64_t base = x.indptr[0];
  const auto block_range = [&](std::int64_t b) {
    const std::int64_t r0 = b * block_rows;
    return std::make_pair(r0, std::min(r0 + block_rows, x.rows));
  };
  const int workers = resolve_threads(threads);
  // Per worker: a count (then cursor) per column, zero between blocks.
  std::vector<std::vector<std::uint32_t>> count(static_cast<std::size_t>(workers));
  std::vector<std::vector<std::int32_t>> touched(static_cast<std::size_t>(workers));
  const auto columns_of = [&](std::int64_t b, int w) -> std::vector<std::int32_t>& {
    std::vector<std::uint32_t>& cnt = count[w];
    if (cnt.size() != static_cast<std::size_t>(x.cols))
      cnt.assign(static_cast<std::size_t>(x.cols), 0);
    std::vector<std::int32_t>& t = touched[w];
    t.clear();
    const auto [r0, r1] = block_range(b);
    if (x.indptr[r1] - x.indptr[r0] > std::int64_t{0xffffffff})
      throw Error("column blocks: a block of " + std::to_string(block_rows) +
                  " rows holds more than 2^32 - 1 entries");
    for (std::int64_t p = x.indptr[r0]; p < x.indptr[r1]; ++p)
      if (cnt[x.indices[p]]++ == 0) t.push_back(x.indices[p]);
    std::sort(t.begin(), t.end());
    return t;
  };
  // Pass 1: each block's column count, for the offsets.
  std::vector<std::uint64_t> columns(static_cast<std::size_t>(blocks));
  parallel_for_worker(blocks, workers, [&](std::int64_t b, int w) {
    std::vector<std::int32_t>& t = columns_of(b, w);
    columns[b] = t.size();
    for (std::int32_t c : t) count[w][c] = 0;
  });
  out.term_offsets.assign(static_cast<std::size_t>(blocks + 1), 0);
  for (std::int64_t b = 0; b < blocks; ++b)
    out.term_offsets[b + 1] = out.term_offsets[b] + columns[b];
  out.terms.resize(out.term_offsets.back());
  out.starts.resize(out.term_offsets.back());
  out.rows.resize(static_cast<std::size_t>(x.indptr[x.rows] - base));
  out.values.resize(out.rows.size());
  // Pass 2: columns, starts and postings, each block in place.
  parallel_for_worker(blocks, workers, [&](std::int64_t b, int w) {
    std::vector<std::int32_t>& t = columns_of(b, w);
    std::vector<std::uint32_t>& cnt = count[w];
    const std::uint64_t e0 = out.term_offsets[b];
    std::uint32_t at = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      out.terms[e0 + i] = t[i];
      out.starts[e0 + i] = at;
      const std::uint32_t n = cnt[t[i]];
      cnt[t[i]] = at;  // now the column's cursor
      at += n;
    }
    const auto [r0, r1] = block_range(b);
    const std::int64_t p0 = x.indptr[r0];
    std::uint16_t* rows = out.rows.data() + (p0 - base);
    float* values = out.values.data() + (p0 - base);
    for (std::int64_t r = r0; r < r1; ++r)
      for (std::int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
        const std::uint32_t i = cnt[x.indices[p]]++;
        rows[i] = static_cast<std::uint16_t>(r - r0);
        values[i] = x.data[p];
      }
    for (std::int32_t c : t) cnt[c] = 0;
  });
  return out;
}

CsrView CsrMatrix::view() const { return {rows, cols, indptr.data(), indices.data(), data.data()}; }

CsrMatrix to_matrix(const CsrView& v) {
  CsrMatrix out;
  out.rows = v.rows;
  out.cols = v.cols;
  out.indptr.resize(v.rows + 1);
  const std::int64_t lo = v.rows > 0 ? v.indptr[0] : 0;
  for (std::int64_t r = 0; r <= v.rows; ++r) out.indptr[r] = v.rows > 0 ? v.indptr[r] - lo : 0;
  const std::int64_t n = v.nnz();
  out.indices.assign(v.indices + lo, v.indices + lo + n);
  out.data.assign(v.data + lo, v.data + lo + n);
  return out;
}

void append_rows(CsrMatrix& x, const CsrView& rows) {
  if (rows.rows == 0) return;
  const std::int64_t lo = rows.indptr[0], shift = x.nnz() - lo;
  x.indices.insert(x.indices.end(), rows.indices + lo, rows.indices + rows.indptr[rows.rows]);
  x.data.insert(x.data.end(), rows.data + lo, rows.data + rows.indptr[rows.rows]);
  for (std::int64_t r = 1; r <= rows.rows; ++r) x.indptr.push_back(rows.indptr[r] + shift);
  x.rows += rows.rows;
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

float exact_dot(const CsrView& a, std::int64_t i, const CsrView& b, std::int64_t j) {
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
  // to_chars (shortest round-trip float) instead of printf: this file is written
  // for every vectorize run and printf dominated its cost.
  std::string buf;
  buf.reserve(1 << 20);
  char num[64];
  for (std::int64_t r = 0; r < m.rows; ++r) {
    char row_text[24];
    const auto row_end = std::to_chars(row_text, row_text + sizeof(row_text), r + 1).ptr;
    for (std::int64_t p = m.indptr[r]; p < m.indptr[r + 1]; ++p) {
      buf.append(row_text, row_end);
      buf.push_back(' ');
      buf.append(num, std::to_chars(num, num + sizeof(num), m.indices[p] + 1).ptr);
      buf.push_back(' ');
      buf.append(num, std::to_chars(num, num + sizeof(num), m.data[p]).ptr);
      buf.push_back('\n');
    }
    if (buf.size() > (1u << 20) - 256) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace papersim
