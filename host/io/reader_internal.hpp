#pragma once
// Internals shared by the format parsers of the io component: the input
// buffer, the compiled field plan, and the per-file parse result that
// read_corpus turns into numbered documents.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "papersim/document.hpp"
#include "papersim/reader.hpp"

namespace papersim::io {

/// simdjson parses a record in place when this many readable bytes follow it
/// (their content is irrelevant).
constexpr std::size_t kPadding = 64;

/// A line dropped from a streamed input because it exceeded the record size
/// limit: its line end stays in the buffer, so later line numbers hold.
struct ElidedLine {
  std::int64_t line = 0;
  std::uint64_t bytes = 0;
};

struct Sink;

/// Bounds what a stream (standard input, a pipe, a device, decompressed data)
/// may make papersim hold, as its bytes arrive:
/// - a NUL byte in the first 64 KiB: binary data, an InputError;
/// - a line longer than `max_record` is dropped as it streams (its bytes
///   never accumulate) and reported as an ElidedLine; one that goes on for
///   kEndlessFactor times the limit without a line end is an InputError
///   ("an endless input?"). Streams whose first byte is '[' (a JSON array,
///   often one line) are exempt: their elements are checked when cut;
/// - more bytes than the machine's physical memory: an InputError.
/// A stream that starts with a compression magic is not checked (its
/// decompressed bytes are).
class StreamGuard {
 public:
  static constexpr std::size_t kProbeBytes = 64 << 10;
  static constexpr std::uint64_t kEndlessFactor = 64;
  /// `cut_lines` false: the input is known to be JSON (--input-format json),
  /// whose records need not be lines; only binary data and size are checked.
  StreamGuard(std::string name, std::size_t max_record, bool cut_lines = true);
  /// Inspect the bytes [from, sink.size) just appended; may drop some.
  void check(Sink& sink, std::size_t from);
  /// The stream ended: report a last line still being dropped.
  void finish();
  std::vector<ElidedLine>& elided() { return elided_; }

 private:
  std::string name_;
  std::uint64_t max_record_;
  std::uint64_t max_total_;
  bool seen_bytes_ = false, started_ = false, off_ = false, lines_ = true, dropping_ = false;
  std::size_t run_start_ = 0;  // first byte of the current line
  std::size_t pos_ = 0;        // first byte not yet scanned for line ends
  std::uint64_t dropped_ = 0;
  std::int64_t line_ = 1;
  std::vector<ElidedLine> elided_;
};

/// A growing malloc'd output buffer (decompression, unmappable inputs).
struct Sink {
  char* buf = nullptr;
  std::size_t cap = 0;
  std::size_t size = 0;
  StreamGuard* guard = nullptr;  ///< Checks appended bytes when set.
  explicit Sink(std::size_t hint);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  /// Free bytes at tail(), growing when short; kPadding bytes stay spare.
  std::size_t avail();
  char* tail() { return buf + size; }
  /// `n` bytes were written at tail().
  void grew(std::size_t n) {
    const std::size_t from = size;
    size += n;
    if (guard != nullptr && n > 0) guard->check(*this, from);
  }
  /// Hand the buffer over (the caller frees it with std::free).
  char* release(std::size_t& capacity);
};

/// A whole input in memory, decompressed: a read-only mapping of an
/// uncompressed regular file (no copy, no fresh pages to clear), or a malloc'd
/// buffer. `readable()` bytes from view().data() may be read: at least
/// size(), plus the padding simdjson needs where it was available.
class InputBuffer {
 public:
  InputBuffer() = default;
  InputBuffer(InputBuffer&& other) noexcept { *this = std::move(other); }
  InputBuffer& operator=(InputBuffer&& other) noexcept;
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;
  ~InputBuffer() { release(); }

  std::string_view view() const { return std::string_view(data_, size_); }
  std::size_t readable() const { return readable_; }
  /// Take over the sink's buffer (padded here).
  void own(Sink& sink);
  /// Adopt a mapping of `map_len` bytes whose first `size` bytes are the content.
  void adopt_map(void* map, std::size_t map_len, std::size_t size);
  /// The bytes before `end` (a pointer into view()) will not be read again:
  /// hand their whole pages back to the system (a mapping would reread them
  /// from the page cache if touched after all; a heap buffer would read zeros).
  void release_before(const char* end);
  /// The content as a string (a copy), releasing the buffer.
  std::string take_string();
  void release();
  /// Over-long lines dropped while streaming (see StreamGuard).
  std::vector<ElidedLine>& elided() { return elided_; }

