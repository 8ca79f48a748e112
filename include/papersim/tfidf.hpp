#pragma once
/// @file tfidf.hpp
/// @brief Tokenizer and TF-IDF model with scikit-learn TfidfVectorizer semantics.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "papersim/csr.hpp"

namespace papersim {

class Comm;

enum class StripAccents { kNone, kAscii, kUnicode };
enum class Norm { kL2, kL1, kNone };

/// A document-frequency bound: an integer count, or a proportion of documents.
struct DfBound {
  bool is_fraction = true;
  double value = 1.0;  ///< Count when `is_fraction` is false.
  static DfBound count(std::int64_t n) { return {false, static_cast<double>(n)}; }
  static DfBound fraction(double f) { return {true, f}; }
  /// Parse "5" (count) or "0.5" / "1.0" (fraction), as scikit-learn reads int vs float.
  static DfBound parse(const std::string& text);
};

/// Options named and defaulted as scikit-learn's TfidfVectorizer (`preset("sklearn")`).
struct TfidfOptions {
  bool lowercase = true;
  StripAccents strip_accents = StripAccents::kNone;
  std::string token_pattern = R"((?u)\b\w\w+\b)";
  /// Empty: none; otherwise the stop words themselves (see `english_stop_words()`).
  std::vector<std::string> stop_words;
  int ngram_min = 1;
  int ngram_max = 1;
  DfBound min_df = DfBound::count(1);
  DfBound max_df = DfBound::fraction(1.0);
  std::optional<std::int64_t> max_features;
  bool binary = false;
  bool sublinear_tf = false;
  bool smooth_idf = true;
  bool use_idf = true;
  Norm norm = Norm::kL2;
  // Extensions beyond scikit-learn (off in the sklearn preset).
  /// Snowball stemmer language ("english", ...), empty for none.
  std::string stemmer;
  /// Remove LaTeX markup (commands, math delimiters, braces) before tokenizing.
  bool strip_latex = false;
  /// Worker threads for tokenization and counting; 0 = all cores.
  int threads = 0;
  /// Print each phase's wall and process CPU time on stderr (for tuning: the phases
  /// scale differently with cores and corpus). Off by default; results are unaffected.
  bool print_phase_times = false;
};

/// Options of a named preset: "sklearn" (TfidfVectorizer defaults) or "abstracts" (papersim's
/// default).
/// @throws UsageError for an unknown preset.
TfidfOptions tfidf_preset(const std::string& name);

/// scikit-learn's ENGLISH_STOP_WORDS (318 words).
const std::vector<std::string>& english_stop_words();

/// Fitted TF-IDF model.
struct TfidfModel {
  std::vector<std::string> vocabulary;  ///< Column order (sorted by UTF-8 bytes, as scikit-learn).
  std::vector<std::int64_t> df;         ///< Document frequency per column.
  std::vector<double> idf;              ///< Per column (empty when `use_idf` is false).
  std::int64_t documents = 0;
};

/// Check `options` without any text: ranges, the token pattern and the stemmer
/// language, so a command can fail before reading its inputs.
/// @throws UsageError naming the bad option.
void validate_tfidf_options(const TfidfOptions& options);

/// Split one document into tokens (after preprocessing, before stop words and n-grams).
std::vector<std::string> tokenize(const std::string& text, const TfidfOptions& options);

/// Fit on `texts` and return the TF-IDF matrix (rows = texts, float32, rows normalized per `norm`).
CsrMatrix fit_transform(const std::vector<std::string>& texts, const TfidfOptions& options,
                        TfidfModel* model);

/// Same, taking pointers so callers need not copy document texts.
CsrMatrix fit_transform(const std::vector<const std::string*>& texts, const TfidfOptions& options,
                        TfidfModel* model);

/// Same, but each text is emptied (its memory freed) as soon as it has been
/// tokenized: for callers that no longer need the texts, peak memory then holds
/// the texts or the matrix, not both.
CsrMatrix fit_transform_consuming(const std::vector<std::string*>& texts,
                                  const TfidfOptions& options, TfidfModel* model);

/// Same, for texts the caller keeps in blocks and frees block by block as they
/// are tokenized (as `Corpus::packs`). `texts[d]` is row d's text; block b
/// holds rows [block_ends[b - 1], block_ends[b]) (block_ends[-1] = 0), so
/// `block_ends` ascends to texts.size(). `release(b)` is called once per block,
/// from any worker thread, as soon as all of its texts are tokenized; they are
/// not read afterwards.
/// With `comm` of more than one rank (papersim/comm.hpp), a collective call:
/// `texts` are this rank's documents, rows are returned for them alone, and the
/// model (vocabulary, df, idf, documents) is fitted on every rank's documents
/// together, identical on every rank and to one process fitting them all, so
/// every value of every row is too.
/// @throws UsageError when `block_ends` does not cover the texts in order.
CsrMatrix fit_transform_blocks(const std::vector<std::string_view>& texts,
                               const std::vector<std::int64_t>& block_ends,
                               const std::function<void(std::size_t)>& release,
                               const TfidfOptions& options, TfidfModel* model,
                               Comm* comm = nullptr);

/// What `transform` met in its documents beyond the rows themselves: how much of
/// their text the frozen vocabulary could not represent (the drift of the model).
/// "Terms" are the model's features: tokens after stop words and stemming, or
/// n-grams when `ngram_range` asks for them.
struct TransformStats {
  std::int64_t documents = 0;
  std::int64_t terms_in_vocabulary = 0;      ///< Term occurrences kept.
  std::int64_t terms_out_of_vocabulary = 0;  ///< Term occurrences ignored.
  /// Per vocabulary column: how many of the documents contain the term.
  std::vector<std::int64_t> df;
  /// Distinct terms outside the vocabulary with the number of documents
  /// containing each, sorted by term bytes.
  std::vector<std::pair<std::string, std::int64_t>> new_terms;
};

/// Vectorize documents with a fitted (frozen) model, as scikit-learn's
/// `TfidfVectorizer.transform`: the vocabulary, idf and options are the model's,
/// terms outside the vocabulary are ignored (counted in `stats`), rows are
/// weighted and normalized over the terms kept. Rows are `texts` in order,
/// `model.vocabulary.size()` columns. `options` must be the options the model
/// was fitted with (pruning options such as min_df no longer apply).
/// @throws Error when the model is empty or its idf does not match its vocabulary.
CsrMatrix transform(const std::vector<std::string_view>& texts, const TfidfModel& model,
                    const TfidfOptions& options, TransformStats* stats);

/// A fitted model read in place (a saved index), without a copy of its
/// vocabulary: `find` maps a term to its column, or -1 when the term is outside
/// the vocabulary, and must be safe to call from several threads at once.
/// `idf` points to `columns` weights (nullptr when `use_idf` is false).
struct TfidfModelView {
  std::int64_t columns = 0;
  std::function<std::int32_t(std::string_view)> find;
  const double* idf = nullptr;
};

/// `transform` with a model view: the same rows, byte for byte, as `transform`
/// of the model the view reads.
/// @throws Error when the view has no columns, or no idf while `use_idf` is on.
CsrMatrix transform(const std::vector<std::string_view>& texts, const TfidfModelView& model,
                    const TfidfOptions& options, TransformStats* stats);

}  // namespace papersim
