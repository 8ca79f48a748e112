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
    for (std::size_t c = 0; c < columns; ++c) {
      std::string_view name = fields[c];
      if (!name.empty() && name.back() == '\r') name.remove_suffix(1);
      const int i = plan.find(name);
      // The first column of a repeated name wins.
      if (i >= 0 && std::find(column_of.begin(), column_of.end(), i) == column_of.end()) {
        column_of[c] = i;
      }
    }
    break;
  }
  // Name the cause once per row when no column can give text: a header that
  // does not match the field options, not a data problem.
  std::string no_text_columns;
  {
    bool any = false;
    std::vector<std::string> wanted;
    auto want = [&](int i) {
      if (i < 0) return;
      any = any || std::find(column_of.begin(), column_of.end(), i) != column_of.end();
      wanted.push_back(plan.names[static_cast<std::size_t>(i)]);
    };
    for (int p : plan.parts) {
      if (p == FieldPlan::kTitlePart) {
        want(plan.title);
      } else if (p == FieldPlan::kAbstractPart) {
        for (int i : plan.text) want(i);
      } else {
        want(p);
      }
    }
    if (!any && columns > 0) {
      no_text_columns = "the header row has none of the text columns (";
      for (std::size_t k = 0; k < wanted.size(); ++k) {
        no_text_columns += (k ? ", " : "") + wanted[k];
      }
      no_text_columns += ")";
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
      if (!no_text_columns.empty()) skip.detail = no_text_columns;
      result.skips.push_back(skip);
    }
  }
  return result;
}

}  // namespace papersim::io
