// TF-IDF `transform` with a frozen model (scikit-learn semantics): the training
// texts give exactly the fitted matrix, unseen terms are ignored and counted,
// and rows are normalized over the terms kept.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "papersim/error.hpp"
#include "papersim/tfidf.hpp"

using namespace papersim;

namespace {

std::vector<std::string_view> views(const std::vector<std::string>& t) {
  return {t.begin(), t.end()};
}

const std::vector<std::string> kTrain = {
    "The cat sat on the mat. The cat!", "Dogs chase cats; cats chase mice.",
    "Mice eat cheese and the cheese is old", "An old dog, an old cat, and the mat",
    "cheese cheese cheese"};

}  // namespace

TEST(TextTransform, TrainingTextsGiveTheFittedMatrix) {
  for (const std::string preset : {"sklearn", "abstracts"}) {
    for (int variant = 0; variant < 4; ++variant) {
      TfidfOptions o = tfidf_preset(preset);
      if (variant == 1) o.ngram_max = 2;
      if (variant == 2) o.min_df = DfBound::count(2);  // pruned terms are then out of vocabulary
      if (variant == 3) {
        o.binary = true;
        o.norm = Norm::kL1;
        o.max_features = 5;
      }
      TfidfModel m;
      const CsrMatrix fitted = fit_transform(kTrain, o, &m);
      TransformStats st;
      const CsrMatrix x = transform(views(kTrain), m, o, &st);
      SCOPED_TRACE(preset + " variant " + std::to_string(variant));
      EXPECT_EQ(x.rows, fitted.rows);
      EXPECT_EQ(x.cols, fitted.cols);
      EXPECT_EQ(x.indptr, fitted.indptr);
      EXPECT_EQ(x.indices, fitted.indices);
      EXPECT_EQ(x.data, fitted.data);
      EXPECT_EQ(st.df, m.df);
      EXPECT_EQ(st.documents, static_cast<std::int64_t>(kTrain.size()));
      if (variant == 0) {
        EXPECT_EQ(st.terms_out_of_vocabulary, 0);
        EXPECT_TRUE(st.new_terms.empty());
      }
    }
  }
}

TEST(TextTransform, UnseenTermsAreIgnoredAndCounted) {
  const TfidfOptions o = tfidf_preset("sklearn");
  TfidfModel m;
  fit_transform(kTrain, o, &m);
  const std::vector<std::string> q = {"zebra cat zebra quagga", "zebra", "cheese mat"};
  TransformStats st;
  const CsrMatrix x = transform(views(q), m, o, &st);
  ASSERT_EQ(x.rows, 3);
  // Row 0 keeps only "cat": normalized alone, it is 1.
  ASSERT_EQ(x.row_nnz(0), 1);
  EXPECT_EQ(m.vocabulary[x.indices[0]], "cat");
  EXPECT_FLOAT_EQ(x.data[0], 1.0f);
  EXPECT_EQ(x.row_nnz(1), 0);  // Nothing known: an empty row.
  // Row 2: tf 1 each, weights idf(cheese), idf(mat), L2-normalized.
  ASSERT_EQ(x.row_nnz(2), 2);
  const auto col = [&](const std::string& t) {
    for (std::size_t c = 0; c < m.vocabulary.size(); ++c)
      if (m.vocabulary[c] == t) return static_cast<std::int64_t>(c);
    return std::int64_t{-1};
  };
  const double a = m.idf[col("cheese")], b = m.idf[col("mat")];
  const double norm = std::sqrt(a * a + b * b);
  EXPECT_FLOAT_EQ(x.data[x.indptr[2]], static_cast<float>(a / norm));
  EXPECT_FLOAT_EQ(x.data[x.indptr[2] + 1], static_cast<float>(b / norm));
  EXPECT_EQ(st.terms_in_vocabulary, 3);
  EXPECT_EQ(st.terms_out_of_vocabulary, 4);  // zebra x3, quagga
  ASSERT_EQ(st.new_terms.size(), 2u);
  EXPECT_EQ(st.new_terms[0], (std::pair<std::string, std::int64_t>{"quagga", 1}));
  EXPECT_EQ(st.new_terms[1], (std::pair<std::string, std::int64_t>{"zebra", 2}));
  EXPECT_EQ(st.df[col("cat")], 1);
  EXPECT_EQ(st.df[col("cheese")], 1);
}

TEST(TextTransform, ModelMustMatchItsVocabulary) {
  const TfidfOptions o = tfidf_preset("sklearn");
  TfidfModel m;
  fit_transform(kTrain, o, &m);
  m.idf.pop_back();
  EXPECT_THROW(transform(views(kTrain), m, o, nullptr), Error);
  EXPECT_THROW(transform(views(kTrain), TfidfModel{}, o, nullptr), Error);
}
