// `add` is exact: after building on one corpus and adding another (in one or
// several steps), every stored list equals a brute force over the frozen-model
// vectors of all documents, under the order (score desc, doc asc), with the
// canonical exact_dot scores; and the drift figures count what was ignored.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "index/format.hpp"
#include "papersim/index.hpp"
#include "temp_dir.hpp"

using namespace papersim;

namespace {

// Texts over a small vocabulary (many shared terms, exact ties from repeats)
// plus words that only the later documents use.
std::vector<std::string> texts(int n, unsigned seed, int new_words) {
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (int d = 0; d < n; ++d) {
    if (d > 2 && rng() % 8 == 0) {  // An exact copy: ties.
      out.push_back(out[rng() % out.size()]);
      continue;
    }
    std::string t;
    const int len = 3 + static_cast<int>(rng() % 12);
    for (int i = 0; i < len; ++i) {
      if (new_words > 0 && rng() % 5 == 0) {
        t += " novel" + std::to_string(rng() % new_words);
      } else {
        t += " w" + std::to_string(rng() % 40);
      }
    }
    out.push_back(t);
  }
  return out;
}

std::vector<IndexedDocument> docs_for(std::size_t n, const std::string& prefix) {
  std::vector<IndexedDocument> d;
  for (std::size_t i = 0; i < n; ++i) d.push_back({prefix + std::to_string(i), "t", "s"});
  return d;
}

std::vector<std::vector<Neighbor>> brute_force(const CsrMatrix& x, std::int64_t k) {
  std::vector<std::vector<Neighbor>> out(x.rows);
  for (std::int64_t i = 0; i < x.rows; ++i) {
    std::vector<Neighbor> all;
    for (std::int64_t j = 0; j < x.rows; ++j) {
      if (j == i) continue;
      const float s = exact_dot(x, i, x, j);
      if (s > 0) all.push_back({j, s});
    }
    std::sort(all.begin(), all.end(), [](const Neighbor& a, const Neighbor& b) {
      return a.score != b.score ? a.score > b.score : a.doc < b.doc;
    });
    if (static_cast<std::int64_t>(all.size()) > k) all.resize(k);
    out[i] = all;
  }
  return out;
}

void expect_lists_equal(const Index& ix, const std::vector<std::vector<Neighbor>>& want) {
  ASSERT_EQ(ix.documents(), static_cast<std::int64_t>(want.size()));
  for (std::int64_t d = 0; d < ix.documents(); ++d) {
    const auto got = ix.neighbors(d);
    ASSERT_EQ(got.size(), want[d].size()) << "row " << d;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].doc, want[d][i].doc) << "row " << d << " rank " << i;
      EXPECT_EQ(got[i].score, want[d][i].score) << "row " << d << " rank " << i;
    }
  }
}

// The index's column blocks, array by array, against blocks built afresh.
void expect_blocks_equal(const Index& ix, const ColumnBlocks& want) {
  const ColumnBlocksView got = ix.column_blocks();
  ASSERT_EQ(got.block_rows, want.block_rows);
  ASSERT_EQ(got.blocks, want.blocks());
  ASSERT_TRUE(got.covers(ix.documents()));
  EXPECT_TRUE(std::equal(want.term_offsets.begin(), want.term_offsets.end(), got.term_offsets));
  EXPECT_TRUE(std::equal(want.terms.begin(), want.terms.end(), got.terms));
  EXPECT_TRUE(std::equal(want.starts.begin(), want.starts.end(), got.starts));
  EXPECT_TRUE(std::equal(want.rows.begin(), want.rows.end(), got.rows));
  EXPECT_TRUE(std::equal(want.values.begin(), want.values.end(), got.values));
}

}  // namespace

