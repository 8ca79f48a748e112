// CPU similarity engine benchmark.
//
// Two modes:
//   sim_bench [google-benchmark flags]
//       microbenchmarks of the CPU backend on random sparse matrices;
//   sim_bench --mtx X.mtx|X.csr [-k 10] [--threads N] [--head-dim D] [--tile E]
//             [--threshold T] [--sweep-head 0,64,128,...] [--out-topk FILE]
//             [--rows N (first N rows only)] [--queries Q] [--model-terms]
//             [--sweep-tile 512,1024,...]
//       one timed self-join of a Matrix Market file (rows = documents), as
//       bench/cpu_vs_sparse_dot_topn.py drives it. Prints one JSON line per run
//       with seconds, pairs/s, head_dim, tiles, working bytes and peak RSS.
//       --queries Q: cross join of rows [0, Q) against rows [Q, N) (row
//       ranges of the one matrix). --model-terms adds, per run, the cost
//       model's terms for the head size used (pairs·D, tail products, head
//       rows built·D, tiles): bench/calibrate_cost_model.py fits the CPU
//       constants to them.
//       --out-topk writes the top-k lists as binary: per row, k int64 docs
//       (-1 = none) then k float32 scores, for agreement checks.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/util.hpp"
#include "papersim/csr.hpp"
#include "papersim/error.hpp"
#include "papersim/similarity.hpp"
#include "sim/cpu_backend.hpp"
#include "sim/plan.hpp"

namespace {

using papersim::CsrMatrix;

// Matrix Market coordinate reader (real or integer, general), 1-based entries in
// any order; duplicate entries are an error. Rows become CSR rows.
CsrMatrix read_binary_csr(const std::string& path);

CsrMatrix read_mtx(const std::string& path) {
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".csr") == 0)
    return read_binary_csr(path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw papersim::InputError(path, 0, "cannot open");
  std::string text;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  std::fclose(f);
  const char* p = text.c_str();
  const char* end = p + text.size();
  std::int64_t line = 0;
  auto next_line = [&]() {
    while (p < end && *p != '\n') ++p;
    if (p < end) ++p;
    ++line;
  };
  if (text.rfind("%%MatrixMarket matrix coordinate", 0) != 0) {
    throw papersim::InputError(path, 1, "not a Matrix Market coordinate file");
  }
  while (p < end && *p == '%') next_line();
  char* q;
  const long long rows = std::strtoll(p, &q, 10);
  const long long cols = std::strtoll(q, &q, 10);
  const long long nnz = std::strtoll(q, &q, 10);
  if (q == p || rows < 0 || cols < 0 || nnz < 0)
    throw papersim::InputError(path, line + 1, "bad size line");
  p = q;
  next_line();
  std::vector<std::int64_t> r(static_cast<std::size_t>(nnz));
  std::vector<std::int32_t> c(static_cast<std::size_t>(nnz));
  std::vector<float> v(static_cast<std::size_t>(nnz));
  for (long long e = 0; e < nnz; ++e) {
    const long long ri = std::strtoll(p, &q, 10);
    const long long ci = std::strtoll(q, &q, 10);
    const float vi = std::strtof(q, &q);
    if (q == p || ri < 1 || ri > rows || ci < 1 || ci > cols) {
      throw papersim::InputError(path, line + 1, "bad entry");
    }
    r[e] = ri - 1;
    c[e] = static_cast<std::int32_t>(ci - 1);
    v[e] = vi;
    p = q;
    next_line();
  }
  CsrMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.assign(static_cast<std::size_t>(rows + 1), 0);
  for (long long e = 0; e < nnz; ++e) ++m.indptr[r[e] + 1];
  for (long long i = 0; i < rows; ++i) m.indptr[i + 1] += m.indptr[i];
  m.indices.resize(static_cast<std::size_t>(nnz));
  m.data.resize(static_cast<std::size_t>(nnz));
  std::vector<std::int64_t> at(m.indptr.begin(), m.indptr.end() - 1);
  for (long long e = 0; e < nnz; ++e) {
    const std::int64_t k = at[r[e]]++;
    m.indices[k] = c[e];
    m.data[k] = v[e];
  }
  // Sort each row's columns (writers may emit them in any order).
  for (long long i = 0; i < rows; ++i) {
    std::vector<std::pair<std::int32_t, float>> row;
    for (std::int64_t k = m.indptr[i]; k < m.indptr[i + 1]; ++k)
      row.push_back({m.indices[k], m.data[k]});
    std::sort(row.begin(), row.end());
    for (std::size_t k = 0; k < row.size(); ++k) {
      if (k > 0 && row[k].first == row[k - 1].first) {
        throw papersim::InputError(path, 0, "duplicate entry in row " + std::to_string(i + 1));
      }
      m.indices[m.indptr[i] + k] = row[k].first;
      m.data[m.indptr[i] + k] = row[k].second;
    }
  }
  m.validate();
  return m;
}