 private:
  char* heap_ = nullptr;  // malloc'd
  void* map_ = nullptr;
  std::size_t map_len_ = 0;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t readable_ = 0;
  const char* released_ = nullptr;  // Pages before this were handed back.
  std::vector<ElidedLine> elided_;
};

/// Read `path` ("-" = stdin) and decompress by magic bytes, using up to
/// `threads` threads where the codec can (xz). Streams are bounded by a
/// StreamGuard with `max_record` (0 = ReaderOptions' default); a mapped
/// regular file is only checked for binary data. Throws InputError.
InputBuffer read_input(const std::string& path, int threads, std::size_t max_record = 0,
                       bool cut_lines = true);

/// A regular file mapped read-only without reading it (pages are read as they
/// are touched), for reading a part of it; an empty buffer when the file cannot
/// be mapped (a pipe, a special file, an empty file). Throws InputError when it
/// cannot be opened or is a directory.
InputBuffer map_input(const std::string& path);
/// Whether `head` starts with a gzip, xz or zstd magic.
bool is_compressed(std::string_view head);
/// The binary-data test read_input applies (a NUL byte in the first 64 KiB):
/// throws InputError naming `name`.
void check_binary(const std::string& name, std::string_view head);

/// Which record fields a reader extracts, compiled once from ReaderOptions.
/// Structured formats fill `values[i]` for `names[i]`.
struct FieldPlan {
  std::vector<std::string> names;  ///< Distinct field names to extract.
  int id = -1;                     ///< Index in `names` of the id field.
  int title = -1;                  ///< Index of the title field.
  std::vector<int> text;           ///< Indices of the abstract candidates, in order.
  static constexpr int kTitlePart = -1;
  static constexpr int kAbstractPart = -2;
  std::vector<int> parts;      ///< Document text parts: kTitlePart, kAbstractPart or a field index.
  bool pack = false;           ///< ReaderOptions::pack_texts.
  std::size_t max_record = 0;  ///< ReaderOptions::max_record_bytes.

  /// ReaderOptions::required_columns (header column groups that must be present).
  std::vector<std::vector<std::string>> required_columns;

  explicit FieldPlan(const ReaderOptions& options);
  /// Index of `name` in `names`, or -1.
  int find(std::string_view name) const;
  /// Index of the name equal to `name` ignoring ASCII case, or -1.
  int find_ignoring_case(std::string_view name) const;
};

/// One record's extracted values (reused across records to keep allocations down).
struct RecordValues {
  std::vector<std::string> values;
  std::vector<char> present;
  void reset(std::size_t n) {
    values.resize(n);
    present.assign(n, 0);
    for (auto& v : values) v.clear();
  }
};

/// A kept record before numbering: its id is empty when the record had none.
struct PendingDoc {
  std::int64_t line = 0;    ///< 1-based line of the record's first line.
  std::int64_t record = 0;  ///< 1-based record number within its file.
  bool title_only = false;  ///< The abstract was blank or absent but the title gave text.
  std::string id, title, text;
};

/// A skipped record.
struct Skip {
  std::int64_t line = 0;
  std::string reason;  ///< Stats key: "malformed JSON", "invalid UTF-8", ...
  std::string detail;  ///< Extra words for the message, may be empty.
};

/// What one file's parser produced, in file order.
struct FileResult {
  std::vector<PendingDoc> docs;
  /// When the parser packed the texts (FieldPlan::pack): `docs[i].text` is
  /// empty and the packs hold the texts of `docs` in order.
  std::vector<TextPack> packs;
  std::vector<Skip> skips;
  std::int64_t records = 0;  ///< Records seen, kept or skipped.
  /// A problem with the whole file (a header that cannot be read as asked):
  /// read_corpus throws InputError at `fatal_line` with this text.
  std::string fatal;
  std::int64_t fatal_line = 0;
  /// Notices for the user that are not errors (ReaderOptions::on_warning).
  std::vector<std::string> warnings;
};

/// A whole file's parse result, or (in a distributed read) the result of one
/// byte range of it, ready to become documents (CorpusBuilder).
struct FilePiece {
  std::int32_t file = 0;  ///< Index of the file in the paths read.
  InputFormat format = InputFormat::kAuto;
  /// The piece that starts at the file's first byte: the others' warnings are
  /// dropped (every piece of a delimited file parses the header again).
  bool first = true;
  /// Its texts are here (Document::text or the packs); else only the metadata.
  bool local = true;
  /// Line numbers are the file's; record numbers count from the piece's first record.
  FileResult result;
  /// A failure to read the file, thrown (as InputError) where one process would
  /// have thrown it: `error` is the message without its "<file>:<line>: " prefix.
  std::string error;
  std::int64_t error_line = 0;
};

/// Read and parse a whole file as read_corpus does (format detection, lines a
/// stream dropped); an InputError of reading it is kept in the piece.
FilePiece read_file_piece(const std::string& path, std::int32_t file, const ReaderOptions& options,
                          const FieldPlan& plan, int threads);

/// Turns file pieces, in input order, into the numbered documents and
/// statistics of read_corpus: skip messages, `--strict`, the JSON named-field
/// check, record numbers and default ids, duplicate ids. Pieces that are not
/// local contribute their documents' metadata (no text).
class CorpusBuilder {
 public:
  CorpusBuilder(const std::vector<std::string>& paths, const ReaderOptions& options,
                std::int64_t first_doc);
  /// Every piece of one file, in byte order (at least one).
  /// @throws InputError as read_corpus would for that file.
  void add_file(std::vector<FilePiece>& pieces);
  /// The corpus (duplicate ids counted now).
  Corpus finish();
  /// `Document::doc` of the first and one past the last document of the local
  /// pieces (equal when there is none).
  std::int64_t local_begin() const { return local_begin_; }
  std::int64_t local_end() const { return local_end_; }

