#pragma once
// The steps every subcommand shares: read the inputs, fit TF-IDF, run the
// similarity engine, print the summary.

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "cli/output.hpp"
#include "papersim/clusters.hpp"
#include "papersim/comm.hpp"
#include "papersim/document.hpp"
#include "papersim/error.hpp"
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
  /// Records folded into their paper's first record by collapse_ids (-1: not collapsed).
  std::int64_t collapsed = -1;

  /// A run over several ranks (RunContext::comm): every rank has every
  /// document's metadata (`corpus.docs`) but read only its share of the inputs,
  /// and `x` holds only its rows: `local_queries` query rows, global rows
  /// [q_begin, ...), then its `local_references` reference rows, global
  /// reference rows [r_begin, ...) (0-based among the references). One process:
  /// the whole matrix, q_begin = r_begin = 0.
  Comm* comm = nullptr;
  std::int64_t local_queries = 0, q_begin = 0, r_begin = 0, local_references = 0;
  /// Non-zeros of the whole matrix (every rank's rows).
  std::int64_t total_nnz = 0;
  bool distributed() const { return comm != nullptr && comm->size() > 1; }
};

struct RunContext {
  bool quiet = false;
  int threads = 0;
  /// The processes of this run (never null in a command; size 1 = an ordinary run).
  Comm* comm = nullptr;
  bool distributed() const { return comm != nullptr && comm->size() > 1; }
  /// Where this rank writes an output: the path on rank 0, /dev/null on the
  /// others (rank 0 writes every output of a distributed run); "" stays "".
  std::string output_path(const std::string& path) const;
};

/// An error of a distributed run that every rank agreed on (agreed_phase), its
/// message already printed once: this rank ends with `code`, silently.
class PeerFailed : public Error {
 public:
  explicit PeerFailed(int code) : Error("another rank failed"), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

/// The exit code of an error (the README's table) and its message.
int exit_code_of(const std::exception_ptr& error);
std::string error_message(const std::exception_ptr& error);

/// Run `phase`, which must not communicate, then agree with every rank (a
/// collective): when it threw anywhere, the lowest failing rank rethrows its
/// error's message (the one message), and every rank throws PeerFailed with its exit code,
/// so no rank waits forever on one that failed. One process: just `phase`.
void agreed_phase(Comm* comm, const std::function<void()>& phase);

/// Write a run's outputs: `write` runs on rank 0, which holds every result, and
/// every rank agrees on its outcome (agreed_phase). One process: just `write`.
void write_at_root(const RunContext& ctx, const std::function<void()>& write);

/// Write one output made of every rank's part, in rank order: `header` and
/// rank 0's part, then each other rank's bytes as they arrive (rank 0 holds at
/// most one other part), then close `file` (rank 0's; the others' is not
/// touched). A collective: every rank agrees on the outcome. One process:
/// header, `mine`, close.
void write_parts_at_root(const RunContext& ctx, OutputFile& file, const std::string& header,
                         const std::string& mine);

/// A distributed run's matrix, whole, at rank 0 (rows in global order) for the
/// steps that read any row (clusters, dedup's representatives, reports). A
/// collective; nothing to do for one process.
void gather_matrix_at_root(Vectorized& v);

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

/// --collapse-ids: records sharing an id are one paper, represented by its first
/// record. Keeps, on each side (inputs, and references with --against), the first
/// record of every id and drops the later ones from `docs` and `x` (a row gather;
/// TF-IDF stays fitted on every record). Document::doc keeps the input numbering.
void collapse_ids(Vectorized& v);

/// After a cross run under --collapse-ids: drop the neighbours and pairs whose
/// reference has its query's id (the same paper on both sides), and cut each list
/// to `k` (run with k + 1, since at most one reference shares a query's id).
/// `r.topk[i]` is the list of query `first_query + i` (a rank's own rows).
void drop_same_id_matches(const Vectorized& v, SimilarityResult& r, std::int64_t k,
                          std::int64_t first_query = 0);

/// The --collapse-ids flag (one help text for every command that has it).
void add_collapse_ids_flag(CLI::App& cmd, bool& collapse);

/// run_similarity, then drop_same_id_matches when `v` was collapsed (a cross run
/// asks for one more neighbour per list to make up for the one it may drop).
SimilarityResult run_collapsed_similarity(const Vectorized& v, SimilarityBackend& backend,
                                          SimilarityParams params, const RunContext& ctx,
                                          bool gather = true);

/// Options every corpus-reading subcommand takes.
struct CorpusArgs {
  std::vector<std::string> inputs;
  std::vector<std::string> against;
  std::string index;  ///< --index: a saved index the inputs are matched against.
  ReaderCli reader;
  TfidfCli tfidf;
  EngineCli engine;
  bool collapse = false;

