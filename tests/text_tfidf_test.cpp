// TF-IDF option semantics on small corpora whose weights follow from
// scikit-learn's documented formulas, plus validation and determinism.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "papersim/error.hpp"
#include "papersim/tfidf.hpp"

using papersim::CsrMatrix;
using papersim::DfBound;
using papersim::Norm;
using papersim::TfidfModel;
using papersim::TfidfOptions;
using Strings = std::vector<std::string>;

namespace {

// Row `r` as term -> value.
std::map<std::string, double> row(const CsrMatrix& x, const TfidfModel& m, std::int64_t r) {
  std::map<std::string, double> out;
  for (std::int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k)
    out[m.vocabulary[x.indices[k]]] = x.data[k];
  return out;
}

TfidfOptions raw_counts() {
  TfidfOptions o;
  o.use_idf = false;
  o.norm = Norm::kNone;
  return o;
}

TEST(TextTfidf, VocabularyIsSortedByUtf8Bytes) {
  TfidfModel m;
  const CsrMatrix x =
      papersim::fit_transform(Strings{"zeta Alpha beta", "éclair ZZ 10 9x _u"}, TfidfOptions{}, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"10", "9x", "_u", "alpha", "beta", "zeta", "zz", "éclair"}));
  EXPECT_EQ(x.rows, 2);
  EXPECT_EQ(x.cols, 8);
  EXPECT_NO_THROW(x.validate());
  EXPECT_EQ(m.documents, 2);
}

TEST(TextTfidf, TermFrequencyVariants) {
  const Strings docs{"aa aa bb"};
  TfidfModel m;
  TfidfOptions o = raw_counts();
  auto r = row(papersim::fit_transform(docs, o, &m), m, 0);
  EXPECT_FLOAT_EQ(r["aa"], 2.0f);
  EXPECT_FLOAT_EQ(r["bb"], 1.0f);
  o.sublinear_tf = true;
  r = row(papersim::fit_transform(docs, o, &m), m, 0);
  EXPECT_FLOAT_EQ(r["aa"], static_cast<float>(1.0 + std::log(2.0)));
  o.sublinear_tf = false;
  o.binary = true;
  r = row(papersim::fit_transform(docs, o, &m), m, 0);
  EXPECT_FLOAT_EQ(r["aa"], 1.0f);
  o.binary = false;
  o.norm = Norm::kL1;
  r = row(papersim::fit_transform(docs, o, &m), m, 0);
  EXPECT_FLOAT_EQ(r["aa"], 2.0f / 3.0f);
  o.norm = Norm::kL2;
  r = row(papersim::fit_transform(docs, o, &m), m, 0);
  EXPECT_FLOAT_EQ(r["aa"], static_cast<float>(2.0 / std::sqrt(5.0)));
  EXPECT_FLOAT_EQ(r["bb"], static_cast<float>(1.0 / std::sqrt(5.0)));
}

TEST(TextTfidf, InverseDocumentFrequencyCountsEmptyDocuments) {
  // Four documents, one without any token: n = 4 in the idf.
  const Strings docs{"aa bb", "aa cc", "aa", "!"};
  TfidfOptions o;
  o.norm = Norm::kNone;
  TfidfModel m;
  CsrMatrix x = papersim::fit_transform(docs, o, &m);
  ASSERT_EQ(m.vocabulary, (Strings{"aa", "bb", "cc"}));
  EXPECT_EQ(m.df, (std::vector<std::int64_t>{3, 1, 1}));
  EXPECT_DOUBLE_EQ(m.idf[0], std::log(5.0 / 4.0) + 1.0);
  EXPECT_DOUBLE_EQ(m.idf[1], std::log(5.0 / 2.0) + 1.0);
  EXPECT_EQ(x.row_nnz(3), 0);
  o.smooth_idf = false;
  x = papersim::fit_transform(docs, o, &m);
  EXPECT_DOUBLE_EQ(m.idf[0], std::log(4.0 / 3.0) + 1.0);
  EXPECT_FLOAT_EQ(row(x, m, 0)["bb"], static_cast<float>(std::log(4.0) + 1.0));
  o.use_idf = false;
  x = papersim::fit_transform(docs, o, &m);
  EXPECT_TRUE(m.idf.empty());
  // Rows are L2-normalized by default, empty rows stay zero.
  x = papersim::fit_transform(docs, TfidfOptions{}, &m);
  for (std::int64_t r = 0; r < 3; ++r) {
    double s = 0;
    for (std::int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) s += double(x.data[k]) * x.data[k];
    EXPECT_NEAR(s, 1.0, 1e-6);
  }
}

