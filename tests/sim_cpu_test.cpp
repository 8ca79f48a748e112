// The CPU backend against brute force: identical lists, scores and pairs on
// random matrices of many shapes, with tiny tiles so tiling and merging run.
#include <gtest/gtest.h>

#include <atomic>

#include "papersim/error.hpp"
#include "papersim/similarity.hpp"
#include "sim/cpu_backend.hpp"
#include "sim/finalize.hpp"
#include "sim_test_util.hpp"

namespace papersim::detail {
namespace {

void expect_same(const SimilarityResult& got, const SimilarityResult& want,
                 const std::string& what) {
  ASSERT_EQ(got.topk.size(), want.topk.size()) << what;
  for (std::size_t i = 0; i < want.topk.size(); ++i) {
    ASSERT_EQ(got.topk[i].size(), want.topk[i].size()) << what << " row " << i;
    for (std::size_t n = 0; n < want.topk[i].size(); ++n) {
      ASSERT_EQ(got.topk[i][n].doc, want.topk[i][n].doc) << what << " row " << i << " rank " << n;
      ASSERT_EQ(got.topk[i][n].score, want.topk[i][n].score)
          << what << " row " << i << " rank " << n;
    }
  }
  ASSERT_EQ(got.pairs.size(), want.pairs.size()) << what;
  for (std::size_t p = 0; p < want.pairs.size(); ++p) {
    ASSERT_EQ(got.pairs[p].a, want.pairs[p].a) << what << " pair " << p;
    ASSERT_EQ(got.pairs[p].b, want.pairs[p].b) << what << " pair " << p;
    ASSERT_EQ(got.pairs[p].score, want.pairs[p].score) << what << " pair " << p;
  }
}

// A two-sided cross join's other direction: the references' lists among the
// queries, against the reversed cross join's brute force.
void expect_reference_side(SimilarityResult& got, const CsrMatrix& q, const CsrMatrix& r,
                           const SimilarityParams& p, const std::string& what) {
  SimilarityParams rp = p;
  rp.threshold = -1.0f;
  SimilarityResult reverse;
  reverse.topk = std::move(got.reference_topk);
  expect_same(reverse, brute_force(r, &q, rp), what);
}

struct Case {
  testing::RandomSpec spec;
  std::int64_t k;
  float threshold;
  float min_score;
  int head_dim;
  std::int64_t tile;
};

std::string describe(const Case& c) {
  return "rows=" + std::to_string(c.spec.rows) + " cols=" + std::to_string(c.spec.cols) +
         " nnz=" + std::to_string(c.spec.mean_nnz) + " k=" + std::to_string(c.k) +
         " thr=" + std::to_string(c.threshold) + " min=" + std::to_string(c.min_score) +
         " D=" + std::to_string(c.head_dim) + " tile=" + std::to_string(c.tile);
}

SimilarityParams params_of(const Case& c) {
  SimilarityParams p;
  p.k = c.k;
  p.threshold = c.threshold;
  p.min_score = c.min_score;
  p.head_dim = c.head_dim;
  p.tile = c.tile;
  p.threads = 2;
  return p;
}

class CpuParity : public ::testing::TestWithParam<Case> {};

TEST_P(CpuParity, SelfJoinMatchesBruteForce) {
  const Case& c = GetParam();
  for (std::uint32_t seed : {1u, 2u}) {
    CsrMatrix x = testing::random_matrix(c.spec, seed);
    SimilarityParams p = params_of(c);
    std::atomic<std::int64_t> last{0};
    p.progress = [&](std::int64_t done, std::int64_t total) {
      EXPECT_LE(done, total);
      last = done;
    };
    SimilarityResult got = make_cpu_backend()->self_join(x, p);
    SimilarityResult want = brute_force(x, nullptr, p);
    expect_same(got, want, describe(c) + " seed " + std::to_string(seed));
    EXPECT_EQ(got.stats.zero_rows, want.stats.zero_rows);
    EXPECT_EQ(got.stats.pairs_evaluated, x.rows * (x.rows - 1) / 2);
    EXPECT_EQ(last.load(), x.rows * (x.rows - 1) / 2);
    EXPECT_EQ(got.stats.backend, "cpu");
  }
}

TEST_P(CpuParity, CrossJoinMatchesBruteForce) {
  const Case& c = GetParam();
  CsrMatrix all = testing::random_matrix(c.spec, 3);
  const std::int64_t split = all.rows / 3;
  CsrMatrix q = all.slice_rows(0, split), r = all.slice_rows(split, all.rows);
  SimilarityParams p = params_of(c);
  SimilarityResult got = make_cpu_backend()->cross_join(q, r, p);
  expect_same(got, brute_force(q, &r, p), "cross " + describe(c));
  EXPECT_EQ(got.stats.pairs_evaluated, q.rows * r.rows);
}

TEST_P(CpuParity, TwoSidedCrossJoinGivesBothDirections) {
  // One pass, both directions: the references' lists among the queries equal
  // the reversed cross join's brute force, and the queries' side is unchanged.
  const Case& c = GetParam();
  if (c.k <= 0) GTEST_SKIP() << "top-k lists only";
  CsrMatrix all = testing::random_matrix(c.spec, 4);
  const std::int64_t split = all.rows * 2 / 5;
  CsrMatrix q = all.slice_rows(0, split), r = all.slice_rows(split, all.rows);
  SimilarityParams p = params_of(c);
  p.reference_lists = true;
  SimilarityResult got = make_cpu_backend()->cross_join(q, r, p);
  expect_same(got, brute_force(q, &r, p), "two-sided, queries' side " + describe(c));
  expect_reference_side(got, q, r, p, "two-sided, references' side " + describe(c));
  EXPECT_EQ(got.stats.pairs_evaluated, q.rows * r.rows) << "one pass, not two";
}

TEST_P(CpuParity, FewQueriesAgainstManyReferencesMatchBruteForce) {
  // A programme chair's shape: one row block of queries meets every column block
  // of references (each block's index built once, reused while the columns stay
  // the same): one- and two-sided, against brute force in both directions.
  const Case& c = GetParam();
  CsrMatrix all = testing::random_matrix(c.spec, 5);
  for (std::int64_t split : {std::int64_t{1}, std::int64_t{17}, std::int64_t{40}}) {
    CsrMatrix q = all.slice_rows(0, split), r = all.slice_rows(split, all.rows);
    for (bool two_sided : {false, true}) {
      if (two_sided && c.k <= 0) continue;
      SimilarityParams p = params_of(c);
      p.reference_lists = two_sided;
      const std::string what = "few queries (" + std::to_string(split) + ")" +
                               (two_sided ? ", two-sided " : " ") + describe(c);
      SimilarityResult got = make_cpu_backend()->cross_join(q, r, p);
      expect_same(got, brute_force(q, &r, p), what);
      EXPECT_EQ(got.stats.pairs_evaluated, q.rows * r.rows) << what;
      if (two_sided) expect_reference_side(got, q, r, p, what + ", references' side");
    }
  }
}

TEST_P(CpuParity, CrossJoinReadingColumnBlocksMatchesBruteForce) {
  // Saved column blocks (an index's) replace the per-tile inversion of the
  // references when the tile edge is theirs; other sizes fall back to building.
  // Either way the result is the brute force's, one- and two-sided.
  const Case& c = GetParam();
  CsrMatrix all = testing::random_matrix(c.spec, 6);
  for (std::int64_t split : {std::int64_t{1}, all.rows / 3}) {
    CsrMatrix q = all.slice_rows(0, split), r = all.slice_rows(split, all.rows);
    for (std::int64_t edge : {std::int64_t{64}, std::int64_t{128}, r.rows}) {
      const ColumnBlocks blocks = build_column_blocks(r.view(), edge, 2);
      for (bool two_sided : {false, true}) {
        if (two_sided && c.k <= 0) continue;
        SimilarityParams p = params_of(c);
        p.reference_lists = two_sided;
        const std::string what = "blocks of " + std::to_string(edge) + ", " +
                                 std::to_string(split) + " queries" +
                                 (two_sided ? ", two-sided " : " ") + describe(c);
        SimilarityResult got = make_cpu_backend()->cross_join(q.view(), r.view(), blocks.view(), p);
        expect_same(got, brute_force(q, &r, p), what);
        // Read when the edge is free (and they are no wider than the tiles would be)
        // or asked for as theirs; never by the dense-queries kernel (few queries,
        // the head size left to the engine), which reads the rows.
        const bool dense = c.head_dim < 0 && q.rows <= cpu_dense_query_rows();
        EXPECT_EQ(got.stats.dense_queries, dense) << what;
        const bool expected =
            !dense &&
            (c.tile == edge || (c.tile == 0 && (edge <= (std::max(q.rows, r.rows) + 63) / 64 * 64 ||
                                                blocks.blocks() == 1)));
        EXPECT_EQ(got.stats.column_blocks, expected) << what;
        if (two_sided) expect_reference_side(got, q, r, p, what + ", references' side");
      }
    }
  }
}

TEST_P(CpuParity, DenseQueriesKernelMatchesBruteForce) {
  // Up to cpu_dense_query_rows() queries with the head size left to the engine:
  // the dense-queries kernel (strips of 16-lane groups, several strips and row
  // blocks with small tiles), one- and two-sided, against brute force; one
  // query more goes to the head/tail tiles.
  const Case& c = GetParam();
  CsrMatrix all = testing::random_matrix(c.spec, 7);
  const std::int64_t most = cpu_dense_query_rows();
  for (std::int64_t split : {std::int64_t{1}, std::int64_t{16}, std::int64_t{17}, std::int64_t{128},
                             std::int64_t{129}, most, most + 1}) {
    if (split >= all.rows) continue;
    CsrMatrix q = all.slice_rows(0, split), r = all.slice_rows(split, all.rows);
    for (bool two_sided : {false, true}) {
      if (two_sided && c.k <= 0) continue;
      SimilarityParams p = params_of(c);
      p.head_dim = -1;
      p.reference_lists = two_sided;
      const std::string what =
          std::to_string(split) + " queries" + (two_sided ? ", two-sided " : " ") + describe(c);
      SimilarityResult got = make_cpu_backend()->cross_join(q, r, p);
      expect_same(got, brute_force(q, &r, p), what);
      EXPECT_EQ(got.stats.dense_queries, split <= most) << what;
      EXPECT_EQ(got.stats.pairs_evaluated, q.rows * r.rows) << what;
      if (got.stats.dense_queries) EXPECT_EQ(got.stats.head_dim, 0) << what;
      if (two_sided) expect_reference_side(got, q, r, p, what + ", references' side");
    }
    // A forced head size keeps the tiles.
    SimilarityParams p = params_of(c);
    p.head_dim = 4;
    EXPECT_FALSE(make_cpu_backend()->cross_join(q, r, p).stats.dense_queries);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CpuParity,
    ::testing::Values(
        // Tiny tiles over a small corpus: many diagonal and off-diagonal tiles.
        Case{{300, 80, 6.0, 0.05, 0.1, 0, 1.0}, 3, 0.5f, -1.0f, -1, 64},
        Case{{300, 80, 6.0, 0.05, 0.1, 0, 1.0}, 1, -1.0f, -1.0f, 16, 64},
        // Ties: few value levels and many duplicate rows.
        Case{{257, 30, 4.0, 0.1, 0.3, 2, 1.2}, 5, 0.7f, -1.0f, 8, 64},
        Case{{200, 12, 3.0, 0.0, 0.2, 1, 0.5}, 10, 0.9f, -1.0f, 4, 64},
        // k larger than the corpus, no head at all, a single tile.
        Case{{90, 40, 5.0, 0.1, 0.0, 0, 1.0}, 200, 0.3f, -1.0f, 0, 0},
        // Everything in the head (D = all columns), min_score.
        Case{{150, 64, 8.0, 0.0, 0.05, 0, 1.0}, 7, -1.0f, 0.4f, 64, 64},
        Case{{220, 500, 10.0, 0.02, 0.05, 0, 1.3}, 4, 0.6f, 0.2f, -1, 128},
        // Dense rows (most pairs share a term), threshold only.
        Case{{180, 50, 20.0, 0.0, 0.1, 3, 0.7}, 0, 0.8f, -1.0f, 32, 64},
        // Sparse rows: most pairs share nothing.
        Case{{400, 2000, 3.0, 0.1, 0.05, 0, 0.3}, 6, 0.5f, -1.0f, -1, 64}),
    // Readable test names instead of gtest's byte dump of the parameter.
    [](const ::testing::TestParamInfo<Case>& info) {
      const Case& c = info.param;
      return "n" + std::to_string(c.spec.rows) + "_cols" + std::to_string(c.spec.cols) + "_k" +
             std::to_string(c.k) + "_D" +
             (c.head_dim < 0 ? std::string("auto") : std::to_string(c.head_dim)) + "_tile" +
             std::to_string(c.tile) + "_" + std::to_string(info.index);
    });

TEST(CpuBackend, TiesBeyondTheKeptCandidatesFallBackToExactRows) {
  // 40 copies of one row plus unrelated rows: every copy's neighbours tie at the
  // same score, more of them than the kept candidates, so no list can be proven
  // from candidates alone; the exact fallback must still give the lowest docs.
  testing::RandomSpec spec{120, 60, 5.0, 0.0, 0.0, 0, 1.0};
  CsrMatrix base = testing::random_matrix(spec, 4);
  CsrMatrix x;
  x.cols = base.cols;
  for (std::int64_t r = 0; r < base.rows; ++r) {
    const std::int64_t src = r % 3 == 0 ? 0 : r;  // rows 0, 3, 6, ... are copies of row 0
    for (std::int64_t p = base.indptr[src]; p < base.indptr[src + 1]; ++p) {
      x.indices.push_back(base.indices[p]);
      x.data.push_back(base.data[p]);
    }
    x.indptr.push_back(x.nnz());
  }
  x.rows = base.rows;
  SimilarityParams p;
  p.k = 3;
  p.threshold = 0.99f;
  p.tile = 64;
  p.threads = 2;
  SimilarityResult got = make_cpu_backend()->self_join(x, p);
  EXPECT_GE(got.stats.fallback_rows, 40);
  expect_same(got, brute_force(x, nullptr, p), "ties");
  ASSERT_EQ(got.topk[0].size(), 3u);
  EXPECT_EQ(got.topk[0][0].doc, 3);
  EXPECT_EQ(got.topk[0][1].doc, 6);
  EXPECT_EQ(got.topk[0][2].doc, 9);
}

TEST(CpuBackend, ZeroAndEmptyInputs) {
  CsrMatrix empty;
  empty.cols = 5;
  SimilarityParams p;
  SimilarityResult r = make_cpu_backend()->self_join(empty, p);
  EXPECT_TRUE(r.topk.empty());
  CsrMatrix zeros = testing::random_matrix({10, 5, 2.0, 1.0, 0.0, 0, 1.0}, 1);
  r = make_cpu_backend()->self_join(zeros, p);
  EXPECT_EQ(r.stats.zero_rows, 10);
  for (const auto& l : r.topk) EXPECT_TRUE(l.empty());
}

TEST(CpuBackend, MemoryBudgetBoundsTheEngineAndKeepsResults) {
  // Out of core in miniature: tiles shrink to what the budget leaves, the
  // engine's working set (lists, column tables, tiles) stays within it, and the
  // results are the brute force's whatever the budget; a budget below the
  // smallest tiles is a usage error, not a silent overrun.
  CsrMatrix x = testing::random_matrix({500, 3000, 12.0, 0.0, 0.05, 0, 1.0}, 8);
  CsrMatrix q = x.slice_rows(0, 120);
  const CsrMatrix r = x.slice_rows(120, 500);
  SimilarityParams p;
  p.k = 4;
  p.threads = 2;
  const SimilarityResult want_self = brute_force(x, nullptr, p);
  const SimilarityResult want_cross = brute_force(q, &r, p);
  p.memory_budget = 1;
  EXPECT_THROW(make_cpu_backend()->self_join(x, p), UsageError);
  EXPECT_THROW(make_cpu_backend()->cross_join(q, r, p), UsageError);
  int fitted[2] = {0, 0};
  std::int64_t most_tiles = 0;
  for (std::size_t budget = 16 << 10; budget <= (8 << 20); budget = budget * 5 / 4) {
    p.memory_budget = budget;
    for (const bool self : {true, false}) {
      SimilarityResult got;
      try {
        got = self ? make_cpu_backend()->self_join(x, p) : make_cpu_backend()->cross_join(q, r, p);
      } catch (const UsageError&) {
        EXPECT_EQ(fitted[self], 0) << "a budget failed after a smaller one fitted: " << budget;
        continue;
      }
      ++fitted[self];
      most_tiles = std::max(most_tiles, got.stats.tiles);
      EXPECT_LE(got.stats.peak_working_bytes, budget) << (self ? "self" : "cross");
      expect_same(got, self ? want_self : want_cross, "budget " + std::to_string(budget));
    }
  }
  EXPECT_GT(fitted[0], 4);
  EXPECT_GT(fitted[1], 4);
  EXPECT_EQ(most_tiles, 8 * 9 / 2) << "the smallest budget that fits uses 64-row tiles";

  // With saved column blocks: read where the budget allows tiles as wide as the
  // blocks, built otherwise; within the budget and exact either way.
  // The head/tail tiles (a forced head size): the dense-queries kernel, which
  // 120 queries would get, reads no blocks.
  const ColumnBlocks blocks = build_column_blocks(r.view(), 128, 1);
  bool read = false, built = false;
  p.head_dim = 32;
  for (std::size_t budget = 16 << 10; budget <= (8 << 20); budget = budget * 5 / 4) {
    p.memory_budget = budget;
    SimilarityResult got;
    try {
      got = make_cpu_backend()->cross_join(q.view(), r.view(), blocks.view(), p);
    } catch (const UsageError&) {
      continue;
    }
    (got.stats.column_blocks ? read : built) = true;
    EXPECT_LE(got.stats.peak_working_bytes, budget) << "blocks, budget " << budget;
    expect_same(got, want_cross, "blocks, budget " + std::to_string(budget));
  }
  EXPECT_TRUE(read);
  EXPECT_TRUE(built);
  // Blocks of other rows are refused, not read out of bounds.
  const ColumnBlocks wrong = build_column_blocks(q.view(), 128, 1);
  p.memory_budget = 0;
  EXPECT_THROW(make_cpu_backend()->cross_join(q.view(), r.view(), wrong.view(), p), Error);
}

TEST(CpuBackend, RejectsBadParamsAndShapes) {
  CsrMatrix a = testing::random_matrix({5, 10, 2.0, 0.0, 0.0, 0, 1.0}, 1);
  CsrMatrix b = testing::random_matrix({5, 11, 2.0, 0.0, 0.0, 0, 1.0}, 1);
  SimilarityParams p;
  EXPECT_THROW(make_cpu_backend()->cross_join(a, b, p), Error);
  p.k = -3;
  EXPECT_THROW(make_cpu_backend()->self_join(a, p), UsageError);
}

}  // namespace
}  // namespace papersim::detail
