// CSV and TSV with a header row: RFC 4180 quoting ("" inside quotes), quoted
// fields spanning lines, LF, CRLF or CR line ends. TSV uses the same quoting
// (what Python's csv module writes with the excel-tab dialect).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "io/reader_internal.hpp"

namespace papersim::io {
namespace {

class RowReader {
 public:
  RowReader(std::string_view text, char delim) : text_(text), delim_(delim) {}

  bool done() const { return pos_ >= text_.size(); }
  std::size_t pos() const { return pos_; }
  std::int64_t line() const { return line_; }

  // Read one row into `fields`. Returns false when the row's quoting is
  // broken (`why` says how); the row is still consumed up to its end.
  bool next(std::vector<std::string>& fields, std::size_t& count, std::string& why,
            std::size_t& row_begin, std::size_t& row_end) {
    count = 0;
    bool ok = true;
    row_begin = pos_;
    for (;;) {
      if (count == fields.size()) fields.emplace_back();
      std::string& f = fields[count++];
      f.clear();
      if (pos_ < text_.size() && text_[pos_] == '"') {
        ++pos_;
        bool closed = false;
        // Copy whole runs between quotes; count the line ends they hold.
        while (pos_ < text_.size()) {
          const void* hit = std::memchr(text_.data() + pos_, '"', text_.size() - pos_);
          const std::size_t q =
              hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - text_.data())
                  : text_.size();
          f.append(text_.data() + pos_, q - pos_);
          line_ += std::count(text_.begin() + static_cast<std::ptrdiff_t>(pos_),
                              text_.begin() + static_cast<std::ptrdiff_t>(q), '\n');
          pos_ = q;
          if (q == text_.size()) break;
          if (q + 1 < text_.size() && text_[q + 1] == '"') {
            f.push_back('"');
            pos_ = q + 2;
            continue;
          }
          pos_ = q + 1;
          closed = true;
          break;
        }
        if (!closed) {
          why = "unterminated quoted field";
          row_end = pos_;
          return false;
        }
        if (pos_ < text_.size() && text_[pos_] != delim_ && text_[pos_] != '\n' &&
            text_[pos_] != '\r') {
          if (ok) why = "text after a closing quote in field " + std::to_string(count);
          ok = false;
        }
      }
      // Unquoted text (or junk after a closing quote) up to the field's end.
      const std::size_t start = pos_;
      while (pos_ < text_.size()) {
        const char c = text_[pos_];
        if (c == delim_ || c == '\n' || c == '\r') break;
        ++pos_;
      }
      f.append(text_.data() + start, pos_ - start);
      if (pos_ >= text_.size()) {
        row_end = pos_;
        return ok;
      }
      if (text_[pos_] == delim_) {
        ++pos_;
        continue;
      }
      row_end = pos_;
      if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
      ++pos_;
      ++line_;
      return ok;
    }
  }

 private:
  std::string_view text_;
  char delim_;
  std::size_t pos_ = 0;
  std::int64_t line_ = 1;
};

}  // namespace

std::vector<std::string_view> delimited_rows(std::string_view text, char delimiter,
                                             std::string_view* header) {
  std::vector<std::string_view> rows;
  RowReader reader(text, delimiter);
  std::vector<std::string> fields;
  std::size_t count = 0, begin = 0, end = 0;
  std::string why;
  bool have_header = false;
  while (!reader.done()) {
    const bool ok = reader.next(fields, count, why, begin, end);
    if (ok && count == 1 && fields[0].empty()) continue;  // a blank line
    std::string_view row = text.substr(begin, end - begin);
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    if (!have_header) {
      have_header = true;
      if (header) *header = row;
      continue;
    }
    rows.push_back(row);
  }
  return rows;
}

std::size_t delimited_header_end(std::string_view text, char delimiter) {
  RowReader reader(text, delimiter);
  std::vector<std::string> fields;
  std::size_t count = 0, begin = 0, end = 0;
  std::string why;
  while (!reader.done()) {
    const bool ok = reader.next(fields, count, why, begin, end);
    if (ok && count == 1 && fields[0].empty()) continue;  // a blank line before the header
    return reader.pos();
  }
  return text.size();
}