// Binary CSR written by cpu_vs_sparse_dot_topn.py: "PSCSR1\0\0", int64 rows, cols,
// nnz, then int64 indptr[rows + 1], int32 indices[nnz], float32 data[nnz]
// (little-endian). Loads in a fraction of a second where text takes seconds.
CsrMatrix read_binary_csr(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw papersim::InputError(path, 0, "cannot open");
  char magic[8];
  std::int64_t shape[3];
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(shape), sizeof(shape));
  if (!in || std::memcmp(magic, "PSCSR1", 6) != 0)
    throw papersim::InputError(path, 0, "not a PSCSR1 file");
  CsrMatrix m;
  m.rows = shape[0];
  m.cols = shape[1];
  m.indptr.resize(static_cast<std::size_t>(m.rows + 1));
  m.indices.resize(static_cast<std::size_t>(shape[2]));
  m.data.resize(static_cast<std::size_t>(shape[2]));
  in.read(reinterpret_cast<char*>(m.indptr.data()), m.indptr.size() * sizeof(std::int64_t));
  in.read(reinterpret_cast<char*>(m.indices.data()), m.indices.size() * sizeof(std::int32_t));
  in.read(reinterpret_cast<char*>(m.data.data()), m.data.size() * sizeof(float));
  if (!in) throw papersim::InputError(path, 0, "truncated");
  m.validate();
  return m;
}

// Peak resident set of this process image (VmHWM). getrusage's ru_maxrss is
// not used: Linux carries it across execve, so a child started by a large
// Python process would report the parent's peak.
std::size_t peak_rss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return papersim::peak_rss_bytes();
}

// User + system CPU time of the whole process (all threads).
double cpu_seconds() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// The cost model's four terms of a run with head size d, as JSON fields.
std::string model_terms_json(const papersim::CsrView& q, const papersim::CsrView& r, bool cross,
                             const papersim::SimilarityParams& params, int d) {
  namespace det = papersim::detail;
  const std::vector<std::int64_t> df_q = det::column_df(q);
  const std::vector<std::int64_t> df_r = cross ? det::column_df(r) : std::vector<std::int64_t>();
  det::JoinShape shape;
  shape.rows_q = q.rows;
  shape.rows_r = r.rows;
  shape.self_join = !cross;
  shape.tile_edges = [&](int h) {
    const std::int64_t e = det::cpu_tile_edge(params, h, q.rows, r.rows, 0);
    return std::make_pair(e, e);
  };
  const det::HeadTailSplit split =
      det::choose_head_split(df_q, cross ? &df_r : nullptr, shape, d, det::cpu_cost_model());
  double products = 0;
  for (std::size_t c = 0; c < df_q.size(); ++c) {
    if (split.slot_of[c] >= 0) continue;
    const double a = static_cast<double>(df_q[c]);
    products += cross ? a * static_cast<double>(df_r[c]) : a * (a - 1) / 2;
  }
  auto term = [&](double head, double tail, double head_row, double tile, double p) {
    det::CostModel c{head, tail, head_row, tile, 1};
    return det::estimated_cost(c, shape, d, p);
  };
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "{\"model_head\": %.6g, \"model_tail\": %.6g, \"model_head_rows\": %.6g, "
                "\"model_tiles\": %.6g, \"queries\": %lld, \"references\": %lld}\n",
                term(1, 0, 0, 0, 0), products, term(0, 0, 1, 0, 0), term(0, 0, 0, 1, 0),
                static_cast<long long>(q.rows), static_cast<long long>(r.rows));
  return buf;
}

