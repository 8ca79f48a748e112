#pragma once
/// @file reader.hpp
/// @brief Readers for abstract corpora: JSON Lines, JSON arrays, CSV/TSV, and
/// the two plain-text page layouts of the seed files; `.gz`, `.xz` and `.zst`
/// are decompressed transparently. The format is detected from the name and content.

#include <functional>
#include <string>
#include <vector>

#include "papersim/document.hpp"

namespace papersim {

/// Input formats. `kAuto` detects from the file extension and the first bytes.
enum class InputFormat { kAuto, kJsonl, kJson, kCsv, kTsv, kListing, kPoster };

/// Reader options; defaults read arXiv-style records as-is.
struct ReaderOptions {
  InputFormat format = InputFormat::kAuto;
  /// Field holding the id; when absent in a record the id is "<file name>:<record number>".
  std::string id_field = "id";
  /// Field holding the title.
  std::string title_field = "title";
  /// Fields tried in order for the abstract; the first present and non-empty wins.
  std::vector<std::string> text_fields = {"abstract", "summary"};
  /// Which parts make the document text, joined by "\n": "title", "abstract", or any field name.
  std::vector<std::string> fields = {"title", "abstract"};
  /// Any bad record is an error (InputError) instead of being skipped and counted.
  bool strict = false;
  /// Parser threads for large JSON inputs and xz decoding; 0 = all hardware threads.
  int threads = 0;
  /// Called for each skipped record with its message "<file>:<line>: <reason>"
  /// (the CLI prints these); may be empty.
  std::function<void(const std::string&)> on_skip;
};

/// Read every path in order ("-" is standard input) and append their documents
/// to one corpus, numbering `doc` from `first_doc`.
/// @throws InputError for a missing or unreadable file, or for any bad record under `strict`.
Corpus read_corpus(const std::vector<std::string>& paths, const ReaderOptions& options,
                   std::int64_t first_doc = 0);

/// Parse a format name ("auto", "jsonl", "json", "csv", "tsv", "listing", "poster").
/// @throws UsageError for an unknown name.
InputFormat parse_input_format(const std::string& name);

/// Read a whole file into memory, decompressing `.gz`, `.xz` and `.zst` (by
/// magic bytes, not only by name). "-" reads standard input.
/// @throws InputError when the file cannot be opened or decoded.
std::string read_file_decompressed(const std::string& path);

}  // namespace papersim
