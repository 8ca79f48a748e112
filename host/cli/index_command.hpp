#pragma once
// `papersim index build|add|related|info`, and the `--index NAME.psx` mode of
// `related`, `duplicates` and `check` (queries matched against a saved index).

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/pipeline.hpp"
#include "papersim/index.hpp"

namespace papersim::cli {

void register_index_commands(CLI::App& app, TempFileRegistry& temps, Comm& comm);

/// What `related`/`duplicates`/`check` pass on when given `--index`.
struct IndexQueryArgs {
  std::string index;
  std::vector<std::string> inputs;
  const ReaderCli* reader = nullptr;
  const EngineCli* engine = nullptr;
  /// The subcommand, to reject TF-IDF options (the index's model fixes them), --against
  /// and --collapse-ids.
  const CLI::App* command = nullptr;
  bool against_given = false;
};

/// The `--index` run of a command whose corpus options are `a` (its subcommand `cmd`).
IndexQueryArgs index_query_args(const CorpusArgs& a, const CLI::App& cmd);

/// What `related`/`duplicates`/`check` check before any input is read: with
/// `--index`, check_index_query_args; else the TF-IDF options.
void check_corpus_options(const CorpusArgs& a, const CLI::App& cmd, const RunContext& ctx);

/// Options of `--index` that must be checked before any input is read.
/// @throws UsageError for TF-IDF options, --against or --collapse-ids given with --index;
/// InputError when the index file does not exist.
void check_index_query_args(const IndexQueryArgs& args);

/// The queries of an `--index` run, vectorized with the index's frozen model.
struct QueryRun {
  Index index;
  Corpus corpus;  ///< The queries; their texts are released unless loaded with `keep_text`.
  CsrMatrix q;    ///< Their TF-IDF rows under the index's model.
  TransformStats transform;
  double load_seconds = 0, read_seconds = 0, vectorize_seconds = 0;
};

/// Open (and verify) the index, read the queries and vectorize them with its model.
QueryRun load_queries(const IndexQueryArgs& args, const RunContext& ctx, bool keep_text);

/// Every query against every indexed document: top-k lists (`params.k` > 0) and
/// pairs >= `params.threshold`, in index doc numbers.
SimilarityResult match_index(const QueryRun& run, SimilarityBackend& backend,
                             SimilarityParams params, const RunContext& ctx);

/// An output's document table: the queries, then only the indexed documents that
/// the results name (an index may hold millions), which keep their index doc
/// numbers; `compact` maps an index doc to its position after the queries.
struct ResultDocs {
  std::vector<Document> docs;
  std::vector<std::int64_t> refs;  ///< Index doc of each entry after the queries, ascending.
  std::int64_t compact(std::int64_t index_doc) const;
};
/// The table for results naming the index docs `refs` (any order, repeats allowed).
ResultDocs result_docs(const QueryRun& run, std::vector<std::int64_t> refs);
/// The TF-IDF rows of `docs.docs` (queries, then the named indexed documents), for
/// clusters and exact scores over the output table.
CsrMatrix result_rows(const QueryRun& run, const ResultDocs& docs);

/// The end-of-run summary of an `--index` run on stderr (suppressed by --quiet);
/// `pairs`/`clusters` negative are not shown.
void print_query_summary(const QueryRun& run, const SimilarityResult& result, std::int64_t pairs,
                         std::int64_t clusters, double total_seconds, const RunContext& ctx);

/// `related QUERIES --index NAME.psx`: every query's top-k among the indexed documents.
void related_with_index(const IndexQueryArgs& args, SimilarityBackend& backend,
                        SimilarityParams params, OutFormat format, OutputFile& out,
                        const RunContext& ctx);

/// `duplicates QUERIES --index NAME.psx`: every (query, indexed document) pair >= threshold,
/// and with `clusters` their connected components.
void duplicates_with_index(const IndexQueryArgs& args, SimilarityBackend& backend,
                           SimilarityParams params, OutFormat format, OutputFile& out,
                           OutputFile* clusters, const RunContext& ctx);

}  // namespace papersim::cli
