#pragma once
// The steps every subcommand shares: read the inputs, fit TF-IDF, run the
// similarity engine, print the summary.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "papersim/clusters.hpp"
#include "papersim/document.hpp"
#include "papersim/similarity.hpp"
#include "papersim/tfidf.hpp"

namespace papersim::cli {

/// Documents and their TF-IDF rows. Rows [0, queries) are the INPUT documents;
/// with --against, rows [queries, docs) are the reference documents.
struct Vectorized {
  Corpus corpus;
  std::int64_t queries = 0;
  bool cross = false;
  TfidfOptions options;
  std::string options_text;
  TfidfModel model;
  CsrMatrix x;
  double read_seconds = 0, vectorize_seconds = 0;
};

struct RunContext {
  bool quiet = false;
  int threads = 0;
};

/// Reader options from the command line, printing the first skipped records on
/// stderr (counting them in `*printed`, which must outlive the reading).
ReaderOptions reader_options(const ReaderCli& reader, const RunContext& ctx, bool pack_texts,
                             int* printed);

/// Read INPUT (and REF) files and fit TF-IDF on their union. Skipped records are
/// reported on stderr; an empty corpus is a UsageError. Document texts are
/// released afterwards unless `keep_text`.
Vectorized load_and_vectorize(const std::vector<std::string>& inputs,
                              const std::vector<std::string>& references, const ReaderCli& reader,
                              const TfidfCli& tfidf, const RunContext& ctx, bool keep_text);

/// Everything a run can check before reading any input: the TF-IDF options
/// (stemmer language included) and the similarity parameters; with `engine`,
/// also the backend (`--backend cuda` without a device, `--devices` naming no
/// device), which is made here and returned for run_similarity. Fails in well
/// under a second whatever the inputs. @throws UsageError, BackendUnavailable.
void check_tfidf_options(const TfidfCli& tfidf, const RunContext& ctx);
std::unique_ptr<SimilarityBackend> make_checked_backend(const EngineCli& engine,
                                                        const SimilarityParams& params);

/// Run `backend` (self join, or queries × references) with a progress bar.
SimilarityResult run_similarity(const Vectorized& v, SimilarityBackend& backend,
                                SimilarityParams params, const RunContext& ctx);
/// The same with the backend chosen by `engine`.
SimilarityResult run_similarity(const Vectorized& v, const EngineCli& engine,
                                SimilarityParams params, const RunContext& ctx);

/// Threshold pairs in the full matrix's row space (cross pairs shifted), for clusters.
std::vector<ScoredPair> pairs_in_doc_space(const Vectorized& v,
                                           const std::vector<ScoredPair>& pairs);

/// The end-of-run summary on stderr (suppressed by --quiet).
struct Summary {
  const Vectorized* v = nullptr;
  const SimilarityResult* result = nullptr;
  std::int64_t duplicates = -1;
  std::int64_t clusters = -1;
  double total_seconds = 0;
};
void print_summary(const Summary& s, const RunContext& ctx);
/// The engine lines of the summary (backend, pairs, empty rows, re-scoring).
void print_engine_stats(const SimilarityStats& stats);

}  // namespace papersim::cli