TEST(IndexAdd, ListsEqualABruteForceOverTheFrozenModel) {
  // Both ways of joining the new rows: the sparse exact join (small batches)
  // and the similarity backend (large ones).
  for (const std::int64_t limit : {index::kExactJoinMaxRows, std::int64_t{0}})
    for (const std::int64_t k : {1, 4, 50}) {
      SCOPED_TRACE("k = " + std::to_string(k) + ", exact-join limit " + std::to_string(limit));
      test::TempDir dir;
      const std::string path = dir / "x.psx";
      const auto a = texts(120, 1, 0);
      const auto b = texts(45, 2, 7);
      const auto c = texts(30, 3, 9);
      auto backend = make_backend(BackendKind::kCpu);
      SimilarityParams p;
      p.k = k;
      p.tile = 16;  // Many tiles even on small inputs.
      IndexContents ic;
      ic.options = tfidf_preset("sklearn");
      ic.x = fit_transform(a, ic.options, &ic.model);
      ic.k = k;
      ic.topk = topk_lists(*backend, ic.x, p, nullptr);
      for (std::size_t i = 0; i < a.size(); ++i)
        ic.docs.push_back({"a" + std::to_string(i), "", ""});
      // Blocks as wide as the tiles, so large batches' cross joins read them;
      // 120 rows leave a partial block that each add rebuilds.
      ic.block_rows = 16;
      write_index(path, ic);

      const IndexAddResult r1 =
          add_to_index(path, docs_for(b.size(), "b"), {b.begin(), b.end()}, *backend, p);
      EXPECT_EQ(r1.documents, 165);
      const IndexAddResult r2 =
          add_to_index(path, docs_for(c.size(), "c"), {c.begin(), c.end()}, *backend, p);
      EXPECT_EQ(r2.documents, 195);

      std::vector<std::string> all = a;
      all.insert(all.end(), b.begin(), b.end());
      all.insert(all.end(), c.begin(), c.end());
      const CsrMatrix want_x = transform({all.begin(), all.end()}, ic.model, ic.options, nullptr);
      const Index ix = Index::open(path);
      const CsrMatrix got_x = to_matrix(ix.matrix());
      EXPECT_EQ(got_x.indptr, want_x.indptr);
      EXPECT_EQ(got_x.indices, want_x.indices);
      EXPECT_EQ(got_x.data, want_x.data);
      expect_lists_equal(ix, brute_force(want_x, k));
      expect_blocks_equal(ix, build_column_blocks(want_x.view(), 16, 1));
      EXPECT_EQ(ix.id(120), "b0");
      EXPECT_EQ(ix.id(194), "c29");

      // Drift: everything added, summed over both adds.
      TransformStats tb, tc;
      transform({b.begin(), b.end()}, ic.model, ic.options, &tb);
      transform({c.begin(), c.end()}, ic.model, ic.options, &tc);
      const IndexDrift d = ix.drift();
      EXPECT_EQ(d.added_documents, 75);
      EXPECT_EQ(d.terms_out_of_vocabulary, tb.terms_out_of_vocabulary + tc.terms_out_of_vocabulary);
      EXPECT_EQ(d.terms_in_vocabulary, tb.terms_in_vocabulary + tc.terms_in_vocabulary);
      EXPECT_EQ(d.new_terms, 9);  // novel0..novel8, the union of both adds
      EXPECT_GT(d.out_of_vocabulary_share(), 0.0);
      EXPECT_GT(d.df_change, 0.0);
      EXPECT_FALSE(d.df_change_term.empty());
      EXPECT_EQ(r2.drift.added_documents, 75);
    }
}

TEST(IndexAdd, IndexWithoutListsGrowsItsVectors) {
  // With the default column blocks (all 40 rows in one block, rebuilt by the
  // add) and without any (an index built so stays so).
  for (const std::int64_t block_rows : {kIndexBlockRows, std::int64_t{0}}) {
    test::TempDir dir;
    const std::string path = dir / "x.psx";
    const auto a = texts(30, 4, 0);
    const auto b = texts(10, 5, 3);
    IndexContents ic;
    ic.options = tfidf_preset("abstracts");
    ic.x = fit_transform(a, ic.options, &ic.model);
    for (std::size_t i = 0; i < a.size(); ++i) ic.docs.push_back({"a", "", ""});
    ic.block_rows = block_rows;
    write_index(path, ic);
    auto backend = make_backend(BackendKind::kCpu);
    add_to_index(path, docs_for(b.size(), "b"), {b.begin(), b.end()}, *backend, SimilarityParams{});
    const Index ix = Index::open(path);
    EXPECT_EQ(ix.documents(), 40);
    EXPECT_EQ(ix.k(), 0);
    EXPECT_TRUE(ix.neighbors(35).empty());
    if (block_rows > 0) {
      expect_blocks_equal(ix, build_column_blocks(ix.matrix(), block_rows, 1));
    } else {
      EXPECT_TRUE(ix.column_blocks().empty());
    }
  }
}

TEST(IndexAdd, ExactJoinEqualsTheBackendBitForBit) {
  const auto all = texts(300, 9, 0);
  TfidfModel m;
  const CsrMatrix x = fit_transform(all, tfidf_preset("sklearn"), &m);
  const CsrMatrix rows = x.slice_rows(0, 260), fresh = x.slice_rows(260, 300);
  auto backend = make_backend(BackendKind::kCpu);
  SimilarityParams p;
  p.k = 7;
  p.threshold = 0.3f;
  p.tile = 32;
  const SimilarityResult want_fresh = backend->cross_join(fresh, rows, p);
  const SimilarityResult want_rows = backend->cross_join(rows, fresh, p);
  index::ExactJoinOptions o;
  o.k = 7;
  o.threshold = 0.3f;
  const index::ExactJoin got = index::exact_join(rows.view(), fresh.view(), o);
  const auto same = [](const std::vector<std::vector<Neighbor>>& a,
                       const std::vector<std::vector<Neighbor>>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t r = 0; r < a.size(); ++r) {
      ASSERT_EQ(a[r].size(), b[r].size()) << "row " << r;
      for (std::size_t i = 0; i < a[r].size(); ++i) {
        EXPECT_EQ(a[r][i].doc, b[r][i].doc) << "row " << r;
        EXPECT_EQ(a[r][i].score, b[r][i].score) << "row " << r;
      }
    }
  };
  same(got.fresh_lists, want_fresh.topk);
  same(got.row_lists, want_rows.topk);
  ASSERT_EQ(got.pairs.size(), want_fresh.pairs.size());
  EXPECT_FALSE(got.pairs.empty());
  for (std::size_t i = 0; i < got.pairs.size(); ++i) {
    EXPECT_EQ(got.pairs[i].a, want_fresh.pairs[i].a);
    EXPECT_EQ(got.pairs[i].b, want_fresh.pairs[i].b);
    EXPECT_EQ(got.pairs[i].score, want_fresh.pairs[i].score);
  }
}
