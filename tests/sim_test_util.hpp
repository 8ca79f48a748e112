#pragma once
// Random L2-normalized sparse matrices for the similarity tests.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "papersim/csr.hpp"

namespace papersim::testing {

struct RandomSpec {
  std::int64_t rows = 100;
  std::int64_t cols = 50;
  double mean_nnz = 5.0;    ///< Terms per row (geometric-ish).
  double zero_rows = 0.0;   ///< Fraction of rows without terms.
  double duplicates = 0.0;  ///< Fraction of rows copied from an earlier row (exact ties).
  int levels = 0;           ///< > 0: values drawn from this many levels (many equal scores).
  double skew = 1.0;        ///< Zipf-like exponent of column popularity (frequent head terms).
};

inline CsrMatrix random_matrix(const RandomSpec& spec, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // Column popularity ~ 1 / (rank + 1)^skew, so a few columns are in most rows.
  std::vector<double> weight(static_cast<std::size_t>(spec.cols));
  for (std::int64_t c = 0; c < spec.cols; ++c) weight[c] = 1.0 / std::pow(c + 1.0, spec.skew);
  std::discrete_distribution<std::int32_t> pick(weight.begin(), weight.end());
  std::poisson_distribution<int> count(spec.mean_nnz);
  CsrMatrix m;
  m.rows = spec.rows;
  m.cols = spec.cols;
  m.indptr.assign(1, 0);
  for (std::int64_t r = 0; r < spec.rows; ++r) {
    std::vector<std::pair<std::int32_t, float>> row;
    if (r > 0 && unit(rng) < spec.duplicates) {
      const std::int64_t src = static_cast<std::int64_t>(unit(rng) * r);
      for (std::int64_t p = m.indptr[src]; p < m.indptr[src + 1]; ++p)
        row.push_back({m.indices[p], m.data[p]});
    } else if (unit(rng) >= spec.zero_rows) {
      const int n = std::max(1, count(rng));
      std::set<std::int32_t> cols;
      for (int i = 0; i < n; ++i) cols.insert(pick(rng));
      double norm = 0.0;
      std::vector<double> vals;
      for (std::int32_t c : cols) {
        double v =
            spec.levels > 0 ? 1.0 + static_cast<int>(unit(rng) * spec.levels) : 0.05 + unit(rng);
        vals.push_back(v);
        norm += v * v;
      }
      norm = std::sqrt(norm);
      std::size_t i = 0;
      for (std::int32_t c : cols) row.push_back({c, static_cast<float>(vals[i++] / norm)});
    }
    for (const auto& [c, v] : row) {
      m.indices.push_back(c);
      m.data.push_back(v);
    }
    m.indptr.push_back(m.nnz());
  }
  return m;
}

}  // namespace papersim::testing
