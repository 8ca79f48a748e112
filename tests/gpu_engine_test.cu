// Host-side planning of the CUDA engine (no device needed, so these run in CI
// wherever the CUDA code compiles): the inputs handed to every device and the
// tile edge chosen from memory.
#include <gtest/gtest.h>

#include "cuda/engine.cuh"
#include "papersim/error.hpp"
#include "sim/plan.hpp"
#include "sim_test_util.hpp"

namespace papersim::cuda {
namespace {

// `x` without its head columns, column ids unchanged: what the CUDA tail
// kernels expect, written the plain way.
CsrMatrix tail_matrix(const CsrMatrix& x, const detail::HeadTailSplit& split) {
  CsrMatrix t;
  t.rows = x.rows;
  t.cols = x.cols;
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      if (split.slot_of[x.indices[p]] >= 0) continue;
      t.indices.push_back(x.indices[p]);
      t.data.push_back(x.data[p]);
    }
    t.indptr.push_back(t.nnz());
  }
  return t;
}

TEST(GpuEngine, PrepareInputsBuildsTheReferenceTailByTerm) {
  testing::RandomSpec spec;
  spec.rows = 400;
  spec.cols = 300;
  spec.mean_nnz = 12;
  spec.zero_rows = 0.05;
  const CsrMatrix q = testing::random_matrix(spec, 1);
  spec.rows = 333;
  const CsrMatrix r = testing::random_matrix(spec, 2);
  for (int threads : {1, 3, 8})
    for (bool self : {true, false}) {
      SimilarityParams p;
      p.threads = threads;  // the tails are built by this many threads
      p.k = 7;
      p.threshold = 0.6f;
      p.head_dim = 40;  // not a multiple of 64: padded
      const EngineInputs in = prepare_inputs(q, self ? nullptr : &r, p);
      const CsrMatrix& ref = self ? q : r;
      EXPECT_EQ(in.self_join, self);
      ASSERT_NE(in.join, nullptr);
      EXPECT_EQ(in.join->split.head_dim, 40);
      EXPECT_EQ(in.head_dim, 64);
      EXPECT_EQ(in.keep, 7 + 32);
      EXPECT_TRUE(in.want_pairs);
      EXPECT_FLOAT_EQ(in.pair_low, 0.6f - in.margin);
      EXPECT_GE(in.margin, 1e-3f);  // above the fp16 worst case (9.8e-4)
      // The query tail holds exactly the non-head entries of the queries.
      const CsrMatrix want_q = tail_matrix(q, in.join->split);
      const CsrMatrix& query_tail = in.join->q.tail;
      EXPECT_EQ(query_tail.indptr, want_q.indptr);
      EXPECT_EQ(query_tail.indices, want_q.indices);
      EXPECT_EQ(query_tail.data, want_q.data);
      // The reference tail by term is the transpose of the reference tail, rows increasing.
      const CsrMatrix want_r = tail_matrix(ref, in.join->split);
      ASSERT_EQ(static_cast<std::int64_t>(in.ref_colptr.size()), ref.cols + 1);
      ASSERT_EQ(static_cast<std::int64_t>(in.ref_rows.size()), want_r.nnz());
      std::vector<std::int64_t> seen(ref.cols, 0);
      for (std::int64_t row = 0; row < want_r.rows; ++row) {
        for (std::int64_t e = want_r.indptr[row]; e < want_r.indptr[row + 1]; ++e) {
          const std::int32_t c = want_r.indices[e];
          const std::int64_t at = in.ref_colptr[c] + seen[c]++;
          ASSERT_LT(at, in.ref_colptr[c + 1]);
          EXPECT_EQ(in.ref_rows[at], row);
          EXPECT_EQ(in.ref_vals[at], want_r.data[e]);
        }
      }
      for (std::int64_t c = 0; c < ref.cols; ++c)
        EXPECT_EQ(seen[c], in.ref_colptr[c + 1] - in.ref_colptr[c]);
    }
}

TEST(GpuEngine, KeepNeverExceedsWhatAListCanHold) {
  testing::RandomSpec spec;
  spec.rows = 50;
  const CsrMatrix x = testing::random_matrix(spec, 3);
  SimilarityParams p;
  p.k = 1000;
  EXPECT_EQ(prepare_inputs(x, nullptr, p).keep, 51);  // one more than any row can fill
  p.k = 0;
  p.threshold = 0.5f;
  EXPECT_EQ(prepare_inputs(x, nullptr, p).keep, 0);
  p.k = 400;  // k/4 extra beyond 32
  spec.rows = 5000;
  const CsrMatrix big = testing::random_matrix(spec, 4);
  EXPECT_EQ(prepare_inputs(big, nullptr, p).keep, 500);
}

TEST(GpuEngine, TileEdgeFromParamsAndMemory) {
  testing::RandomSpec spec;
  spec.rows = 100000;
  spec.cols = 50;
  spec.mean_nnz = 1;
  const CsrMatrix x = testing::random_matrix(spec, 5);
  SimilarityParams p;
  p.k = 10;
  const EngineInputs in = prepare_inputs(x, nullptr, p);
  p.tile = 100;
  EXPECT_EQ(choose_tile_edge(p, in, 0), 100);  // explicit edge, whatever the memory
  p.tile = 0;
  EXPECT_EQ(choose_tile_edge(p, in, std::size_t{80} << 30), 16384);  // capped
  // Two slots of a score tile and its transpose: 16 bytes per edge².
  p.memory_budget = std::size_t{16} * 4096 * 4096;
  EXPECT_EQ(choose_tile_edge(p, in, std::size_t{80} << 30), 4096);
  p.memory_budget = std::size_t{16} * 1000 * 1000;
  EXPECT_EQ(choose_tile_edge(p, in, std::size_t{80} << 30), 768);  // multiple of 256
  p.memory_budget = std::size_t{16} * 100 * 100;
  EXPECT_EQ(choose_tile_edge(p, in, std::size_t{80} << 30), 64);
  p.memory_budget = 0;
  EXPECT_THROW(choose_tile_edge(p, in, 1000), CudaError);  // no room for a 64² tile
  // Small inputs: the edge never exceeds the rows (rounded up to 64).
  spec.rows = 70;
  const CsrMatrix small = testing::random_matrix(spec, 6);
  const EngineInputs in_small = prepare_inputs(small, nullptr, p);
  EXPECT_EQ(choose_tile_edge(p, in_small, std::size_t{80} << 30), 128);
}

}  // namespace
}  // namespace papersim::cuda