int run_mtx(int argc, char** argv) {
  std::string mtx, out_topk, sweep, sweep_tile;
  std::int64_t rows_limit = 0, queries = 0;
  bool model_terms = false;
  papersim::SimilarityParams params;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw papersim::UsageError(a + " needs a value");
      return argv[++i];
    };
    if (a == "--mtx")
      mtx = value();
    else if (a == "-k")
      params.k = std::stoll(value());
    else if (a == "--threads")
      params.threads = std::stoi(value());
    else if (a == "--head-dim")
      params.head_dim = std::stoi(value());
    else if (a == "--tile")
      params.tile = std::stoll(value());
    else if (a == "--threshold")
      params.threshold = std::stof(value());
    else if (a == "--sweep-head")
      sweep = value();
    else if (a == "--sweep-tile")
      sweep_tile = value();
    else if (a == "--out-topk")
      out_topk = value();
    else if (a == "--rows")
      rows_limit = std::stoll(value());
    else if (a == "--queries")
      queries = std::stoll(value());
    else if (a == "--model-terms")
      model_terms = true;
    else
      throw papersim::UsageError("unknown argument " + a);
  }
  const auto t0 = std::chrono::steady_clock::now();
  CsrMatrix x = read_mtx(mtx);
  if (rows_limit > 0 && rows_limit < x.rows) x = x.slice_rows(0, rows_limit);
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "loaded %s: %lld x %lld, %lld non-zeros in %.1f s\n", mtx.c_str(),
               static_cast<long long>(x.rows), static_cast<long long>(x.cols),
               static_cast<long long>(x.nnz()), load_s);
  const std::size_t rss_before = peak_rss();

  std::vector<int> heads;
  if (sweep.empty()) {
    heads.push_back(params.head_dim);
  } else {
    std::stringstream ss(sweep);
    std::string item;
    while (std::getline(ss, item, ',')) heads.push_back(std::stoi(item));
  }
  std::vector<std::int64_t> tiles;
  if (sweep_tile.empty()) {
    tiles.push_back(params.tile);
  } else {
    std::stringstream ss(sweep_tile);
    std::string item;
    while (std::getline(ss, item, ',')) tiles.push_back(std::stoll(item));
  }
  std::vector<std::pair<int, std::int64_t>> runs;
  for (int h : heads)
    for (std::int64_t t : tiles) runs.push_back({h, t});
  auto backend = papersim::detail::make_cpu_backend();
  for (const auto& [h, tile] : runs) {
    params.head_dim = h;
    params.tile = tile;
    const double cpu0 = cpu_seconds();
    const papersim::CsrView all = x.view();
    const bool cross = queries > 0 && queries < x.rows;
    const papersim::CsrView qv = cross ? all.row_range(0, queries) : all;
    const papersim::CsrView rv = cross ? all.row_range(queries, x.rows) : all;
    papersim::SimilarityResult r =
        cross ? backend->cross_join(qv, rv, params) : backend->self_join(all, params);
    const double cpu = cpu_seconds() - cpu0;
    const auto& s = r.stats;
    if (model_terms) std::printf("%s", model_terms_json(qv, rv, cross, params, s.head_dim).c_str());
    std::printf(
        "{\"rows\": %lld, \"k\": %lld, \"threads\": %d, \"head_dim\": %d, \"tiles\": %lld, "
        "\"seconds\": %.3f, \"cpu_seconds\": %.3f, \"pairs\": %lld, \"pairs_per_s\": %.4g, "
        "\"fallback_rows\": %lld, "
        "\"rescored\": %lld, \"zero_rows\": %lld, \"threshold_pairs\": %zu, "
        "\"working_bytes\": %zu, \"input_peak_rss\": %zu, \"peak_rss\": %zu}\n",
        static_cast<long long>(x.rows), static_cast<long long>(params.k),
        papersim::resolve_threads(params.threads), s.head_dim, static_cast<long long>(s.tiles),
        s.seconds, cpu, static_cast<long long>(s.pairs_evaluated), s.pairs_evaluated / s.seconds,
        static_cast<long long>(s.fallback_rows), static_cast<long long>(s.rescored),
        static_cast<long long>(s.zero_rows), r.pairs.size(), s.peak_working_bytes, rss_before,
        peak_rss());
    std::fflush(stdout);
    if (!out_topk.empty() && h == runs.back().first && tile == runs.back().second) {
      std::ofstream out(out_topk, std::ios::binary);
      std::vector<std::int64_t> docs(static_cast<std::size_t>(params.k));
      std::vector<float> scores(static_cast<std::size_t>(params.k));
      for (const auto& list : r.topk) {
        std::fill(docs.begin(), docs.end(), -1);
        std::fill(scores.begin(), scores.end(), 0.0f);
        for (std::size_t n = 0; n < list.size(); ++n) {
          docs[n] = list[n].doc;
          scores[n] = list[n].score;
        }
        out.write(reinterpret_cast<const char*>(docs.data()), docs.size() * sizeof(std::int64_t));
        out.write(reinterpret_cast<const char*>(scores.data()), scores.size() * sizeof(float));
      }
      if (!out) throw papersim::Error("cannot write " + out_topk);
    }
  }
  return 0;
}

