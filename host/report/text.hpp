#pragma once
// Text helpers of the HTML report: escaping for HTML and for JSON inside
// <script>, and the word-level diff of two abstracts. Internal; tested directly.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace papersim::report_detail {

/// Append `s` as HTML text or attribute value: & < > " ' become entities, invalid
/// UTF-8 becomes U+FFFD, and control characters other than tab and newline (which
/// browsers reject or render unpredictably) become U+FFFD too.
void append_html(std::string& out, std::string_view s);
std::string html(std::string_view s);

/// Append `s` as a JSON string literal that is also safe inside an HTML <script>
/// element: besides JSON's own escapes, < > & become \u003c \u003e \u0026 (so no
/// "</script>" or "<!--" can appear) and U+2028 / U+2029 become \u2028 / \u2029.
/// Invalid UTF-8 becomes U+FFFD.
void append_script_json(std::string& out, std::string_view s);

/// The longest prefix of `s` of at most `max_bytes` bytes that ends on a UTF-8
/// character boundary.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);

enum class DiffOp : std::uint8_t { kEqual, kDelete, kInsert };

/// A run of `count` words: kEqual consumes words of both texts, kDelete of the
/// first, kInsert of the second.
struct DiffRun {
  DiffOp op;
  std::size_t count;
};

/// Whitespace-separated words of `text`, at most `max_words` (sets *truncated
/// when words were left out).
std::vector<std::string_view> split_words(std::string_view text, std::size_t max_words,
                                          bool* truncated);

/// Shortest edit script between word sequences `a` and `b` (Myers' O((N+M)D)
/// algorithm, after stripping the common prefix and suffix). Returns false, leaving
/// `runs` empty, when more than `max_edits` insertions plus deletions are needed.
/// Adjacent runs of the same kind are merged.
bool diff_words(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b,
                std::size_t max_edits, std::vector<DiffRun>* runs);

}  // namespace papersim::report_detail