FileResult parse_delimited(std::string_view text, char delim, const FieldPlan& plan) {
  FileResult result;
  if (text.empty()) return result;
  const bool all_valid = valid_utf8(text);
  RowReader reader(text, delim);
  std::vector<std::string> fields;
  std::size_t count = 0, row_begin = 0, row_end = 0;
  std::string why;

  // The header row: skip leading blank lines, then map planned names to columns.
  std::vector<int> column_of;  // plan index per column, -1 when not read
  std::vector<std::string> header;
  std::int64_t header_line = 1;
  std::size_t columns = 0;
  while (!reader.done()) {
    const std::int64_t line = reader.line();
    const bool ok = reader.next(fields, count, why, row_begin, row_end);
    if (count == 1 && fields[0].empty() && ok) continue;
    if (!ok || (!all_valid && !valid_utf8(text.substr(row_begin, row_end - row_begin)))) {
      // Without a header nothing in the file can be read.
      result.skips.push_back({line, ok ? kReasonUtf8 : kReasonCsv,
                              (ok ? std::string("in the header row") : "header row: " + why) +
                                  "; the rest of the file is not read"});
      result.records = 1;
      return result;
    }
    columns = count;
    column_of.assign(columns, -1);
    header.assign(fields.begin(), fields.begin() + static_cast<std::ptrdiff_t>(columns));
    for (auto& name : header) {
      if (!name.empty() && name.back() == '\r') name.pop_back();
    }
    header_line = line;
    // Exact names first, then the same names in another case ("Title" for title);
    // the first column of a repeated name wins.
    for (const bool exact : {true, false}) {
      for (std::size_t c = 0; c < columns; ++c) {
        if (column_of[c] >= 0) continue;
        const int i = exact ? plan.find(header[c]) : plan.find_ignoring_case(header[c]);
        if (i >= 0 && std::find(column_of.begin(), column_of.end(), i) == column_of.end()) {
          column_of[c] = i;
        }
      }
    }
    break;
  }
  if (columns == 0) return result;
  auto listed = [](const std::vector<std::string>& names) {
    std::string s;
    for (std::size_t k = 0; k < names.size(); ++k) s += (k ? ", " : "") + names[k];
    return s;
  };
  auto mapped = [&](const std::string& name) {
    const int i = plan.find(name);
    return i >= 0 && std::find(column_of.begin(), column_of.end(), i) != column_of.end();
  };
  // A field named explicitly that the header lacks: one error for the file,
  // naming the columns it has (a typo is then plain to see).
  for (const auto& group : plan.required_columns) {
    if (group.empty() || std::any_of(group.begin(), group.end(), mapped)) continue;
    result.fatal = "the header has no column " + listed(group) + " (" +
                   (group.size() > 1 ? "any of the names given" : "the name given") +
                   "); its columns are: " + listed(header);
    result.fatal_line = header_line;
    return result;
  }
  // No column that can give text: a header that does not match the field
  // options, not a data problem, so one error rather than a skip per row.
  {
    bool any = false, abstract_part = false, abstract_column = false;
    std::vector<std::string> wanted, abstracts;
    auto want = [&](int i) {
      if (i < 0) return false;
      const std::string& name = plan.names[static_cast<std::size_t>(i)];
      wanted.push_back(name);
      const bool m = mapped(name);
      any = any || m;
      return m;
    };
    for (int p : plan.parts) {
      if (p == FieldPlan::kTitlePart) {
        want(plan.title);
      } else if (p == FieldPlan::kAbstractPart) {
        abstract_part = true;
        for (int i : plan.text) {
          abstracts.push_back(plan.names[static_cast<std::size_t>(i)]);
          abstract_column = want(i) || abstract_column;
        }
      } else {
        want(p);
      }
    }
    if (!any) {
      result.fatal = "the header has none of the text columns (" + listed(wanted) +
                     "); its columns are: " + listed(header) +
                     " (name the abstract column with --text-field)";
      result.fatal_line = header_line;
      return result;
    }
    if (abstract_part && !abstract_column && !abstracts.empty()) {
      result.warnings.push_back("the header has no abstract column (" + listed(abstracts) +
                                "), so every document is its title only; its columns are: " +
                                listed(header) + " (name the abstract column with --text-field)");
    }
  }

  RecordValues rv;
  PendingDoc doc;
  Skip skip;
  while (!reader.done()) {
    const std::int64_t line = reader.line();
    const bool ok = reader.next(fields, count, why, row_begin, row_end);
    // A blank line holds no record.
    if (ok && count == 1 && fields[0].empty()) continue;
    const std::int64_t record = ++result.records;
    if (row_end - row_begin > plan.max_record) {
      result.skips.push_back(
          {line, kReasonTooLarge, too_large_detail(row_end - row_begin, plan.max_record)});
      continue;
    }
    if (!ok) {
      result.skips.push_back({line, kReasonCsv, why});
      continue;
    }
    if (!all_valid && !valid_utf8(text.substr(row_begin, row_end - row_begin))) {
      result.skips.push_back({line, kReasonUtf8, ""});
      continue;
    }
    if (count != columns) {
      result.skips.push_back(
          {line, kReasonFieldCount,
           "expected " + std::to_string(columns) + ", got " + std::to_string(count)});
      continue;
    }
    rv.reset(plan.names.size());
    for (std::size_t c = 0; c < columns; ++c) {
      const int i = column_of[c];
      if (i < 0) continue;
      rv.values[static_cast<std::size_t>(i)].swap(fields[c]);
      rv.present[static_cast<std::size_t>(i)] = 1;
    }
    if (assemble_record(plan, rv, line, record, doc, skip)) {
      result.docs.push_back(std::move(doc));
      doc = PendingDoc();
    } else {
      result.skips.push_back(skip);
    }
  }
  return result;
}

}  // namespace papersim::io