// Random abstracts-like matrix: Zipf column popularity, ~100 terms per row.
CsrMatrix random_corpus(std::int64_t rows, std::int64_t cols, int per_row, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<double> w(static_cast<std::size_t>(cols));
  for (std::int64_t c = 0; c < cols; ++c) w[c] = 1.0 / (c + 10.0);
  std::discrete_distribution<std::int32_t> pick(w.begin(), w.end());
  std::uniform_real_distribution<float> val(0.1f, 1.0f);
  CsrMatrix m;
  m.rows = rows;
  m.cols = cols;
  for (std::int64_t r = 0; r < rows; ++r) {
    std::vector<std::int32_t> c;
    for (int i = 0; i < per_row; ++i) c.push_back(pick(rng));
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    std::vector<float> v;
    double norm = 0.0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      v.push_back(val(rng));
      norm += static_cast<double>(v.back()) * v.back();
    }
    for (std::size_t i = 0; i < c.size(); ++i) {
      m.indices.push_back(c[i]);
      m.data.push_back(static_cast<float>(v[i] / std::sqrt(norm)));
    }
    m.indptr.push_back(m.nnz());
  }
  return m;
}

void BM_CpuSelfJoin(benchmark::State& state) {
  const CsrMatrix x = random_corpus(state.range(0), 20000, 100, 1);
  papersim::SimilarityParams p;
  p.k = 10;
  p.threshold = 0.8f;
  p.head_dim = static_cast<int>(state.range(1));
  auto backend = papersim::detail::make_cpu_backend();
  std::int64_t pairs = 0;
  for (auto _ : state) {
    auto r = backend->self_join(x, p);
    pairs += r.stats.pairs_evaluated;
    state.counters["head_dim"] = r.stats.head_dim;
  }
  state.counters["pairs/s"] =
      benchmark::Counter(static_cast<double>(pairs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CpuSelfJoin)
    ->Args({4000, -1})
    ->Args({4000, 0})
    ->Args({4000, 256})
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mtx") == 0) {
      try {
        return run_mtx(argc, argv);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sim_bench: %s\n", e.what());
        return 2;
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
