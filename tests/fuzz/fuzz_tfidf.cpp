// Tokenizer and TF-IDF on arbitrary UTF-8 texts (one per line) with options
// chosen by the first two bytes. Invariants: the matrix is well-formed CSR
// with one row per text and one column per vocabulary term (sorted, unique);
// every weight is finite and > 0; rows are unit length under l2 / l1 or empty.
#include <cmath>

#include "fuzz_support.hpp"
#include "papersim/error.hpp"
#include "papersim/tfidf.hpp"

using namespace papersim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t a = data[0], b = data[1];
  std::vector<std::string> texts;
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  while (!rest.empty() && texts.size() < 64) {
    const std::size_t nl = rest.find('\n');
    std::string_view t = rest.substr(0, nl);
    // The readers hand the tokenizer valid UTF-8 only.
    if (fuzz::utf8_ok(t)) texts.emplace_back(t);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  if (texts.empty()) return 0;
  TfidfOptions o = tfidf_preset(a & 1 ? "sklearn" : "abstracts");
  o.threads = 1;
  o.lowercase = a & 2;
  o.strip_accents = static_cast<StripAccents>((a >> 2) % 3);
  o.ngram_min = 1 + (b & 1);
  o.ngram_max = o.ngram_min + ((b >> 1) & 1);
  o.binary = b & 4;
  o.sublinear_tf = b & 8;
  o.smooth_idf = b & 16;
  o.use_idf = !(b & 32);
  o.norm = static_cast<Norm>((b >> 6) % 3);
  o.stemmer = a & 16 ? "english" : "";
  o.strip_latex = a & 32;
  if (a & 64) o.stop_words.clear();
  if (a & 128) o.max_features = 1 + b % 7;
  for (const auto& t : texts) {
    for (const auto& tok : tokenize(t, o)) {
      PAPERSIM_FUZZ_CHECK(!tok.empty() && fuzz::utf8_ok(tok), "bad token");
    }
  }
  TfidfModel model;
  CsrMatrix x;
  try {
    x = fit_transform(texts, o, &model);
  } catch (const Error& e) {
    // Only an empty vocabulary (no tokens, or df bounds that prune every term) may fail.
    PAPERSIM_FUZZ_CHECK(std::string(e.what()).find("vocabulary") != std::string::npos ||
                            std::string(e.what()).find("df") != std::string::npos ||
                            std::string(e.what()).find("no terms remain") != std::string::npos,
                        e.what());
    return 0;
  }
  x.validate();
  PAPERSIM_FUZZ_CHECK(x.rows == static_cast<std::int64_t>(texts.size()), "rows");
  PAPERSIM_FUZZ_CHECK(x.cols == static_cast<std::int64_t>(model.vocabulary.size()), "cols");
  for (std::size_t i = 1; i < model.vocabulary.size(); ++i) {
    PAPERSIM_FUZZ_CHECK(model.vocabulary[i - 1] < model.vocabulary[i], "vocabulary order");
  }
  for (std::int64_t r = 0; r < x.rows; ++r) {
    double l1 = 0, l2 = 0;
    for (std::int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) {
      const float v = x.data[static_cast<std::size_t>(k)];
      PAPERSIM_FUZZ_CHECK(std::isfinite(v) && v > 0.0f, "weight " + std::to_string(v));
      l1 += v;
      l2 += static_cast<double>(v) * v;
    }
    if (x.row_nnz(r) == 0) continue;
    if (o.norm == Norm::kL2) PAPERSIM_FUZZ_CHECK(std::fabs(l2 - 1.0) < 1e-4, "l2 norm");
    if (o.norm == Norm::kL1) PAPERSIM_FUZZ_CHECK(std::fabs(l1 - 1.0) < 1e-4, "l1 norm");
  }
  return 0;
}
