#pragma once
// `papersim index build|add|related|info`, and the `--index NAME.psx` mode of
// `related` and `duplicates` (queries matched against a saved index).

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/pipeline.hpp"

namespace papersim::cli {

void register_index_commands(CLI::App& app, TempFileRegistry& temps);

/// What `related`/`duplicates` pass on when given `--index`.
struct IndexQueryArgs {
  std::string index;
  std::vector<std::string> inputs;
  const ReaderCli* reader = nullptr;
  const EngineCli* engine = nullptr;
  /// The subcommand, to reject TF-IDF options (the index's model fixes them) and --against.
  const CLI::App* command = nullptr;
  bool against_given = false;
};

/// Options of `--index` that must be checked before any input is read.
/// @throws UsageError for TF-IDF options or --against given with --index.
void check_index_query_args(const IndexQueryArgs& args);

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
