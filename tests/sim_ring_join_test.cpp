// The pieces of a distributed join that run in any build: row blocks, the CSR
// block messages, and the ring join on one process (size 1, every tile local),
// which must equal the backend's own join.
#include <gtest/gtest.h>

#include "papersim/comm.hpp"
#include "papersim/error.hpp"
#include "sim/cpu_backend.hpp"
#include "sim/ring_join.hpp"
#include "sim_test_util.hpp"

namespace papersim::detail {
namespace {

TEST(RingJoin, BlocksCoverRowsInOrder) {
  for (std::int64_t n : {0, 1, 2, 7, 100}) {
    for (int p : {1, 2, 3, 8}) {
      std::int64_t next = 0;
      for (int r = 0; r < p; ++r) {
        const RowBlock b = block_of(n, p, r);
        EXPECT_EQ(b.begin, next);
        EXPECT_LE(b.rows(), n / p + 1);
        EXPECT_GE(b.rows(), n / p);
        next = b.end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(RingJoin, CsrBlockRoundTripsFromARowRange) {
  testing::RandomSpec spec;
  const CsrMatrix x = testing::random_matrix(spec, 7);
  const CsrView part = x.view().row_range(3, x.rows - 2);
  std::int64_t first = -1;
  const CsrMatrix back = unpack_csr(pack_csr(part, 3), &first);
  EXPECT_EQ(first, 3);
  ASSERT_EQ(back.rows, part.rows);
  EXPECT_EQ(back.cols, part.cols);
  back.validate();
  for (std::int64_t r = 0; r < part.rows; ++r) {
    ASSERT_EQ(back.row_nnz(r), part.row_nnz(r));
    for (std::int64_t i = 0; i < part.row_nnz(r); ++i) {
      EXPECT_EQ(back.indices[back.indptr[r] + i], part.indices[part.indptr[r] + i]);
      EXPECT_EQ(back.data[back.indptr[r] + i], part.data[part.indptr[r] + i]);
    }
  }
  EXPECT_THROW(unpack_csr(pack_csr(part, 3).substr(1), &first), Error);
}

TEST(RingJoin, OneProcessEqualsTheBackend) {
  testing::RandomSpec spec;
  const CsrMatrix x = testing::random_matrix(spec, 11);
  auto comm = make_single_comm();
  auto backend = make_cpu_backend();
  for (const bool pairs : {false, true}) {
    SimilarityParams p;
    p.k = pairs ? 0 : 5;
    p.threshold = pairs ? 0.2f : -1.0f;
    p.threads = 1;
    const SimilarityResult want = backend->self_join(x.view(), p);
    RingStats rs;
    const SimilarityResult got =
        gather_result(*comm, ring_join(*comm, *backend, x.view(), 0, nullptr, 0, p, &rs));
    EXPECT_EQ(rs.steps, 0);
    EXPECT_EQ(rs.bytes_sent, 0);
    ASSERT_EQ(got.topk.size(), want.topk.size());
    for (std::size_t i = 0; i < want.topk.size(); ++i) {
      ASSERT_EQ(got.topk[i].size(), want.topk[i].size());
      for (std::size_t n = 0; n < want.topk[i].size(); ++n) {
        EXPECT_EQ(got.topk[i][n].doc, want.topk[i][n].doc);
        EXPECT_EQ(got.topk[i][n].score, want.topk[i][n].score);
      }
    }
    ASSERT_EQ(got.pairs.size(), want.pairs.size());
    for (std::size_t i = 0; i < want.pairs.size(); ++i) {
      EXPECT_EQ(got.pairs[i].a, want.pairs[i].a);
      EXPECT_EQ(got.pairs[i].b, want.pairs[i].b);
      EXPECT_EQ(got.pairs[i].score, want.pairs[i].score);
    }
  }
}

}  // namespace
}  // namespace papersim::detail
