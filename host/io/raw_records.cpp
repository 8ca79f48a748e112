// The raw text of each record of an input, numbered as read_corpus numbers them,
// so a command can write chosen records back exactly as they were read.
#include <simdjson.h>

#include <cstring>

#include "io/reader_internal.hpp"
#include "papersim/error.hpp"
#include "papersim/reader.hpp"

namespace papersim {

namespace {

std::string shown_name(const std::string& path) { return path == "-" ? "stdin" : path; }

// Each non-blank line is a record, as parse_jsonl counts them.
void cut_lines(std::string_view text, RawRecords& out) {
  std::size_t p = 0;
  while (p < text.size()) {
    std::size_t end = text.find('\n', p);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(p, end - p);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      out.records.emplace_back(line);
    }
    p = end + 1;
  }
}

// Array elements, in order. The file is minified first (whitespace between
// tokens only), so pretty-printed elements become one line each while their
// strings and numbers keep their bytes.
void cut_array(const std::string& path, std::string_view text, RawRecords& out) {
  simdjson::padded_string minified(text.size());
  std::size_t len = 0;
  if (simdjson::minify(text.data(), text.size(), minified.data(), len) != simdjson::SUCCESS) {
    throw InputError(shown_name(path), 0, "cannot cut the JSON into records");
  }
  std::string_view body(minified.data(), len);
  if (body.empty()) return;
  if (body.front() != '[') {
    throw InputError(shown_name(path), 1,
                     "records can be written back from a JSON array, JSON Lines or CSV/TSV; "
                     "this file holds objects one after another (convert it to JSON Lines)");
  }
  // Elements end at the comma or bracket at depth 1, outside strings.
  int depth = 0;
  bool in_string = false;
  std::size_t start = 1;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        if (i > start) out.records.emplace_back(body.substr(start, i - start));
        return;
      }
    } else if (c == ',' && depth == 1) {
      out.records.emplace_back(body.substr(start, i - start));
      start = i + 1;
    }
  }
  throw InputError(shown_name(path), 0, "unterminated JSON array");
}

}  // namespace

RawRecords read_raw_records(const std::string& path, const ReaderOptions& options) {
  io::InputBuffer input = io::read_input(path, options.threads);
  std::string_view text = input.view();
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.remove_prefix(3);
  InputFormat format = options.format;
  if (format == InputFormat::kAuto) format = io::detect_format(path, text, options);
  RawRecords out;
  out.format = format;
  switch (format) {
    case InputFormat::kJsonl:
      cut_lines(text, out);
      break;
    case InputFormat::kJson:
      cut_array(path, text, out);
      break;
    case InputFormat::kCsv:
    case InputFormat::kTsv: {
      out.delimiter = options.delimiter             ? options.delimiter
                      : format == InputFormat::kTsv ? '\t'
                                                    : ',';
      std::string_view header;
      for (std::string_view row : io::delimited_rows(text, out.delimiter, &header)) {
        out.records.emplace_back(row);
      }
      out.header.assign(header);
      break;
    }
    default:
      throw InputError(shown_name(path), 0,
                       "records can be written back from JSON Lines, JSON arrays or CSV/TSV, "
                       "not from a plain-text page layout");
  }
  return out;
}

std::vector<std::string> split_delimited_row(std::string_view row, char delimiter) {
  std::vector<std::string> fields;
  std::string f;
  bool quoted = false;
  for (std::size_t i = 0; i < row.size(); ++i) {
    const char c = row[i];
    if (quoted) {
      if (c == '"' && i + 1 < row.size() && row[i + 1] == '"') {
        f.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        f.push_back(c);
      }
    } else if (c == '"' && f.empty()) {
      quoted = true;
    } else if (c == delimiter) {
      fields.push_back(std::move(f));
      f.clear();
    } else {
      f.push_back(c);
    }
  }
  fields.push_back(std::move(f));
  return fields;
}

}  // namespace papersim
