// JSON Lines and JSON arrays. Both are cut into independent records first
// (lines, or array elements found by a small scanner) so that each record is
// parsed on its own: a bad record is skipped without losing its neighbours,
// and the records are parsed in parallel chunks.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <mutex>

#include "common/util.hpp"
#include "io/reader_internal.hpp"

namespace papersim::io {
namespace {

static_assert(kPadding >= simdjson::SIMDJSON_PADDING, "buffers must carry simdjson's padding");

// One record's bytes [begin, end) and its 1-based first line.
struct Span {
  std::size_t begin, end;
  std::int64_t line;
};

void append_number(std::string& out, double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// Field values as text: strings as-is, numbers in their shortest form, lists
// joined by ", " (authors, categories), objects as compact JSON.
void append_value(std::string& out, simdjson::dom::element v) {
  using simdjson::dom::element_type;
  switch (v.type()) {
    case element_type::STRING: {
      std::string_view s = v.get_string().value_unsafe();
      out.append(s.data(), s.size());
      break;
    }
    case element_type::INT64:
      out += std::to_string(v.get_int64().value_unsafe());
      break;
    case element_type::UINT64:
      out += std::to_string(v.get_uint64().value_unsafe());
      break;
    case element_type::DOUBLE:
      append_number(out, v.get_double().value_unsafe());
      break;
    case element_type::BOOL:
      out += v.get_bool().value_unsafe() ? "true" : "false";
      break;
    case element_type::NULL_VALUE:
      break;
    case element_type::ARRAY: {
      bool first = true;
      simdjson::dom::array items;
      if (v.get(items) != simdjson::SUCCESS) break;  // the type is known: cannot fail
      for (auto item : items) {
        if (item.is_null()) continue;
        if (!first) out += ", ";
        first = false;
        append_value(out, item);
      }
      break;
    }
    case element_type::OBJECT:
      out += simdjson::minify(v);
      break;
  }
}

// Parse one record in place and extract the planned fields. Returns false
// with `skip` filled for a bad record.
bool parse_record(simdjson::dom::parser& parser, std::string_view text, std::size_t readable,
                  const Span& span, const FieldPlan& plan, RecordValues& rv, std::int64_t record,
                  PendingDoc& out, Skip& skip, std::string& scratch) {
  const char* begin = text.data() + span.begin;
  const std::size_t len = span.end - span.begin;
  if (len > plan.max_record) {
    skip.line = span.line;
    skip.reason = kReasonTooLarge;
    skip.detail = too_large_detail(len, plan.max_record);
    return false;
  }
  if (span.end + kPadding > readable) {
    // Too close to the end of the buffer to parse in place.
    scratch.assign(begin, len);
    scratch.append(kPadding, ' ');
    begin = scratch.data();
  }
  auto parsed = parser.parse(begin, len, false);
  if (parsed.error()) {
    skip.line = span.line;
    if (len == 1 && (*begin == ',' || *begin == ']' || *begin == '}')) {
      skip.reason = kReasonJson;
      skip.detail = std::string("a stray '") + *begin + "' where a value belongs";
    } else if (parsed.error() == simdjson::UTF8_ERROR) {
      skip.reason = kReasonUtf8;
      skip.detail.clear();
    } else {
      skip.reason = kReasonJson;
      skip.detail = simdjson::error_message(parsed.error());
    }
    return false;
  }
  simdjson::dom::element root = parsed.value_unsafe();
  if (!root.is_object()) {
    skip.line = span.line;
    skip.reason = kReasonNotObject;
    skip.detail.clear();
    return false;
  }
  rv.reset(plan.names.size());
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return false;  // checked above: cannot fail
  for (auto field : object) {
    int i = plan.find(field.key);
    if (i < 0) continue;
    // A repeated key: the last one wins, as with Python's json.
    rv.values[i].clear();
    append_value(rv.values[i], field.value);
    rv.present[i] = !field.value.is_null();
  }
  return assemble_record(plan, rv, span.line, record, out, skip);
}

// Parse the spans in parallel chunks and collect the results in order.
// Span i is record i + 1 of the file.
FileResult parse_spans(std::string_view text, std::size_t readable, const std::vector<Span>& spans,
                       const FieldPlan& plan, int threads, const ReleaseFn& release) {
  const std::int64_t n = static_cast<std::int64_t>(spans.size());
  // Chunks of a few thousand records: enough to balance, few enough to merge cheaply.
  const std::int64_t per_chunk = std::max<std::int64_t>(1024, n / (threads * 8 + 1) + 1);
  const std::int64_t chunks = (n + per_chunk - 1) / per_chunk;
  std::vector<FileResult> parts(static_cast<std::size_t>(chunks));
  std::vector<simdjson::dom::parser> parsers(static_cast<std::size_t>(std::max(threads, 1)));
  // Chunks are taken in order; once every chunk before `first_open` is done,
  // the input bytes before it are handed back, so the input and the documents
  // made from it are not both resident in full.
  std::mutex done_mutex;
  std::vector<char> done(static_cast<std::size_t>(chunks), 0);
  std::int64_t first_open = 0;
  parallel_for_worker(chunks, threads, [&](std::int64_t c, int worker) {
    auto& parser = parsers[static_cast<std::size_t>(worker)];
    FileResult& part = parts[static_cast<std::size_t>(c)];
    RecordValues rv;
    PendingDoc doc;
    Skip skip;
    std::string scratch;
    const std::int64_t begin = c * per_chunk, end = std::min(n, begin + per_chunk);
    part.docs.reserve(static_cast<std::size_t>(end - begin));
    TextPack* pack = nullptr;
    if (plan.pack) {
      // A text is at most about its record's bytes: reserve that (address
      // space only; the pack grows if escapes or numbers make it longer).
      const std::size_t bytes = spans[static_cast<std::size_t>(end - 1)].end -
                                spans[static_cast<std::size_t>(begin)].begin;
      part.packs.emplace_back(bytes + 4096);
      pack = &part.packs.back();
    }
    for (std::int64_t i = begin; i < end; ++i) {
      if (parse_record(parser, text, readable, spans[static_cast<std::size_t>(i)], plan, rv, i + 1,
                       doc, skip, scratch)) {
        if (pack != nullptr) {
          // The text goes to the pack; `doc.text` keeps its buffer for the next record.
          pack->append(doc.text);
          PendingDoc kept;
          kept.line = doc.line;
          kept.record = doc.record;
          kept.id = std::move(doc.id);
          kept.title = std::move(doc.title);
          part.docs.push_back(std::move(kept));
        } else {
          part.docs.push_back(std::move(doc));
          doc = PendingDoc();
        }
      } else {
        part.skips.push_back(skip);
      }
    }
    if (release) {
      std::lock_guard<std::mutex> lock(done_mutex);
      done[static_cast<std::size_t>(c)] = 1;
      const std::int64_t before = first_open;
      while (first_open < chunks && done[static_cast<std::size_t>(first_open)]) ++first_open;
      if (first_open > before) {
        release(first_open < chunks
                    ? text.data() + spans[static_cast<std::size_t>(first_open * per_chunk)].begin
                    : text.data() + text.size());
      }
    }
  });
  FileResult result;
  result.records = n;
  std::size_t kept = 0;
  for (const auto& p : parts) kept += p.docs.size();
  result.docs.reserve(kept);
  for (auto& p : parts) {
    std::move(p.docs.begin(), p.docs.end(), std::back_inserter(result.docs));
    std::move(p.skips.begin(), p.skips.end(), std::back_inserter(result.skips));
    for (auto& pack : p.packs) {
      if (pack.size() > 0) result.packs.push_back(std::move(pack));
    }
  }
  return result;
}

bool is_ws(char c) { return is_record_space(c); }

// Finds the top-level values of a JSON array (or of a sequence of top-level
// values) without parsing them: strings, escapes and nesting only.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  // Returns false with `error` set and `error_line` at the failing value.
  bool scan(std::vector<Span>& spans, std::string& error, std::int64_t& error_line) {
    std::size_t p = skip_ws(0);
    if (p == text_.size()) return true;
    const bool array = text_[p] == '[';
    if (array) p = skip_ws(p + 1);
    for (;;) {
      if (p == text_.size()) {
        if (!array) return true;
        return fail("unterminated array (missing ']')", p, error, error_line);
      }
      if (array && text_[p] == ']') {
        // An empty array, or a trailing comma before the closing bracket.
        return trailing(p + 1, error, error_line);
      }
      const std::size_t start = p;
      const std::int64_t line = line_at(start);
      if (array && text_[p] == ',') {
        // A missing element (",,"): reported as a malformed record of its own;
        // the comma still separates the elements around it.
        spans.push_back({start, start + 1, line});
        p = skip_ws(p + 1);
        continue;
      }
      std::string why;
      std::size_t end = value_end(p, why);
      if (end == std::string::npos) return fail(why, start, error, error_line);
      spans.push_back({start, end, line});
      p = skip_ws(end);
      if (!array) continue;
      if (p < text_.size() && text_[p] == ',') {
        p = skip_ws(p + 1);
        continue;
      }
      if (p < text_.size() && text_[p] == ']') return trailing(p + 1, error, error_line);
      return fail("expected ',' or ']' after an array element", p, error, error_line);
    }
  }

 private:
  std::size_t skip_ws(std::size_t p) const {
    while (p < text_.size() && is_ws(text_[p])) ++p;
    return p;
  }

  std::int64_t line_at(std::size_t p) {
    line_ += std::count(text_.begin() + static_cast<std::ptrdiff_t>(line_pos_),
                        text_.begin() + static_cast<std::ptrdiff_t>(p), '\n');
    line_pos_ = p;
    return line_;
  }

  bool fail(const std::string& why, std::size_t p, std::string& error, std::int64_t& line) {
    error = why;
    line = line_at(std::min(p, text_.size()));
    return false;
  }

  bool trailing(std::size_t p, std::string& error, std::int64_t& line) {
    p = skip_ws(p);
    if (p == text_.size()) return true;
    return fail("unexpected content after the closing ']'", p, error, line);
  }

  // End of the string starting at the quote `p`, or npos.
  std::size_t string_end(std::size_t p) const {
    const char* s = text_.data();
    const std::size_t n = text_.size();
    ++p;
    while (p < n) {
      const void* hit = std::memchr(s + p, '"', n - p);
      if (!hit) return std::string::npos;
      std::size_t q = static_cast<const char*>(hit) - s;
      // The quote is escaped when an odd number of backslashes precede it.
      std::size_t b = q;
      while (b > p && s[b - 1] == '\\') --b;
      if ((q - b) % 2 == 0) return q + 1;
      p = q + 1;
    }
    return std::string::npos;
  }

  std::size_t value_end(std::size_t p, std::string& why) const {
    const char c = text_[p];
    if (c == '"') {
      std::size_t e = string_end(p);
      if (e == std::string::npos) why = "unterminated string";
      return e;
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      while (p < text_.size()) {
        const char d = text_[p];
        if (d == '"') {
          p = string_end(p);
          if (p == std::string::npos) {
            why = "unterminated string";
            return p;
          }
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') {
          if (--depth == 0) return p + 1;
        }
        ++p;
      }
      why = "unterminated object or array";
      return std::string::npos;
    }
    // A stray ',' / ']' / '}' where a value belongs: that one byte is a
    // malformed record of its own, so the scan always moves on.
    if (c == ',' || c == ']' || c == '}') return p + 1;
    // A scalar: the element parser reports it (not an object).
    while (p < text_.size() && !is_ws(text_[p]) && text_[p] != ',' && text_[p] != ']') ++p;
    return p;
  }

  std::string_view text_;
  std::size_t line_pos_ = 0;
  std::int64_t line_ = 1;
};

}  // namespace

FileResult parse_jsonl(std::string_view text, std::size_t readable, const FieldPlan& plan,
                       int threads, const ReleaseFn& release) {
  // Lines are cut sequentially (memchr runs at memory speed); blank lines are
  // not records.
  std::vector<Span> spans;
  spans.reserve(text.size() / 1024 + 16);
  const char* s = text.data();
  const std::size_t n = text.size();
  std::size_t p = 0;
  std::int64_t line = 0;
  while (p < n) {
    const void* hit = std::memchr(s + p, '\n', n - p);
    std::size_t end = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - s) : n;
    ++line;
    // The record without surrounding white space: \f and \v are not JSON
    // white space, but they separate records as well as spaces do.
    std::size_t q = p, e = end;
    while (q < e && is_ws(s[q])) ++q;
    while (e > q && is_ws(s[e - 1])) --e;
    if (q < e) spans.push_back({q, e, line});
    p = end + 1;
  }
  return parse_spans(text, readable, spans, plan, threads, release);
}

FileResult parse_json(std::string_view text, std::size_t readable, const FieldPlan& plan,
                      int threads, const ReleaseFn& release) {
  std::vector<Span> spans;
  std::string error;
  std::int64_t error_line = 0;
  Scanner scanner(text);
  const bool ok = scanner.scan(spans, error, error_line);
  FileResult result = parse_spans(text, readable, spans, plan, threads, release);
  if (!ok) {
    // The structure is broken: the values found before the break are kept,
    // the rest of the file cannot be cut into records and is reported as one.
    result.skips.push_back({error_line, kReasonJson, error + "; the rest of the file is not read"});
    ++result.records;
  }
  return result;
}

}  // namespace papersim::io
