#include "report/text.hpp"

#include <algorithm>

#include "common/util.hpp"

namespace papersim::report_detail {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

void append_html(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_decode(s, i, &cp);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (len > 1) {
      // C1 controls (U+0080..U+009F) are as unwelcome as C0 ones.
      if (cp < 0xA0) {
        out += kReplacement;
      } else {
        out.append(s.data() + i, len);
      }
      i += len;
      continue;
    }
    switch (s[i]) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
      case '\n':
        out.push_back(s[i]);
        break;
      case '\r':
        out.push_back('\n');
        break;
      default:
        if (cp < 0x20 || cp == 0x7F) {
          out += kReplacement;
        } else {
          out.push_back(s[i]);
        }
    }
    ++i;
  }
}

std::string html(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  append_html(out, s);
  return out;
}

void append_script_json(std::string& out, std::string_view s) {
  append_json_string(out, s, /*script_safe=*/true);
}

std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t end = max_bytes;
  // Back up over continuation bytes so the cut never splits a character.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::vector<std::string_view> split_words(std::string_view text, std::size_t max_words,
                                          bool* truncated) {
  std::vector<std::string_view> words;
  if (truncated) *truncated = false;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) break;
    std::size_t j = i;
    while (j < text.size() && !is_space(text[j])) ++j;
    if (words.size() >= max_words) {
      if (truncated) *truncated = true;
      break;
    }
    words.push_back(text.substr(i, j - i));
    i = j;
  }
  return words;
}

namespace {

void push_run(std::vector<DiffRun>* runs, DiffOp op, std::size_t count) {
  if (count == 0) return;
  if (!runs->empty() && runs->back().op == op) {
    runs->back().count += count;
  } else {
    runs->push_back({op, count});
  }
}

}  // namespace

bool diff_words(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b,
                std::size_t max_edits, std::vector<DiffRun>* runs) {
  runs->clear();
  std::size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  std::size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
    ++suffix;
  }
  const auto n = static_cast<std::int64_t>(a.size() - prefix - suffix);
  const auto m = static_cast<std::int64_t>(b.size() - prefix - suffix);
  auto A = [&](std::int64_t x) -> const std::string_view& { return a[prefix + x]; };
  auto B = [&](std::int64_t y) -> const std::string_view& { return b[prefix + y]; };

  std::vector<DiffRun> middle;  // Built backwards.
  if (n == 0 || m == 0) {
    if (static_cast<std::size_t>(n + m) > max_edits) return false;
    push_run(&middle, DiffOp::kInsert, static_cast<std::size_t>(m));
    push_run(&middle, DiffOp::kDelete, static_cast<std::size_t>(n));
  } else {
    const std::int64_t limit = std::min<std::int64_t>(n + m, static_cast<std::int64_t>(max_edits));
    const std::int64_t offset = limit + 1;
    std::vector<std::int64_t> v(static_cast<std::size_t>(2 * limit + 3), 0);
    // trace[d] holds v[-d..d] as it was after step d, for the backtrack.
    std::vector<std::int64_t> trace;
    std::vector<std::size_t> trace_start;
    std::int64_t found = -1;
    for (std::int64_t d = 0; d <= limit && found < 0; ++d) {
      for (std::int64_t k = -d; k <= d; k += 2) {
        std::int64_t x;
        if (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])) {
          x = v[offset + k + 1];
        } else {
          x = v[offset + k - 1] + 1;
        }
        std::int64_t y = x - k;
        while (x < n && y < m && A(x) == B(y)) {
          ++x;
          ++y;
        }
        v[offset + k] = x;
        if (x >= n && y >= m) {
          found = d;
          break;
        }
      }
      trace_start.push_back(trace.size());
      trace.insert(trace.end(), v.begin() + (offset - d), v.begin() + (offset + d + 1));
    }
    if (found < 0) return false;
    std::int64_t x = n, y = m;
    for (std::int64_t d = found; d > 0; --d) {
      const std::int64_t* prev = trace.data() + trace_start[d - 1];  // v[-(d-1)..d-1]
      auto pv = [&](std::int64_t k) { return prev[k + d - 1]; };
      const std::int64_t k = x - y;
      const bool down = k == -d || (k != d && pv(k - 1) < pv(k + 1));
      const std::int64_t prev_k = down ? k + 1 : k - 1;
      const std::int64_t prev_x = pv(prev_k);
      const std::int64_t prev_y = prev_x - prev_k;
      // Snake back to the end of the edit, then the edit itself.
      const std::int64_t start_x = down ? prev_x : prev_x + 1;
      push_run(&middle, DiffOp::kEqual, static_cast<std::size_t>(x - start_x));
      push_run(&middle, down ? DiffOp::kInsert : DiffOp::kDelete, 1);
      x = prev_x;
      y = prev_y;
    }
    push_run(&middle, DiffOp::kEqual, static_cast<std::size_t>(x));  // Leading snake at d = 0.
  }
  push_run(runs, DiffOp::kEqual, prefix);
  for (auto it = middle.rbegin(); it != middle.rend(); ++it) push_run(runs, it->op, it->count);
  push_run(runs, DiffOp::kEqual, suffix);
  return true;
}

}  // namespace papersim::report_detail
