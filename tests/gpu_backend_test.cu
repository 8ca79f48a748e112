// Whole-backend parity of the CUDA engine with brute force and with the CPU
// backend: random matrices of varied shapes, ties, zero rows, large k, tiny
// tiles (many tiles and merges), self and cross joins. Skips without a device.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "../bench/gpu/gpu_bench_util.hpp"
#include "cuda/cuda_backend.hpp"
#include "papersim/error.hpp"
#include "papersim/similarity.hpp"
#include "sim/cpu_backend.hpp"
#include "sim/finalize.hpp"
#include "sim_test_util.hpp"

namespace papersim {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (cuda::list_devices().empty()) GTEST_SKIP() << "no CUDA device visible"

void expect_same(const SimilarityResult& want, const SimilarityResult& got,
                 const std::string& what) {
  ASSERT_EQ(want.topk.size(), got.topk.size()) << what;
  for (std::size_t i = 0; i < want.topk.size(); ++i) {
    ASSERT_EQ(want.topk[i].size(), got.topk[i].size()) << what << " row " << i;
    for (std::size_t j = 0; j < want.topk[i].size(); ++j) {
      ASSERT_EQ(want.topk[i][j].doc, got.topk[i][j].doc) << what << " row " << i << " rank " << j;
      ASSERT_EQ(want.topk[i][j].score, got.topk[i][j].score)
          << what << " row " << i << " rank " << j;
    }
  }
  ASSERT_EQ(want.pairs.size(), got.pairs.size()) << what;
  for (std::size_t p = 0; p < want.pairs.size(); ++p) {
    ASSERT_EQ(want.pairs[p].a, got.pairs[p].a) << what << " pair " << p;
    ASSERT_EQ(want.pairs[p].b, got.pairs[p].b) << what << " pair " << p;
    ASSERT_EQ(want.pairs[p].score, got.pairs[p].score) << what << " pair " << p;
  }
}

struct Case {
  testing::RandomSpec spec;
  std::int64_t k;
  float threshold;
  std::int64_t tile;
  int head_dim;
};

std::string describe(const Case& c) {
  return "rows=" + std::to_string(c.spec.rows) + " cols=" + std::to_string(c.spec.cols) +
         " k=" + std::to_string(c.k) + " thr=" + std::to_string(c.threshold) +
         " tile=" + std::to_string(c.tile) + " D=" + std::to_string(c.head_dim);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  testing::RandomSpec a;
  a.rows = 500;
  a.cols = 300;
  a.mean_nnz = 8;
  a.zero_rows = 0.05;
  a.duplicates = 0.05;
  out.push_back({a, 10, 0.3f, 64, -1});
  out.push_back({a, 10, 0.3f, 128, 0});   // all tail
  out.push_back({a, 3, -1.0f, 256, 64});  // top-k only
  out.push_back({a, 0, 0.5f, 96, 128});   // threshold only
  out.push_back({a, 600, 0.2f, 64, -1});  // k above the row count
  testing::RandomSpec ties = a;
  ties.levels = 3;
  ties.mean_nnz = 4;
  ties.cols = 40;
  ties.duplicates = 0.2;
  out.push_back({ties, 7, 0.6f, 64, 64});
  out.push_back({ties, 50, 0.6f, 128, -1});
  testing::RandomSpec wide;
  wide.rows = 900;
  wide.cols = 5000;
  wide.mean_nnz = 30;
  wide.skew = 1.1;
  out.push_back({wide, 10, 0.25f, 256, -1});
  out.push_back({wide, 200, -1.0f, 192, 256});
  return out;
}

TEST(GpuBackend, SelfJoinMatchesBruteForce) {
  SKIP_WITHOUT_GPU();
  auto gpu = cuda::make_cuda_backend();
  std::uint32_t seed = 100;
  for (const Case& c : cases()) {
    const CsrMatrix x = testing::random_matrix(c.spec, seed++);
    SimilarityParams p;
    p.k = c.k;
    p.threshold = c.threshold;
    p.tile = c.tile;
    p.head_dim = c.head_dim;
    const SimilarityResult want = detail::brute_force(x, nullptr, p);
    const SimilarityResult got = gpu->self_join(x, p);
    expect_same(want, got, "self " + describe(c));
    EXPECT_EQ(got.stats.zero_rows, want.stats.zero_rows);
    EXPECT_EQ(got.stats.pairs_evaluated, want.stats.pairs_evaluated);
  }
}

TEST(GpuBackend, CrossJoinMatchesBruteForce) {
  SKIP_WITHOUT_GPU();
  auto gpu = cuda::make_cuda_backend();
  std::uint32_t seed = 200;
  for (const Case& c : cases()) {
    const CsrMatrix q = testing::random_matrix(c.spec, seed++);
    testing::RandomSpec rs = c.spec;
    rs.rows = c.spec.rows * 3 / 2 + 7;
    const CsrMatrix r = testing::random_matrix(rs, seed++);
    SimilarityParams p;
    p.k = c.k;
    p.threshold = c.threshold;
    p.tile = c.tile;
    p.head_dim = c.head_dim;
    const SimilarityResult want = detail::brute_force(q, &r, p);
    const SimilarityResult got = gpu->cross_join(q, r, p);
    expect_same(want, got, "cross " + describe(c));
  }
}

// Every combination of the backend options must agree on its own: per-tile
// select-merge with the transpose (CudaSelect::kClassic, also the first
// tiles' path) or the one-pass filter, and the tail by global atomics (the
// default) or by per-row shared-memory sums (CudaTail::kRows).
TEST(GpuBackend, EarlierPathsMatchBruteForce) {
  SKIP_WITHOUT_GPU();
  using Select = BackendOptions::CudaSelect;
  using Tail = BackendOptions::CudaTail;
  for (const Select select : {Select::kClassic, Select::kFilter}) {
    for (const Tail tail : {Tail::kAtomic, Tail::kRows}) {
      BackendOptions options;
      options.cuda_select = select;
      options.cuda_tail = tail;
      auto gpu = cuda::make_cuda_backend(options);
      std::uint32_t seed = 300;
      for (const Case& c : cases()) {
        const CsrMatrix x = testing::random_matrix(c.spec, seed++);
        SimilarityParams p;
        p.k = c.k;
        p.threshold = c.threshold;
        p.tile = c.tile;
        p.head_dim = c.head_dim;
        expect_same(detail::brute_force(x, nullptr, p), gpu->self_join(x, p),
                    std::string(select == Select::kClassic ? "classic" : "filter") + "/" +
                        (tail == Tail::kRows ? "rows" : "atomic") + " " + describe(c));
      }
    }
  }
}

TEST(GpuBackend, MatchesCpuBackendWithMinScoreAndDefaultTiles) {
  SKIP_WITHOUT_GPU();
  testing::RandomSpec s;
  s.rows = 3000;
  s.cols = 2000;
  s.mean_nnz = 20;
  s.zero_rows = 0.01;
  s.duplicates = 0.02;
  const CsrMatrix x = testing::random_matrix(s, 7);
  SimilarityParams p;
  p.k = 10;
  p.threshold = 0.4f;
  p.min_score = 0.1f;
  auto cpu = detail::make_cpu_backend();
  auto gpu = cuda::make_cuda_backend();
  expect_same(cpu->self_join(x, p), gpu->self_join(x, p), "default tiles");
  p.memory_budget = 64 * 64 * 16;  // the smallest tiles the budget allows
  expect_same(cpu->self_join(x, p), gpu->self_join(x, p), "tiny budget");
}

TEST(GpuBackend, EdgeCases) {
  SKIP_WITHOUT_GPU();
  auto gpu = cuda::make_cuda_backend();
  SimilarityParams p;
  p.k = 5;
  p.threshold = 0.5f;
  CsrMatrix empty;
  empty.cols = 10;
  auto r = gpu->self_join(empty, p);
  EXPECT_TRUE(r.topk.empty());
  EXPECT_TRUE(r.pairs.empty());
  testing::RandomSpec z;
  z.rows = 50;
  z.cols = 20;
  z.zero_rows = 1.0;
  const CsrMatrix zeros = testing::random_matrix(z, 3);
  r = gpu->self_join(zeros, p);
  EXPECT_EQ(r.stats.zero_rows, 50);
  for (auto& l : r.topk) EXPECT_TRUE(l.empty());
  EXPECT_TRUE(r.pairs.empty());
  testing::RandomSpec one;
  one.rows = 1;
  one.cols = 5;
  const CsrMatrix single = testing::random_matrix(one, 4);
  r = gpu->self_join(single, p);
  ASSERT_EQ(r.topk.size(), 1u);
  EXPECT_TRUE(r.topk[0].empty());
  p.devices = {99};
  EXPECT_THROW(gpu->self_join(single, p), UsageError);
}

// Real abstracts: PAPERSIM_GPU_PARITY_MTX names Matrix Market (.mtx) or raw
// CSR (.csrbin) files, separated by ':', made by bench/gpu/make_inputs.py
// (bench/gpu/run.sh makes the seeds and arxiv-daily ones); compared with the
// CPU backend with the default tiles and with small ones (many merges).
TEST(GpuBackend, RealAbstractsMatchCpu) {
  SKIP_WITHOUT_GPU();
  const char* paths = std::getenv("PAPERSIM_GPU_PARITY_MTX");
  if (!paths || !*paths) GTEST_SKIP() << "PAPERSIM_GPU_PARITY_MTX not set";
  std::string all = paths;
  auto cpu = detail::make_cpu_backend();
  auto gpu = cuda::make_cuda_backend();
  for (std::size_t at = 0; at <= all.size();) {
    std::size_t end = all.find(':', at);
    if (end == std::string::npos) end = all.size();
    const std::string path = all.substr(at, end - at);
    at = end + 1;
    if (path.empty()) continue;
    const CsrMatrix x = bench::load_matrix(path);
    SimilarityParams p;
    p.k = 10;
    p.threshold = 0.5f;
    const SimilarityResult want = cpu->self_join(x, p);
    const SimilarityResult got = gpu->self_join(x, p);
    expect_same(want, got, path);
    std::printf(
        "%s: %lld rows, %zu pairs >= 0.5, GPU %.3f s (rescored %lld, fallback rows %lld), CPU %.3f "
        "s\n",
        path.c_str(), static_cast<long long>(x.rows), got.pairs.size(), got.stats.seconds,
        static_cast<long long>(got.stats.rescored), static_cast<long long>(got.stats.fallback_rows),
        want.stats.seconds);
    p.tile = x.rows > 20000 ? 2048 : 128;
    expect_same(want, gpu->self_join(x, p), path + " small tiles");
  }
}

}  // namespace
}  // namespace papersim
