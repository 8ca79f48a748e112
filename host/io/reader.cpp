// read_corpus: reads each input, detects its format, runs the format parser,
// and turns the records into numbered documents with their skip accounting.
#include "papersim/reader.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_set>

#include "common/util.hpp"
#include "io/reader_internal.hpp"
#include "papersim/error.hpp"

namespace papersim {
namespace io {

FieldPlan::FieldPlan(const ReaderOptions& options) {
  auto add = [this](const std::string& name) {
    int i = find(name);
    if (i >= 0) return i;
    names.push_back(name);
    return static_cast<int>(names.size()) - 1;
  };
  if (!options.id_field.empty()) id = add(options.id_field);
  if (!options.title_field.empty()) title = add(options.title_field);
  for (const auto& f : options.text_fields) {
    if (!f.empty()) text.push_back(add(f));
  }
  pack = options.pack_texts;
  required_columns = options.required_columns;
  max_record = options.max_record_bytes > 0 ? options.max_record_bytes
                                            : ReaderOptions::kDefaultMaxRecordBytes;
  for (const auto& f : options.fields) {
    if (f == "title") {
      parts.push_back(kTitlePart);
    } else if (f == "abstract") {
      parts.push_back(kAbstractPart);
    } else if (!f.empty()) {
      parts.push_back(add(f));
    }
  }
}

int FieldPlan::find(std::string_view name) const {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

int FieldPlan::find_ignoring_case(std::string_view name) const {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (equal_ignoring_case(names[i], name)) return static_cast<int>(i);
  }
  return -1;
}

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

namespace {

bool blank(std::string_view s) {
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Join the non-blank parts with "\n"; blank parts add nothing, so a record
// missing one field does not get stray separators.
void append_part(std::string& text, std::string_view part) {
  if (blank(part)) return;
  if (!text.empty()) text.push_back('\n');
  text.append(part);
}

}  // namespace

bool assemble_record(const FieldPlan& plan, RecordValues& rv, std::int64_t line,
                     std::int64_t record, PendingDoc& out, Skip& skip) {
  static const std::string kEmpty;
  const std::string& title = plan.title >= 0 ? rv.values[plan.title] : kEmpty;
  const std::string* abstract = &kEmpty;
  for (int i : plan.text) {
    if (rv.present[i] && !blank(rv.values[i])) {
      abstract = &rv.values[i];
      break;
    }
  }
  auto part = [&](int p) -> const std::string& {
    return p == FieldPlan::kTitlePart      ? title
           : p == FieldPlan::kAbstractPart ? *abstract
                                           : rv.values[p];
  };
  // One exact allocation per text: the corpus is hundreds of MB of these.
  std::size_t total = 0;
  for (int p : plan.parts) total += part(p).size() + 1;
  out.text.clear();
  out.text.reserve(total);
  for (int p : plan.parts) append_part(out.text, part(p));
  if (out.text.empty()) {
    skip.line = line;
    skip.reason = kReasonNoText;
    skip.detail = "no title or abstract";
    if (plan.parts.size() != 2 || plan.parts[0] != FieldPlan::kTitlePart ||
        plan.parts[1] != FieldPlan::kAbstractPart) {
      skip.detail = "all text fields empty";
    }
    return false;
  }
  out.line = line;
  out.record = record;
  out.id.clear();
  // Copied, not moved: the id field may also be the title or a text field.
  if (plan.id >= 0 && rv.present[plan.id]) out.id = rv.values[plan.id];
  out.title = title;
  out.title_only =
      abstract->empty() && !plan.text.empty() && !blank(title) &&
      std::find(plan.parts.begin(), plan.parts.end(), FieldPlan::kAbstractPart) != plan.parts.end();
  return true;
}

bool assemble_plain(const FieldPlan& plan, std::string_view title, std::string_view authors,
                    std::string_view abstract, std::int64_t line, std::int64_t record,
                    PendingDoc& out, Skip& skip) {
  out.text.clear();
  for (int p : plan.parts) {
    if (p == FieldPlan::kTitlePart) {
      append_part(out.text, title);
    } else if (p == FieldPlan::kAbstractPart) {
      append_part(out.text, abstract);
    } else if (plan.names[p] == "authors") {
      append_part(out.text, authors);
    }
  }
  if (out.text.empty()) {
    skip.line = line;
    skip.reason = kReasonNoText;
    skip.detail = "no title or abstract";
    return false;
  }
  out.line = line;
  out.record = record;
  out.id.clear();
  out.title.assign(title);
  out.title_only =
      blank(abstract) && !blank(title) &&
      std::find(plan.parts.begin(), plan.parts.end(), FieldPlan::kAbstractPart) != plan.parts.end();
  return true;
}

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether the first line, split at `delim`, names one of the fields we read:
// a header row. Titles and abstracts contain commas, so a comma alone proves nothing.
bool looks_like_header(std::string_view first_line, char delim, const ReaderOptions& options) {
  if (first_line.find(delim) == std::string_view::npos) return false;
  std::vector<std::string> wanted = options.text_fields;
  wanted.push_back(options.id_field);
  wanted.push_back(options.title_field);
  std::size_t start = 0;
  while (start <= first_line.size()) {
    std::size_t end = first_line.find(delim, start);
    if (end == std::string_view::npos) end = first_line.size();
    std::string_view cell = first_line.substr(start, end - start);
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.remove_suffix(1);
    while (!cell.empty() && cell.front() == ' ') cell.remove_prefix(1);
    if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') {
      cell = cell.substr(1, cell.size() - 2);
    }
    for (const auto& w : wanted) {
      if (!w.empty() && equal_ignoring_case(cell, w)) return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace

InputFormat detect_format(const std::string& path, std::string_view text,
                          const ReaderOptions& options) {
  std::string name = lower(path);
  for (const char* ext : {".gz", ".xz", ".zst", ".zstd"}) {
    if (ends_with(name, ext)) {
      name.resize(name.size() - std::strlen(ext));
      break;
    }
  }
  std::size_t p = 0;
  while (p < text.size() && is_record_space(text[p])) ++p;
  const char first = p < text.size() ? text[p] : '\0';
  if (ends_with(name, ".jsonl") || ends_with(name, ".ndjson") || ends_with(name, ".jsonlines")) {
    return InputFormat::kJsonl;
  }
  if (ends_with(name, ".json")) return InputFormat::kJson;
  if (ends_with(name, ".csv")) return InputFormat::kCsv;
  if (ends_with(name, ".tsv") || ends_with(name, ".tab")) return InputFormat::kTsv;
  if (first == '[') return InputFormat::kJson;
  if (first == '{') return InputFormat::kJsonl;
  std::string_view first_line = text.substr(0, text.find('\n'));
  if (options.delimiter && looks_like_header(first_line, options.delimiter, options)) {
    return options.delimiter == '\t' ? InputFormat::kTsv : InputFormat::kCsv;
  }
  if (looks_like_header(first_line, '\t', options)) return InputFormat::kTsv;
  if (looks_like_header(first_line, ',', options)) return InputFormat::kCsv;
  // Plain text: the poster layout has no blank lines and " · " author lists;
  // the listing separates every line by a blank one.
  std::size_t lines = 0, blanks = 0, authors = 0, pos = 0;
  while (pos < text.size() && lines < 400) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    ++lines;
    if (blank(line)) ++blanks;
    if (line.find(" \xC2\xB7 ") != std::string_view::npos) ++authors;
    pos = end + 1;
  }
  if (authors > 0 && blanks * 5 < lines) return InputFormat::kPoster;
  return InputFormat::kListing;
}

std::string named_fields_missing(const ReaderOptions& options,
                                 const std::vector<const FileResult*>& pieces, std::int64_t* line) {
  const PendingDoc* first = nullptr;
  for (const FileResult* p : pieces) {
    if (!p->docs.empty()) {
      first = &p->docs.front();
      break;
    }
  }
  if (first == nullptr) return "";
  auto named = [&](const std::string& field) {
    for (const auto& group : options.required_columns) {
      if (std::find(group.begin(), group.end(), field) != group.end()) return true;
    }
    return false;
  };
  auto none = [&](auto has) {
    return std::none_of(pieces.begin(), pieces.end(), [&](const FileResult* p) {
      return std::any_of(p->docs.begin(), p->docs.end(), has);
    });
  };
  std::string missing;
  if (!options.id_field.empty() && named(options.id_field) &&
      none([](const PendingDoc& d) { return !d.id.empty(); })) {
    missing = "--id-field " + options.id_field;
  } else if (!options.title_field.empty() && named(options.title_field) &&
             none([](const PendingDoc& d) { return !d.title.empty(); })) {
    missing = "--title-field " + options.title_field;
  } else if (!options.text_fields.empty() && named(options.text_fields.front()) &&
             none([](const PendingDoc& d) { return !d.title_only; }) &&
             std::find(options.fields.begin(), options.fields.end(), "abstract") !=
                 options.fields.end()) {
    missing = "--text-field";
    for (const auto& f : options.text_fields) missing += " " + f;
  }
  if (missing.empty()) return "";
  *line = first->line;
  return "no record has the field named by " + missing + " (field names match exactly)";
}

}  // namespace io

InputFormat parse_input_format(const std::string& name) {
  const std::string n = io::lower(name);
  if (n == "auto") return InputFormat::kAuto;
  if (n == "jsonl" || n == "ndjson") return InputFormat::kJsonl;
  if (n == "json") return InputFormat::kJson;
  if (n == "csv") return InputFormat::kCsv;
  if (n == "tsv") return InputFormat::kTsv;
  if (n == "listing") return InputFormat::kListing;
  if (n == "poster") return InputFormat::kPoster;
  throw UsageError("unknown input format '" + name +
                   "' (expected auto, jsonl, json, csv, tsv, listing or poster)");
}

namespace io {

namespace {

std::string base_name(const std::string& path) {
  if (path == "-") return "stdin";
  std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

FilePiece read_file_piece(const std::string& path, std::int32_t file, const ReaderOptions& options,
                          const FieldPlan& plan, int threads) {
  FilePiece piece;
  piece.file = file;
  InputBuffer input;
  try {
    input = read_input(path, threads, plan.max_record, options.format != InputFormat::kJson);
  } catch (const InputError& e) {
    // Kept, so that several ranks report the first failure in input order.
    const std::string prefix =
        e.file() + (e.line() > 0 ? ":" + std::to_string(e.line()) : std::string()) + ": ";
    const std::string what = e.what();
    piece.error = what.compare(0, prefix.size(), prefix) == 0 ? what.substr(prefix.size()) : what;
    piece.error_line = e.line();
    return piece;
  }
  std::string_view text = input.view();
  std::size_t readable = input.readable();
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) {
    text.remove_prefix(3);
    readable -= 3;
  }
  InputFormat format = options.format;
  if (format == InputFormat::kAuto) format = detect_format(path, text, options);
  piece.format = format;
  FileResult& result = piece.result;
  const ReleaseFn release = [&input](const char* end) { input.release_before(end); };
  switch (format) {
    case InputFormat::kJsonl:
      result = parse_jsonl(text, readable, plan, threads, release);
      break;
    case InputFormat::kJson:
      result = parse_json(text, readable, plan, threads, release);
      break;
    case InputFormat::kCsv:
      result = parse_delimited(text, options.delimiter ? options.delimiter : ',', plan);
      break;
    case InputFormat::kTsv:
      result = parse_delimited(text, options.delimiter ? options.delimiter : '\t', plan);
      break;
    case InputFormat::kListing:
      result = parse_listing(text, plan);
      break;
    case InputFormat::kPoster:
      result = parse_poster(text, plan);
      break;
    case InputFormat::kAuto:
      break;
  }
  // Lines dropped while streaming are records too, skipped; all skips in line order.
  for (const auto& e : input.elided()) {
    result.skips.push_back({e.line, kReasonTooLarge, too_large_detail(e.bytes, plan.max_record)});
    ++result.records;
  }
  if (!input.elided().empty()) {
    std::stable_sort(result.skips.begin(), result.skips.end(),
                     [](const Skip& a, const Skip& b) { return a.line < b.line; });
  }
  return piece;
}

CorpusBuilder::CorpusBuilder(const std::vector<std::string>& paths, const ReaderOptions& options,
                             std::int64_t first_doc)
    : paths_(paths), options_(options), pack_(options.pack_texts), next_doc_(first_doc) {}

void CorpusBuilder::add_file(std::vector<FilePiece>& pieces) {
  const std::int32_t file = pieces.front().file;
  const std::string& path = paths_[static_cast<std::size_t>(file)];
  const std::string shown = path == "-" ? "stdin" : path;
  const std::string name = base_name(path);
  ReadStats& stats = corpus_.stats;
  // One process's order of complaints about a file: unreadable, a fatal
  // problem of the whole file, then its warnings and skips.
  for (const FilePiece& p : pieces) {
    if (!p.error.empty()) throw InputError(shown, p.error_line, p.error);
  }
  for (const FilePiece& p : pieces) {
    if (!p.result.fatal.empty()) throw InputError(shown, p.result.fatal_line, p.result.fatal);
  }
  if (pieces.front().format == InputFormat::kJsonl || pieces.front().format == InputFormat::kJson) {
    std::vector<const FileResult*> results;
    for (const FilePiece& p : pieces) results.push_back(&p.result);
    std::int64_t line = 0;
    const std::string missing = named_fields_missing(options_, results, &line);
    if (!missing.empty()) throw InputError(shown, line, missing);
  }
  for (const FilePiece& p : pieces) {
    if (!p.first || !options_.on_warning) continue;
    for (const auto& w : p.result.warnings) options_.on_warning(shown + ": " + w);
  }
  for (const FilePiece& p : pieces) {
    for (const auto& skip : p.result.skips) {
      std::string why = skip.reason;
      if (!skip.detail.empty()) why += ": " + skip.detail;
      if (options_.strict) throw InputError(shown, skip.line, why);
      std::string message = shown + ":" + std::to_string(skip.line) + ": " + why;
      ++stats.skipped[skip.reason];
      if (options_.on_skip) options_.on_skip(message);
      if (stats.messages.size() < ReadStats::kMaxMessages) {
        stats.messages.push_back(std::move(message));
      }
    }
  }
  ++stats.files;
  const std::string prefix = name + ":";
  std::int64_t records_before = 0;  // records of the file's earlier pieces
  for (FilePiece& p : pieces) {
    FileResult& result = p.result;
    stats.records += result.records;
    stats.kept += static_cast<std::int64_t>(result.docs.size());
    if (p.local) {
      if (local_begin_ < 0) local_begin_ = next_doc_;
      local_end_ = next_doc_ + static_cast<std::int64_t>(result.docs.size());
    }
    if (p.local && pack_ && result.packs.empty() && !result.docs.empty()) {
      // Parsers without packing of their own: pack their texts now.
      std::size_t bytes = 0;
      for (const auto& pending : result.docs) bytes += pending.text.size();
      TextPack pack(bytes + 1);
      for (auto& pending : result.docs) {
        pack.append(pending.text);
        std::string().swap(pending.text);
      }
      result.packs.push_back(std::move(pack));
    }
    if (p.local) {
      std::int64_t pack_doc = next_doc_;
      for (auto& pack : result.packs) {
        pack.first_doc = pack_doc;
        pack_doc += static_cast<std::int64_t>(pack.size());
        corpus_.packs.push_back(std::move(pack));
      }
    }
    corpus_.docs.reserve(corpus_.docs.size() + result.docs.size());
    for (auto& pending : result.docs) {
      stats.title_only += pending.title_only;
      Document doc;
      doc.doc = next_doc_++;
      doc.record = pending.record + records_before;
      doc.id = pending.id.empty() ? prefix + std::to_string(doc.record) : std::move(pending.id);
      doc.source = prefix + std::to_string(pending.line);
      doc.file = file;
      doc.title = std::move(pending.title);
      doc.text = std::move(pending.text);
      corpus_.docs.push_back(std::move(doc));
    }
    records_before += result.records;
    result = FileResult();  // the documents own the data now
  }
}

Corpus CorpusBuilder::finish() {
  if (local_begin_ < 0) local_begin_ = local_end_ = next_doc_;
  // Counted once the vector no longer moves: the set views the ids in place.
  std::unordered_set<std::string_view> seen;
  seen.reserve(corpus_.docs.size());
  for (const auto& doc : corpus_.docs) {
    if (!seen.insert(doc.id).second) ++corpus_.stats.duplicate_ids;
  }
  return std::move(corpus_);
}

}  // namespace io

Corpus read_corpus(const std::vector<std::string>& paths, const ReaderOptions& options,
                   std::int64_t first_doc) {
  if (options.fields.empty()) throw UsageError("--fields needs at least one field");
  const io::FieldPlan plan(options);
  if (plan.parts.empty()) throw UsageError("--fields needs at least one non-empty field name");
  const int threads = resolve_threads(options.threads);
  io::CorpusBuilder builder(paths, options, first_doc);
  for (std::size_t file = 0; file < paths.size(); ++file) {
    std::vector<io::FilePiece> pieces;
    pieces.push_back(
        io::read_file_piece(paths[file], static_cast<std::int32_t>(file), options, plan, threads));
    builder.add_file(pieces);
  }
  return builder.finish();
}

}  // namespace papersim
