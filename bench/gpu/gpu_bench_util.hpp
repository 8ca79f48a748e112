#pragma once
// Shared by the GPU benchmarks: a TF-IDF-like random matrix with realistic
// statistics, and a loader for matrices written by papersim or by
// bench/gpu/make_inputs.py.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "papersim/csr.hpp"

namespace papersim::bench {

/// Synthetic abstracts: `rows` documents of about `mean_nnz` distinct terms
/// drawn from a Zipf(1.0) vocabulary of `vocab` terms (so a few hundred terms
/// are in most documents, as in real abstracts), tf 1 + geometric, smooth idf
/// from the expected df, L2-normalized; `dup_fraction` of the rows are edited
/// copies of an earlier row (near-duplicates for the threshold pass).
inline CsrMatrix synthetic_tfidf(std::int64_t rows, std::int64_t vocab, double mean_nnz,
                                 double dup_fraction, std::uint32_t seed, int threads) {
  std::vector<double> cdf(static_cast<std::size_t>(vocab));
  double total = 0;
  for (std::int64_t t = 0; t < vocab; ++t) cdf[t] = (total += 1.0 / (t + 2.0));
  for (auto& c : cdf) c /= total;
  std::vector<float> idf(static_cast<std::size_t>(vocab));
  for (std::int64_t t = 0; t < vocab; ++t) {
    const double p = (t == 0 ? cdf[0] : cdf[t] - cdf[t - 1]);
    const double df = rows * (1.0 - std::exp(-mean_nnz * p));
    idf[t] = static_cast<float>(std::log((1.0 + rows) / (1.0 + df)) + 1.0);
  }
  threads = std::max(1, threads);
  const std::int64_t chunk = (rows + threads - 1) / threads;
  std::vector<std::vector<std::int32_t>> idx(threads);
  std::vector<std::vector<float>> val(threads);
  std::vector<std::vector<std::int64_t>> len(threads);
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w) {
    pool.emplace_back([&, w] {
      std::mt19937_64 rng(seed * 1000003ull + w);
      std::uniform_real_distribution<double> u(0, 1);
      std::lognormal_distribution<double> length(std::log(mean_nnz) - 0.08, 0.4);
      std::geometric_distribution<int> extra_tf(0.7);
      std::vector<std::pair<std::int32_t, float>> row, prev;
      const std::int64_t r0 = w * chunk, r1 = std::min(rows, r0 + chunk);
      for (std::int64_t r = r0; r < r1; ++r) {
        if (!prev.empty() && u(rng) < dup_fraction) {
          row = prev;  // a near-duplicate of the previous row: drop and add a few terms
          for (int e = 0; e < 3 && !row.empty(); ++e) row.erase(row.begin() + (rng() % row.size()));
          for (int e = 0; e < 3; ++e) {
            const auto t = static_cast<std::int32_t>(
                std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
            row.push_back({std::min<std::int32_t>(t, vocab - 1), 1.0f});
          }
        } else {
          row.clear();
          const int n = std::max(1, static_cast<int>(length(rng)));
          for (int i = 0; i < n; ++i) {
            const auto t = static_cast<std::int32_t>(
                std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
            row.push_back(
                {std::min<std::int32_t>(t, vocab - 1), static_cast<float>(1 + extra_tf(rng))});
          }
        }
        std::sort(row.begin(), row.end());
        // Merge repeated terms (their tf adds up).
        std::vector<std::pair<std::int32_t, float>> merged;
        for (auto& e : row) {
          if (!merged.empty() && merged.back().first == e.first)
            merged.back().second += e.second;
          else
            merged.push_back(e);
        }
        double norm = 0;
        for (auto& e : merged) {
          e.second *= idf[e.first];
          norm += double(e.second) * e.second;
        }
        norm = std::sqrt(norm);
        for (auto& e : merged) {
          idx[w].push_back(e.first);
          val[w].push_back(static_cast<float>(e.second / norm));
        }
        len[w].push_back(static_cast<std::int64_t>(merged.size()));
        prev = row;
      }
    });
  }
  for (auto& t : pool) t.join();
  CsrMatrix m;
  m.rows = rows;
  m.cols = vocab;
  m.indptr.reserve(rows + 1);
  for (int w = 0; w < threads; ++w) {
    for (auto l : len[w]) m.indptr.push_back(m.indptr.back() + l);
    m.indices.insert(m.indices.end(), idx[w].begin(), idx[w].end());
    m.data.insert(m.data.end(), val[w].begin(), val[w].end());
    std::vector<std::int32_t>().swap(idx[w]);
    std::vector<float>().swap(val[w]);
  }
  return m;
}

/// Load a matrix: Matrix Market coordinate text (".mtx", as `papersim vectorize`
/// writes) or the raw binary CSR of make_inputs.py (".csrbin": int64 rows,
/// cols, nnz; int64 indptr[rows + 1]; int32 indices[nnz]; float32 data[nnz]).
inline CsrMatrix load_matrix(const std::string& path) {
  CsrMatrix m;
  if (path.size() > 7 && path.substr(path.size() - 7) == ".csrbin") {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::int64_t head[3];
    in.read(reinterpret_cast<char*>(head), sizeof head);
    m.rows = head[0];
    m.cols = head[1];
    m.indptr.resize(m.rows + 1);
    m.indices.resize(head[2]);
    m.data.resize(head[2]);
    in.read(reinterpret_cast<char*>(m.indptr.data()), m.indptr.size() * 8);
    in.read(reinterpret_cast<char*>(m.indices.data()), m.indices.size() * 4);
    in.read(reinterpret_cast<char*>(m.data.data()), m.data.size() * 4);
    if (!in) throw std::runtime_error(path + ": truncated");
    m.validate();
    return m;
  }
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) throw std::runtime_error(path + ": cannot open");
  char line[4096];
  long long rows = 0, cols = 0, nnz = 0;
  long long lineno = 0;
  while (std::fgets(line, sizeof line, f)) {
    ++lineno;
    if (line[0] == '%') continue;
    if (std::sscanf(line, "%lld %lld %lld", &rows, &cols, &nnz) != 3)
      throw std::runtime_error(path + ":" + std::to_string(lineno) + ": bad size line");
    break;
  }
  std::vector<std::vector<std::pair<std::int32_t, float>>> by_row(rows);
  for (long long e = 0; e < nnz; ++e) {
    long long r, c;
    double v;
    if (std::fscanf(f, "%lld %lld %lf", &r, &c, &v) != 3 || r < 1 || r > rows || c < 1 || c > cols)
      throw std::runtime_error(path + ":" + std::to_string(lineno + 1 + e) + ": bad entry");
    by_row[r - 1].push_back({static_cast<std::int32_t>(c - 1), static_cast<float>(v)});
  }
  std::fclose(f);
  m.rows = rows;
  m.cols = cols;
  for (auto& row : by_row) {
    std::sort(row.begin(), row.end());
    for (auto& [c, v] : row) {
      m.indices.push_back(c);
      m.data.push_back(v);
    }
    m.indptr.push_back(m.nnz());
  }
  m.validate();
  return m;
}

}  // namespace papersim::bench
