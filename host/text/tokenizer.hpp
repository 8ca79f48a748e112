#pragma once
// scikit-learn's analyzer front end, natively: optional LaTeX cleanup, Python
// str.lower, strip_accents, then the tokens of `(?u)\b\w\w+\b` (maximal runs
// of Unicode word characters at least two code points long).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "papersim/tfidf.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace papersim::text {

/// Minimum token length in code points for a supported token pattern
/// (`\b\w\w+\b` gives 2, `\b\w+\b` 1, `\b\w{3,}\b` 3, optionally prefixed by `(?u)`).
/// @throws UsageError for any other pattern.
int min_chars_of_pattern(const std::string& pattern);

/// Remove LaTeX markup from `in` into `out`: command names (`\textit`), math
/// delimiters (`$`, `\(`...), braces; accent commands (`\'e`) keep the letter;
/// inside math, `_` and `^` separate tokens. Bytes >= 0x80 pass unchanged.
void strip_latex(std::string_view in, std::string& out);

/// Whether Python's `\w` matches code point `cp` (letters L*, numbers N*, `_`).
bool is_word_code_point(char32_t cp);

/// One per thread: holds scratch buffers, so not thread-safe.
class Tokenizer {
 public:
  explicit Tokenizer(const TfidfOptions& options);

  /// Readable bytes after the end of every emitted token (for word-wise loads).
  static constexpr std::size_t kPadding = 16;

  /// Calls `emit(std::string_view token)` for each token of `text`, in order.
  /// The view is only valid during the call; kPadding bytes after it are readable.
  template <class Emit>
  void run(std::string_view text, Emit&& emit);

 private:
  /// Fast path for pure-ASCII text (most abstracts): lowercase the whole text
  /// and build a bitmask of word bytes 16 at a time, then walk the runs of set bits.
  template <class Emit>
  void run_ascii(std::string_view text, Emit&& emit);
  void lower_and_mask(const unsigned char* s, std::size_t n, char* out, std::uint64_t* mask) const;

  /// Expands the non-ASCII (or invalid) sequence at text[pos] into cps_ after
  /// lowercasing and accent stripping; returns the bytes consumed (>= 1).
  std::size_t expand(std::string_view text, std::size_t pos);

  bool lowercase_;
  StripAccents strip_;
  bool strip_latex_;
  int min_chars_;
  unsigned char lower_[128];  // ASCII map: tolower, or identity when !lowercase_.
  std::string latex_;
  std::vector<char> buf_;
  std::vector<std::uint64_t> mask_;
  char32_t cps_[64];
  int ncps_ = 0;
};

namespace detail {
// 1 for ASCII word bytes [0-9A-Za-z_], 0 for other ASCII, 2 for bytes >= 0x80.
extern const unsigned char kByteClass[256];

inline bool is_ascii(std::string_view s) {
  std::uint64_t acc = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    acc |= w;
  }
  for (; i < s.size(); ++i) acc |= static_cast<unsigned char>(s[i]);
  return (acc & 0x8080808080808080ULL) == 0;
}
}  // namespace detail

template <class Emit>
void Tokenizer::run_ascii(std::string_view text, Emit&& emit) {
  const std::size_t n = text.size();
  if (buf_.size() < n + 64 + kPadding) buf_.resize(n + 64 + kPadding);
  const std::size_t words = (n + 63) / 64;
  if (mask_.size() < words + 1) mask_.resize(words + 1);
  char* buf = buf_.data();
  std::uint64_t* m = mask_.data();
  lower_and_mask(reinterpret_cast<const unsigned char*>(text.data()), n, buf, m);
  m[words] = 0;  // Sentinel: every run ends.
  std::size_t pos = 0;
  for (;;) {
    std::size_t w = pos >> 6;
    if (w >= words) return;
    std::uint64_t bits = m[w] & (~std::uint64_t{0} << (pos & 63));
    while (bits == 0) {
      if (++w >= words) return;
      bits = m[w];
    }
    const std::size_t start = (w << 6) + static_cast<std::size_t>(__builtin_ctzll(bits));
    bits = ~m[w] & (~std::uint64_t{0} << (start & 63));
    while (bits == 0) bits = ~m[++w];
    const std::size_t end = (w << 6) + static_cast<std::size_t>(__builtin_ctzll(bits));
    if (end - start >= static_cast<std::size_t>(min_chars_))
      emit(std::string_view(buf + start, end - start));
    pos = end;
  }
}

template <class Emit>
void Tokenizer::run(std::string_view text, Emit&& emit) {
  if (strip_latex_) {
    strip_latex(text, latex_);
    text = latex_;
  }
  // ASCII is a fixed point of NFKD and maps to ASCII under lowercasing, so the
  // options only matter for text with non-ASCII bytes.
  if (detail::is_ascii(text)) {
    run_ascii(text, emit);
    return;
  }
  if (buf_.size() < text.size() + 64 + kPadding) buf_.resize(text.size() + 64 + kPadding);
  const unsigned char* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  char* buf = buf_.data();
  std::size_t n = 0;  // Bytes of the pending token.
  int chars = 0;      // Code points of the pending token.
  std::size_t i = 0;
  for (;;) {
    // ASCII fast path: the bulk of scientific text.
    while (i < size) {
      const unsigned char c = s[i];
      const unsigned char cls = detail::kByteClass[c];
      if (cls == 1) {
        buf[n++] = static_cast<char>(lower_[c]);
        ++chars;
      } else if (cls == 0) {
        if (chars >= min_chars_) emit(std::string_view(buf, n));
        n = 0;
        chars = 0;
      } else {
        break;
      }
      ++i;
    }
    if (i >= size) break;
    i += expand(text, i);
    for (int k = 0; k < ncps_; ++k) {
      const char32_t cp = cps_[k];
      if (!is_word_code_point(cp)) {
        if (chars >= min_chars_) emit(std::string_view(buf_.data(), n));
        n = 0;
        chars = 0;
        continue;
      }
      if (n + 4 + kPadding + (size - i) > buf_.size()) {
        buf_.resize(buf_.size() * 2 + 8);
        buf = buf_.data();
      }
      if (cp < 0x80) {
        buf[n++] = static_cast<char>(cp);
      } else if (cp < 0x800) {
        buf[n++] = static_cast<char>(0xC0 | (cp >> 6));
        buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        buf[n++] = static_cast<char>(0xE0 | (cp >> 12));
        buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        buf[n++] = static_cast<char>(0xF0 | (cp >> 18));
        buf[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
      }
      ++chars;
    }
  }
  if (chars >= min_chars_) emit(std::string_view(buf, n));
}

}  // namespace papersim::text
