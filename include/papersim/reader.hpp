#pragma once
/// @file reader.hpp
/// @brief Readers for abstract corpora: JSON Lines, JSON arrays, CSV/TSV, and
/// the two plain-text page layouts of the seed files; `.gz`, `.xz` and `.zst`
/// are decompressed transparently. The format is detected from the name and content.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "papersim/document.hpp"

namespace papersim {

/// Input formats. `kAuto` detects each file's format from its name, after any
/// `.gz`/`.xz`/`.zst` suffix (`.jsonl`/`.ndjson`, `.json`, `.csv`, `.tsv`/`.tab`),
/// else from its content: `[` = JSON array, `{` = JSON Lines, a first line
/// naming one of the read fields and split by tabs or commas = TSV or CSV,
/// otherwise plain text: `kPoster` when it has " · " author lines and few
/// blank lines, else `kListing`.
///
/// - kJsonl: one object per line; blank lines are not records.
/// - kJson: an array of objects, or objects one after another (pretty-printed
///   or not). Each element is parsed on its own, so one bad element is skipped
///   alone; a broken array structure ends the file (reported as one skip).
/// - kCsv / kTsv: a header row, then RFC 4180 rows (`"` quoting with `""`,
///   quoted fields across lines, LF/CRLF/CR line ends; TSV quotes the same way).
///   Header names match the field options case-insensitively (an exact match
///   wins). A header with none of the text columns is an InputError (not one
///   skip per row); a header without an abstract column gives a warning.
/// - kListing: leading page chrome ("new", "Subscribe", "Daily Papers",
///   "by AK ...", dates like "Mar 17") is skipped; then paragraphs separated by
///   blank lines pair up as title, abstract. A lone title or a lone abstract
///   (over 300 bytes or several lines) stays a record of its own.
/// - kPoster: a line containing " · " lists authors; the line above it is the
///   title and the lines below it, up to the next title, the abstract. Lines
///   above the first title are page header.
///
/// Values: strings as-is, numbers in their shortest form, lists of values
/// joined by ", ", null = absent. A UTF-8 byte order mark is ignored.
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
  /// Which parts make the document text, joined by "\n": "title", "abstract"
  /// (the resolved abstract), or any field name ("authors" also works for the
  /// poster layout). Blank parts are left out; a record whose parts are all
  /// blank is skipped as "record without text".
  std::vector<std::string> fields = {"title", "abstract"};
  /// Store the texts in `Corpus::packs` (a few thousand per pack) instead of
  /// `Document::text`: for callers that consume the texts once and want their
  /// memory back pack by pack (see `fit_transform_blocks`).
  bool pack_texts = false;
  /// Any bad record is an error (InputError) instead of being skipped and counted.
  bool strict = false;
  /// Field separator of CSV-like inputs; 0 = by format (',' for CSV, tab for TSV).
  /// With kAuto, a file whose first line names a read field split by this
  /// character is read as delimited text.
  char delimiter = 0;
  /// Column names a CSV/TSV header must have: each group is satisfied by any one
  /// of its names. A header missing a group is one InputError naming the
  /// header's columns (the CLI puts here the fields named explicitly).
  std::vector<std::vector<std::string>> required_columns;
  /// Largest record read, in bytes of input (a JSON Lines line, a JSON array
  /// element, a CSV row, a text paragraph). A larger record is skipped and
  /// reported as "<file>:<line>: record exceeds --max-record-bytes" (an error
  /// under `strict`), so one record never costs more than a small multiple of
  /// this in memory. From a pipe or device an over-long line is dropped as it
  /// streams; one that goes on for 64 times the limit without a line end is an
  /// InputError (an endless input). 0 means the default.
  std::size_t max_record_bytes = kDefaultMaxRecordBytes;
  static constexpr std::size_t kDefaultMaxRecordBytes = std::size_t{64} << 20;
  /// Parser threads for large JSON inputs and xz decoding; 0 = all hardware threads.
  int threads = 0;
  /// Called for each skipped record with its message "<file>:<line>: <reason>"
  /// (the CLI prints these); may be empty.
  std::function<void(const std::string&)> on_skip;
  /// Called once per file for a notice that is not an error, "<file>: <text>"
  /// (e.g. a header without an abstract column); may be empty.
  std::function<void(const std::string&)> on_warning;
};

/// Read every path in order ("-" is standard input) and append their documents
/// to one corpus, numbering `doc` from `first_doc`. `source` is
/// "<file name>:<line of the record's first line>"; a record without its own
/// id gets "<file name>:<record number>" (1-based, skipped records included).
/// Bad records are counted in `stats.skipped` under "malformed JSON",
/// "not a JSON object", "wrong number of fields", "malformed CSV",
/// "record without text", "invalid UTF-8" or "record exceeds
/// --max-record-bytes", each with a message
/// "<path>:<line>: <reason>[: detail]". Duplicate ids are kept and counted.
/// Memory: the documents, plus one input file (decompressed) at a time, of
/// which a JSON input's parsed part is handed back as parsing proceeds.
/// @throws InputError for a missing or unreadable file, undecodable
///   compressed data, binary data (NUL bytes in the first 64 KiB) or an
///   endless stream (always), or for the first bad record under `strict`.
/// @throws UsageError when `fields` names nothing.
Corpus read_corpus(const std::vector<std::string>& paths, const ReaderOptions& options,
                   std::int64_t first_doc = 0);

/// The records of one input as they are in its file, for writing kept records back
/// unchanged (`papersim dedup`). Record r (1-based, numbered as read_corpus numbers
/// them, see `Document::record`) is `records[r - 1]`.
struct RawRecords {
  InputFormat format = InputFormat::kAuto;  ///< kJsonl, kJson, kCsv or kTsv.
  char delimiter = ',';                     ///< kCsv / kTsv: the field separator.
  std::string header;                       ///< kCsv / kTsv: the header row as in the file.
  /// JSON Lines: the lines; JSON: the elements without whitespace between tokens
  /// (strings and numbers byte for byte); CSV/TSV: the rows with their quoting.
  std::vector<std::string> records;
};

/// Read `path` as read_corpus would (same format detection and options) and cut
/// it into its records' raw text.
/// @throws InputError for a plain-text layout (listing, poster), a JSON file that
///   is not an array of values, or a broken JSON structure.
RawRecords read_raw_records(const std::string& path, const ReaderOptions& options);

/// The fields of one CSV/TSV row (as in RawRecords::records), quotes removed.
std::vector<std::string> split_delimited_row(std::string_view row, char delimiter);

/// Parse a format name ("auto", "jsonl", "json", "csv", "tsv", "listing", "poster").
/// @throws UsageError for an unknown name.
InputFormat parse_input_format(const std::string& name);

/// Read a whole file into memory, decompressing `.gz`, `.xz` and `.zst` (by
/// magic bytes, not only by name). "-" reads standard input.
/// @throws InputError when the file cannot be opened or decoded.
std::string read_file_decompressed(const std::string& path);

}  // namespace papersim