TEST(TextTfidf, DocumentFrequencyBoundsIntegerVersusFraction) {
  const Strings docs{"aa bb", "aa cc", "aa dd", "bb ee"};
  TfidfModel m;
  TfidfOptions o;
  o.min_df = DfBound::count(2);
  papersim::fit_transform(docs, o, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"aa", "bb"}));
  o.min_df = DfBound::fraction(0.5);  // >= 2 documents of 4.
  papersim::fit_transform(docs, o, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"aa", "bb"}));
  o.min_df = DfBound::count(1);
  o.max_df = DfBound::fraction(0.5);  // <= 2 documents.
  papersim::fit_transform(docs, o, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"bb", "cc", "dd", "ee"}));
  o.max_df = DfBound::count(1);
  papersim::fit_transform(docs, o, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"cc", "dd", "ee"}));
  o.max_df = DfBound::count(1);
  o.min_df = DfBound::count(2);
  EXPECT_THROW(papersim::fit_transform(docs, o, &m), papersim::UsageError);
  o.min_df = DfBound::count(5);
  o.max_df = DfBound::fraction(1.0);
  EXPECT_THROW(papersim::fit_transform(docs, o, &m), papersim::Error);  // Nothing left.
}

TEST(TextTfidf, MaxFeaturesKeepsTheMostFrequentTerms) {
  // Corpus counts: bb 4, dd 4, aa 3, cc 1, ee 1.
  const Strings docs{"aa aa aa bb bb cc", "bb bb dd dd dd dd ee"};
  TfidfModel m;
  TfidfOptions o;
  o.max_features = 2;
  papersim::fit_transform(docs, o, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"bb", "dd"}));
  o.max_features = 3;
  papersim::fit_transform(docs, o, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"aa", "bb", "dd"}));
  o.binary = true;  // Counts become document frequencies: bb 2, then aa cc dd ee 1.
  o.max_features = 1;
  papersim::fit_transform(docs, o, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"bb"}));
}

TEST(TextTfidf, StopWordsThenNgrams) {
  TfidfModel m;
  TfidfOptions o = raw_counts();
  o.stop_words = papersim::english_stop_words();
  o.ngram_max = 2;
  const CsrMatrix x = papersim::fit_transform(Strings{"the graph of the graph network"}, o, &m);
  // Stop words go first; n-grams join what remains by one space.
  EXPECT_EQ(m.vocabulary, (Strings{"graph", "graph graph", "graph network", "network"}));
  auto r = row(x, m, 0);
  EXPECT_FLOAT_EQ(r["graph"], 2.0f);
  o.ngram_min = 2;
  o.ngram_max = 3;
  papersim::fit_transform(Strings{"alpha beta gamma", "alpha"}, o, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"alpha beta", "alpha beta gamma", "beta gamma"}));
  EXPECT_EQ(papersim::english_stop_words().size(), 318u);
}

TEST(TextTfidf, EmptyVocabularyIsAnError) {
  TfidfOptions o;
  o.stop_words = {"the"};
  EXPECT_THROW(papersim::fit_transform(Strings{"the the", "a"}, o, nullptr), papersim::Error);
  EXPECT_THROW(papersim::fit_transform(Strings{}, o, nullptr), papersim::Error);
}

TEST(TextTfidf, StemmingAfterStopWords) {
  TfidfModel m;
  TfidfOptions o = raw_counts();
  o.stemmer = "english";
  o.stop_words = {"running"};
  const CsrMatrix x = papersim::fit_transform(Strings{"running runs run networks network"}, o, &m);
  EXPECT_EQ(m.vocabulary, (Strings{"network", "run"}));
  auto r = row(x, m, 0);
  EXPECT_FLOAT_EQ(r["run"], 2.0f);  // "running" was a stop word before stemming.
  EXPECT_FLOAT_EQ(r["network"], 2.0f);
  o.stemmer = "klingon";
  EXPECT_THROW(papersim::fit_transform(Strings{"x"}, o, &m), papersim::UsageError);
}

