// fit_transform_blocks: the same matrix as fit_transform, every block
// released exactly once, and no text read after its block was released.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "papersim/error.hpp"
#include "papersim/tfidf.hpp"

namespace {

using papersim::CsrMatrix;
using papersim::TfidfModel;
using papersim::TfidfOptions;

TEST(TextBlocks, MatchesFitTransformAndReleasesEachBlockOnce) {
  std::mt19937 rng(11);
  std::vector<std::string> docs(2500);
  for (auto& d : docs) {
    const int n = static_cast<int>(rng() % 50);
    for (int i = 0; i < n; ++i) d += "w" + std::to_string(rng() % 3000) + " ";
  }
  // Blocks of uneven sizes, two of them empty.
  std::vector<std::int64_t> ends;
  for (std::int64_t e = 0; e < static_cast<std::int64_t>(docs.size());) {
    e = std::min<std::int64_t>(static_cast<std::int64_t>(docs.size()), e + 1 + rng() % 400);
    ends.push_back(e);
    if (ends.size() == 3) ends.push_back(e);
  }
  ends.insert(ends.begin(), 0);
  for (bool bigrams : {false, true}) {
    for (int threads : {1, 2, 5}) {
      TfidfOptions o;
      o.ngram_max = bigrams ? 2 : 1;
      o.threads = threads;
      TfidfModel m1, m2;
      const CsrMatrix a = papersim::fit_transform(docs, o, &m1);
      // Each block's texts back to back in one buffer, as Corpus::packs.
      std::vector<std::string> blocks(ends.size());
      std::vector<std::string_view> views(docs.size());
      std::int64_t begin = 0;
      for (std::size_t b = 0; b < ends.size(); ++b) {
        for (std::int64_t d = begin; d < ends[b]; ++d) blocks[b] += docs[d];
        std::size_t off = 0;
        for (std::int64_t d = begin; d < ends[b]; ++d) {
          views[d] = std::string_view(blocks[b]).substr(off, docs[d].size());
          off += docs[d].size();
        }
        begin = ends[b];
      }
      std::vector<std::atomic<int>> released(ends.size());
      const CsrMatrix b = papersim::fit_transform_blocks(
          views, ends,
          [&](std::size_t k) {
            ++released[k];
            // Overwritten, not freed: a text read after its release changes the result.
            for (char& c : blocks[k]) c = 'q';
          },
          o, &m2);
      for (std::size_t k = 0; k < ends.size(); ++k) EXPECT_EQ(released[k].load(), 1) << k;
      EXPECT_EQ(m1.vocabulary, m2.vocabulary);
      EXPECT_EQ(m1.df, m2.df);
      EXPECT_EQ(a.indptr, b.indptr);
      EXPECT_EQ(a.indices, b.indices);
      EXPECT_EQ(a.data, b.data);
    }
  }
}

TEST(TextBlocks, BlocksMustCoverTheTextsInOrder) {
  const std::vector<std::string_view> views{"aa bb", "bb cc", "cc dd"};
  const auto none = [](std::size_t) {};
  EXPECT_THROW(papersim::fit_transform_blocks(views, {2}, none, TfidfOptions{}, nullptr),
               papersim::UsageError);
  EXPECT_THROW(papersim::fit_transform_blocks(views, {2, 1, 3}, none, TfidfOptions{}, nullptr),
               papersim::UsageError);
  EXPECT_THROW(papersim::fit_transform_blocks(views, {2, 4}, none, TfidfOptions{}, nullptr),
               papersim::UsageError);
  EXPECT_NO_THROW(papersim::fit_transform_blocks(views, {1, 3}, none, TfidfOptions{}, nullptr));
}

}  // namespace