 private:
  const std::vector<std::string>& paths_;
  const ReaderOptions& options_;
  bool pack_;
  Corpus corpus_;
  std::int64_t next_doc_;
  std::int64_t local_begin_ = -1, local_end_ = -1;
};

// Skip reasons (the keys of ReadStats::skipped).
inline constexpr const char* kReasonJson = "malformed JSON";
inline constexpr const char* kReasonNotObject = "not a JSON object";
inline constexpr const char* kReasonFieldCount = "wrong number of fields";
inline constexpr const char* kReasonCsv = "malformed CSV";
inline constexpr const char* kReasonNoText = "record without text";
inline constexpr const char* kReasonUtf8 = "invalid UTF-8";
inline constexpr const char* kReasonTooLarge = "record exceeds --max-record-bytes";

/// The detail of a kReasonTooLarge skip: "<n> bytes, limit <max>".
std::string too_large_detail(std::uint64_t bytes, std::uint64_t max);

/// Turn extracted values into a PendingDoc, or return false with the reason
/// in `skip` (a record without text).
bool assemble_record(const FieldPlan& plan, RecordValues& values, std::int64_t line,
                     std::int64_t record, PendingDoc& out, Skip& skip);

/// Assemble a record of the plain-text layouts: fixed title/authors/abstract.
bool assemble_plain(const FieldPlan& plan, std::string_view title, std::string_view authors,
                    std::string_view abstract, std::int64_t line, std::int64_t record,
                    PendingDoc& out, Skip& skip);

/// Whether `a` and `b` are equal ignoring ASCII case.
bool equal_ignoring_case(std::string_view a, std::string_view b);

/// Whether `s` is valid UTF-8.
bool valid_utf8(std::string_view s);

/// White space between records: what std::isspace accepts in the C locale
/// (space, \t, \n, \v, \f, \r). Format detection, the JSON record scanner
/// and the blank-line test of JSON Lines all use this one definition, so a
/// byte that detection skips is never left for the scanner to trip on.
/// simdjson itself sees only the record bytes between such runs.
inline bool is_record_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Format parsers. `text` excludes any UTF-8 BOM; for the JSON parsers,
// `readable` bytes from text.data() may be read (>= text.size()): records
// ending within kPadding of that limit are copied before parsing.
/// `release(p)`, when given, is told that the bytes before `p` are parsed and
/// not read again (called under a lock, with `p` increasing).
using ReleaseFn = std::function<void(const char*)>;
FileResult parse_jsonl(std::string_view text, std::size_t readable, const FieldPlan& plan,
                       int threads, const ReleaseFn& release = {});
/// A JSON array of objects, or a sequence of top-level objects (pretty-printed
/// or not).
FileResult parse_json(std::string_view text, std::size_t readable, const FieldPlan& plan,
                      int threads, const ReleaseFn& release = {});
FileResult parse_delimited(std::string_view text, char delimiter, const FieldPlan& plan);
/// The raw rows of a delimited file (blank lines are not rows): the header row in
/// `header`, then each record row, without line ends.
std::vector<std::string_view> delimited_rows(std::string_view text, char delimiter,
                                             std::string_view* header);
FileResult parse_listing(std::string_view text, const FieldPlan& plan);
FileResult parse_poster(std::string_view text, const FieldPlan& plan);

/// JSON inputs: a field named explicitly (ReaderOptions::required_columns) that no
/// kept record of the file (all its pieces) has is a typo, not data: the
/// message, or "" when every such field was seen; `*line` is then the first
/// document's line.
std::string named_fields_missing(const ReaderOptions& options,
                                 const std::vector<const FileResult*>& pieces, std::int64_t* line);

/// The end of a delimited file's header row (after its line end; leading blank
/// lines included), or text.size() when the file holds no complete header.
std::size_t delimited_header_end(std::string_view text, char delimiter);

/// Detect the format of a file from its name and first bytes.
InputFormat detect_format(const std::string& path, std::string_view text,
                          const ReaderOptions& options);

}  // namespace papersim::io