  /// The positional inputs, --against when `against_help` is not empty, --collapse-ids
  /// when asked, and the reader, TF-IDF and engine groups.
  void add_to(CLI::App& cmd, const std::string& inputs_help, const std::string& against_help,
              bool with_collapse);
  /// Set by the command's registration: the processes of the run.
  Comm* comm = nullptr;
  /// Quiet on every rank but 0 (rank 0 reports for all).
  RunContext context() const {
    return {engine.quiet || (comm != nullptr && !comm->is_root()), engine.threads, comm};
  }
  /// Every file the command reads (inputs, --against, --index, a stop-word
  /// file), for check_outputs_not_inputs.
  std::vector<std::string> read_files() const;
  /// load_and_vectorize, then collapse_ids under --collapse-ids.
  Vectorized load(const RunContext& ctx, bool keep_text) const;
};

/// `inputs` and the stop-word file `tfidf` names, if any: what a command that
/// fits TF-IDF reads, for check_outputs_not_inputs.
std::vector<std::string> files_read(const std::vector<std::string>& inputs, const TfidfCli& tfidf);

/// The current UTC time as ISO 8601 ("2026-12-02T06:40:00Z"), for report stamps.
std::string utc_now();

/// Everything a run can check before reading any input: the TF-IDF options
/// (stemmer language included) and the similarity parameters; with `engine`,
/// also the backend (`--backend cuda` without a device, `--devices` naming no
/// device), which is made here and returned for run_similarity. Fails in well
/// under a second whatever the inputs. @throws UsageError, BackendUnavailable.
void check_tfidf_options(const TfidfCli& tfidf, const RunContext& ctx);
/// In a distributed run (`comm` of several ranks) on the CUDA backend, each rank
/// gets one device of `params.devices` (all visible when empty) by its
/// node-local rank (local_device): `params.devices` is set to it.
std::unique_ptr<SimilarityBackend> make_checked_backend(const EngineCli& engine,
                                                        SimilarityParams& params,
                                                        const Comm* comm = nullptr);

/// Run `backend` on `queries` alone (self join, `references` null) or against
/// `references`, with a progress bar.
SimilarityResult run_join(SimilarityBackend& backend, const CsrView& queries,
                          const CsrView* references, SimilarityParams params,
                          const RunContext& ctx);

/// The queries of `v` joined with themselves (a self join over rows [0, queries)).
SimilarityResult run_query_self_join(const Vectorized& v, SimilarityBackend& backend,
                                     SimilarityParams params, const RunContext& ctx);

/// Run `backend` (self join, or queries × references) with a progress bar. In a
/// distributed run, a collective: rank 0 gets the whole result, the others an
/// empty one with the global counters; with `gather` false, every rank keeps the
/// lists of its own query rows (Vectorized::q_begin on) and the pairs it found,
/// with the global counters.
SimilarityResult run_similarity(const Vectorized& v, SimilarityBackend& backend,
                                SimilarityParams params, const RunContext& ctx, bool gather = true);

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