TEST(TextTfidf, OptionValidation) {
  TfidfOptions o;
  o.ngram_min = 2;
  o.ngram_max = 1;
  EXPECT_THROW(papersim::fit_transform(Strings{"aa"}, o, nullptr), papersim::UsageError);
  o = TfidfOptions{};
  o.min_df = DfBound::fraction(1.5);
  EXPECT_THROW(papersim::fit_transform(Strings{"aa"}, o, nullptr), papersim::UsageError);
  o = TfidfOptions{};
  o.max_features = 0;
  EXPECT_THROW(papersim::fit_transform(Strings{"aa"}, o, nullptr), papersim::UsageError);
  o = TfidfOptions{};
  o.token_pattern = "[a-z]+";
  EXPECT_THROW(papersim::fit_transform(Strings{"aa"}, o, nullptr), papersim::UsageError);
}

TEST(TextTfidf, DfBoundParsesLikeScikitLearnTypes) {
  EXPECT_FALSE(DfBound::parse("5").is_fraction);
  EXPECT_EQ(DfBound::parse("5").value, 5.0);
  EXPECT_TRUE(DfBound::parse("0.5").is_fraction);
  EXPECT_TRUE(DfBound::parse("1.0").is_fraction);
  EXPECT_EQ(DfBound::parse("1.0").value, 1.0);
  EXPECT_FALSE(DfBound::parse("1").is_fraction);
  for (const char* bad : {"", "abc", "1.5", "-1", "0.5x", "nan"})
    EXPECT_THROW(DfBound::parse(bad), papersim::UsageError) << bad;
}

TEST(TextTfidf, Presets) {
  const TfidfOptions sk = papersim::tfidf_preset("sklearn");
  EXPECT_TRUE(sk.stop_words.empty());
  EXPECT_FALSE(sk.sublinear_tf);
  EXPECT_EQ(sk.token_pattern, R"((?u)\b\w\w+\b)");
  EXPECT_EQ(sk.norm, Norm::kL2);
  const TfidfOptions ab = papersim::tfidf_preset("abstracts");
  EXPECT_EQ(ab.stop_words.size(), 318u);
  EXPECT_THROW(papersim::tfidf_preset("nope"), papersim::UsageError);
}

// Work split, merge partitions and thread count must not change a single bit.
TEST(TextTfidf, ResultIndependentOfThreadCount) {
  std::mt19937 rng(3);
  Strings docs(3000);
  for (auto& d : docs) {
    const int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      const auto w =
          static_cast<unsigned>(std::pow(4000.0, std::generate_canonical<double, 32>(rng)));
      d += "w" + std::to_string(w) + (rng() % 50 == 0 ? "é " : " ");
    }
  }
  for (bool bigrams : {false, true}) {
    TfidfOptions o;
    o.ngram_max = bigrams ? 2 : 1;
    o.threads = 1;
    TfidfModel m1;
    const CsrMatrix a = papersim::fit_transform(docs, o, &m1);
    for (int threads : {2, 5, 16}) {
      o.threads = threads;
      TfidfModel m2;
      const CsrMatrix b = papersim::fit_transform(docs, o, &m2);
      EXPECT_EQ(m1.vocabulary, m2.vocabulary);
      EXPECT_EQ(m1.df, m2.df);
      EXPECT_EQ(a.indptr, b.indptr);
      EXPECT_EQ(a.indices, b.indices);
      EXPECT_EQ(a.data, b.data);
    }
  }
}

TEST(TextTfidf, ConsumingVariantEmptiesTextsAndMatches) {
  Strings docs;
  for (int i = 0; i < 500; ++i)
    docs.push_back("doc" + std::to_string(i % 37) + " shared words here");
  TfidfModel m1, m2;
  const CsrMatrix a = papersim::fit_transform(docs, TfidfOptions{}, &m1);
  std::vector<std::string*> ptrs;
  for (auto& d : docs) ptrs.push_back(&d);
  const CsrMatrix b = papersim::fit_transform_consuming(ptrs, TfidfOptions{}, &m2);
  EXPECT_EQ(m1.vocabulary, m2.vocabulary);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.data, b.data);
  for (const auto& d : docs) EXPECT_TRUE(d.empty());
}

}  // namespace
