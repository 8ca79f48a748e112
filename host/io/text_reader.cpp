// The two plain-text page layouts of the seed files (see ../shared/data/README.md):
// "listing" pages (header lines, then title / blank / abstract paragraphs) and
// "poster" pages (header lines, then title / "A · B · C" authors / abstract lines).
#include <cctype>
#include <string>
#include <vector>

#include "io/reader_internal.hpp"

namespace papersim::io {
namespace {

struct Line {
  std::string_view text;
  std::int64_t number;  // 1-based
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Every line, without its line end ("\n", "\r\n" or a trailing "\r").
std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t p = 0;
  std::int64_t number = 0;
  while (p < text.size()) {
    std::size_t end = text.find('\n', p);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(p, end - p);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({line, ++number});
    p = end + 1;
  }
  return lines;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A date line such as "Mar 17" or "March 17, 2024".
bool is_date(const std::string& s) {
  static const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                  "jul", "aug", "sep", "oct", "nov", "dec"};
  std::size_t space = s.find(' ');
  if (space == std::string::npos || space < 3) return false;
  bool month = false;
  for (const char* m : kMonths) month = month || s.compare(0, 3, m) == 0;
  for (std::size_t i = 3; i < space; ++i)
    month = month && std::isalpha(static_cast<unsigned char>(s[i]));
  if (!month) return false;
  std::size_t i = space + 1, digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (digits < 1 || digits > 2) return false;
  if (i == s.size()) return true;
  // Optional ", 2024".
  if (s.compare(i, 2, ", ") != 0) return false;
  i += 2;
  digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  return i == s.size() && digits == 4;
}

// The page chrome above a listing's first record.
bool is_listing_header(std::string_view line) {
  const std::string s = lower(trim(line));
  return s == "new" || s == "get trending papers in your email inbox!" || s == "subscribe" ||
         s == "daily papers" || s.rfind("by ak ", 0) == 0 || s.rfind("byak ", 0) == 0 ||
         s == "by ak" || s == "byak" || is_date(s);
}

// A paragraph: consecutive non-blank lines.
struct Paragraph {
  std::size_t first, last;  // indices into the line vector, inclusive
  std::size_t bytes;
};

// Titles are one line and short; abstracts are long. Seeds: titles <= 162
// bytes, abstracts >= 1,356 bytes.
constexpr std::size_t kMaxTitleBytes = 300;

std::string join(const std::vector<Line>& lines, std::size_t first, std::size_t last,
                 const char* sep) {
  std::string out;
  for (std::size_t i = first; i <= last; ++i) {
    std::string_view t = trim(lines[i].text);
    if (t.empty()) continue;
    if (!out.empty()) out += sep;
    out.append(t);
  }
  return out;
}

// Add one record, checking its UTF-8 when the file as a whole was not valid.
void add_record(FileResult& result, const FieldPlan& plan, bool all_valid, std::int64_t line,
                const std::string& title, const std::string& authors, const std::string& abstract) {
  const std::int64_t record = ++result.records;
  const std::size_t bytes = title.size() + authors.size() + abstract.size();
  if (bytes > plan.max_record) {
    result.skips.push_back({line, kReasonTooLarge, too_large_detail(bytes, plan.max_record)});
    return;
  }
  if (!all_valid && (!valid_utf8(title) || !valid_utf8(authors) || !valid_utf8(abstract))) {
    result.skips.push_back({line, kReasonUtf8, ""});
    return;
  }
  PendingDoc doc;
  Skip skip;
  if (assemble_plain(plan, title, authors, abstract, line, record, doc, skip)) {
    result.docs.push_back(std::move(doc));
  } else {
    result.skips.push_back(skip);
  }
}

}  // namespace

FileResult parse_listing(std::string_view text, const FieldPlan& plan) {
  FileResult result;
  const bool all_valid = valid_utf8(text);
  const std::vector<Line> lines = split_lines(text);
  std::size_t i = 0;
  while (i < lines.size() && (trim(lines[i].text).empty() || is_listing_header(lines[i].text))) ++i;
  std::vector<Paragraph> paras;
  while (i < lines.size()) {
    if (trim(lines[i].text).empty()) {
      ++i;
      continue;
    }
    Paragraph p{i, i, 0};
    while (i < lines.size() && !trim(lines[i].text).empty()) {
      p.last = i;
      p.bytes += lines[i].text.size();
      ++i;
    }
    paras.push_back(p);
  }
  auto title_like = [&](std::size_t k) {
    return paras[k].first == paras[k].last && paras[k].bytes <= kMaxTitleBytes;
  };
  // Pair title and abstract paragraphs; a lone title or a lone abstract (a
  // page that lost one half of a record) stays a record of its own rather
  // than shifting every later pair.
  std::size_t k = 0;
  while (k < paras.size()) {
    const Paragraph& p = paras[k];
    const std::int64_t line = lines[p.first].number;
    if (!title_like(k)) {
      add_record(result, plan, all_valid, line, "", "", join(lines, p.first, p.last, "\n"));
      ++k;
      continue;
    }
    const std::string title = join(lines, p.first, p.last, " ");
    const bool has_next = k + 1 < paras.size();
    const bool title_only =
        !has_next || (title_like(k + 1) && k + 2 < paras.size() && !title_like(k + 2));
    if (title_only) {
      add_record(result, plan, all_valid, line, title, "", "");
      ++k;
      continue;
    }
    const Paragraph& a = paras[k + 1];
    add_record(result, plan, all_valid, line, title, "", join(lines, a.first, a.last, "\n"));
    k += 2;
  }
  return result;
}

FileResult parse_poster(std::string_view text, const FieldPlan& plan) {
  const bool all_valid = valid_utf8(text);
  std::vector<Line> lines;
  for (const Line& l : split_lines(text)) {
    if (!trim(l.text).empty()) lines.push_back(l);
  }
  // Author lines anchor the records: "A · B · C" (U+00B7 between spaces).
  std::vector<std::size_t> authors;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].text.find(" \xC2\xB7 ") != std::string_view::npos) authors.push_back(i);
  }
  if (authors.empty()) return parse_listing(text, plan);
  FileResult result;
  // Everything above the first title is page header ("Poster", session, room).
  for (std::size_t r = 0; r < authors.size(); ++r) {
    const std::size_t a = authors[r];
    const bool has_title = a > 0 && (r == 0 || authors[r - 1] + 1 < a);
    const std::size_t first = has_title ? a - 1 : a;
    // The abstract runs to the line before the next record's title: a line
    // that belongs to no title (a multi-paragraph abstract, or text whose
    // title is missing from the page) stays with the record above it.
    std::size_t end = lines.size();
    if (r + 1 < authors.size()) {
      const std::size_t next = authors[r + 1];
      end = next > a + 1 ? next - 1 : next;
    }
    const std::string title = has_title ? std::string(trim(lines[a - 1].text)) : std::string();
    const std::string names(trim(lines[a].text));
    const std::string abstract = end > a + 1 ? join(lines, a + 1, end - 1, "\n") : std::string();
    add_record(result, plan, all_valid, lines[first].number, title, names, abstract);
  }
  return result;
}

}  // namespace papersim::io
