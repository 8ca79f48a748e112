#include "text/tokenizer.hpp"

#include <utf8proc.h>

#include <cctype>

#include "papersim/error.hpp"

namespace papersim::text {

namespace detail {
namespace {
constexpr unsigned char byte_class(int c) {
  if (c >= 0x80) return 2;
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
    return 1;
  return 0;
}
struct ByteClassTable {
  unsigned char v[256];
  constexpr ByteClassTable() : v() {
    for (int c = 0; c < 256; ++c) v[c] = byte_class(c);
  }
};
constexpr ByteClassTable kTable{};
}  // namespace

const unsigned char kByteClass[256] = {
#define PAPERSIM_ROW(b)                                                                         \
  kTable.v[b + 0], kTable.v[b + 1], kTable.v[b + 2], kTable.v[b + 3], kTable.v[b + 4],          \
      kTable.v[b + 5], kTable.v[b + 6], kTable.v[b + 7], kTable.v[b + 8], kTable.v[b + 9],      \
      kTable.v[b + 10], kTable.v[b + 11], kTable.v[b + 12], kTable.v[b + 13], kTable.v[b + 14], \
      kTable.v[b + 15]
    PAPERSIM_ROW(0),   PAPERSIM_ROW(16),  PAPERSIM_ROW(32),  PAPERSIM_ROW(48),
    PAPERSIM_ROW(64),  PAPERSIM_ROW(80),  PAPERSIM_ROW(96),  PAPERSIM_ROW(112),
    PAPERSIM_ROW(128), PAPERSIM_ROW(144), PAPERSIM_ROW(160), PAPERSIM_ROW(176),
    PAPERSIM_ROW(192), PAPERSIM_ROW(208), PAPERSIM_ROW(224), PAPERSIM_ROW(240),
#undef PAPERSIM_ROW
};
}  // namespace detail

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

[[noreturn]] void unsupported_pattern(const std::string& pattern) {
  throw UsageError("token_pattern '" + pattern +
                   "' is not supported: papersim implements patterns of the form "
                   "(?u)\\b\\w\\w+\\b, \\b\\w+\\b or \\b\\w{N,}\\b natively");
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when invalid
// (overlong, surrogate, out of range or truncated).
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t* cp) {
  const auto c0 = static_cast<unsigned char>(s[i]);
  std::size_t len;
  char32_t v, min;
  if (c0 < 0x80) {
    *cp = c0;
    return 1;
  } else if ((c0 & 0xE0) == 0xC0) {
    len = 2, v = c0 & 0x1F, min = 0x80;
  } else if ((c0 & 0xF0) == 0xE0) {
    len = 3, v = c0 & 0x0F, min = 0x800;
  } else if ((c0 & 0xF8) == 0xF0) {
    len = 4, v = c0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    v = (v << 6) | (c & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

// Start of the UTF-8 sequence that ends just before s[i] (i > 0).
std::size_t previous_start(std::string_view s, std::size_t i) {
  std::size_t j = i - 1;
  int back = 0;
  while (j > 0 && back < 3 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j, ++back;
  return j;
}

// Unicode "Cased": the case letter categories plus the Other_Lowercase and
// Other_Uppercase characters that are not also case-ignorable (ordinal
// indicators, Roman numerals, circled and squared letters). Checked against
// CPython 3.11's str.lower on every code point.
bool is_cased(char32_t cp) {
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT)
    return true;
  return cp == 0xAA || cp == 0xBA || (cp >= 0x2160 && cp <= 0x217F) ||
         (cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) ||
         (cp >= 0x1F150 && cp <= 0x1F169) || (cp >= 0x1F170 && cp <= 0x1F189);
}

// Unicode "Case_Ignorable": Mn, Me, Cf, Lm, Sk and the word-break MidLetter,
// MidNumLet and Single_Quote characters.
bool is_case_ignorable(char32_t cp) {
  switch (cp) {
    case 0x27:
    case 0x2E:
    case 0x3A:
    case 0xB7:
    case 0x387:
    case 0x55F:
    case 0x5F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      break;
  }
  // No ASCII shortcut: ^ and ` are modifier symbols (Sk), hence case-ignorable.
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME ||
         cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_SK;
}

// CPython's str.lower maps U+03A3 to final sigma when it ends a word: preceded
// by a cased letter and not followed by one (case-ignorables skipped both ways).
bool is_final_sigma(std::string_view s, std::size_t pos, std::size_t len) {
  char32_t cp = 0;
  bool cased_before = false;
  for (std::size_t i = pos; i > 0;) {
    i = previous_start(s, i);
    if (decode_utf8(s, i, &cp) == 0) break;
    if (!is_case_ignorable(cp)) {
      cased_before = is_cased(cp);
      break;
    }
  }
  if (!cased_before) return false;
  for (std::size_t i = pos + len; i < s.size();) {
    const std::size_t n = decode_utf8(s, i, &cp);
    if (n == 0) return true;
    if (!is_case_ignorable(cp)) return !is_cased(cp);
    i += n;
  }
  return true;
}

}  // namespace

int min_chars_of_pattern(const std::string& pattern) {
  std::string_view s = pattern;
  if (starts_with(s, "(?u)")) s.remove_prefix(4);
  if (!starts_with(s, "\\b") || s.size() < 4 || s.substr(s.size() - 2) != "\\b")
    unsupported_pattern(pattern);
  s = s.substr(2, s.size() - 4);
  int words = 0;
  while (starts_with(s, "\\w")) {
    ++words;
    s.remove_prefix(2);
  }
  if (words == 0) unsupported_pattern(pattern);
  if (s == "+") return words;
  // \w{m,}: the last \w repeated at least m times.
  if (s.size() >= 4 && s.front() == '{' && s.substr(s.size() - 2) == ",}") {
    int m = 0;
    for (char c : s.substr(1, s.size() - 3)) {
      if (c < '0' || c > '9' || m > 1000) unsupported_pattern(pattern);
      m = m * 10 + (c - '0');
    }
    if (m >= 1) return words - 1 + m;
  }
  unsupported_pattern(pattern);
}

bool is_word_code_point(char32_t cp) {
  if (cp < 0x80) return detail::kByteClass[cp] == 1;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

namespace {
struct LatexSpecialTable {
  bool v[256];
  constexpr LatexSpecialTable() : v() {
    for (unsigned char c : {'\\', '$', '{', '}', '~', '_', '^'}) v[c] = true;
  }
};
constexpr LatexSpecialTable kLatexSpecial{};
}  // namespace

void strip_latex(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  bool math = false;
  const auto is_letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  for (std::size_t i = 0; i < in.size();) {
    // Copy the run up to the next markup character in one go: most of an
    // abstract is plain text.
    std::size_t j = i;
    while (j < in.size() && !kLatexSpecial.v[static_cast<unsigned char>(in[j])]) ++j;
    out.append(in.data() + i, j - i);
    i = j;
    if (i >= in.size()) break;
    const char c = in[i];
    switch (c) {
      case '\\': {
        if (i + 1 >= in.size()) {
          ++i;
          break;
        }
        const char d = in[i + 1];
        if (is_letter(d)) {
          // A control word (\textit, \alpha): dropped; its braced argument stays.
          std::size_t j = i + 1;
          while (j < in.size() && is_letter(in[j])) ++j;
          out.push_back(' ');
          i = j;
        } else if (d == '(' || d == '[') {
          math = true;
          out.push_back(' ');
          i += 2;
        } else if (d == ')' || d == ']') {
          math = false;
          out.push_back(' ');
          i += 2;
        } else if (d == '\'' || d == '"' || d == '^' || d == '`' || d == '~' || d == '=' ||
                   d == '.') {
          // Accent on the next letter (Schr\"odinger): keep the letter inside its word.
          i += 2;
        } else if (d == '_' || d == '&' || d == '%' || d == '#') {
          out.push_back(d);  // Escaped literal.
          i += 2;
        } else {
          out.push_back(' ');  // \\, spacing commands, \{ \} \$.
          i += 2;
        }
        break;
      }
      case '$':
        math = !math;
        out.push_back(' ');
        ++i;
        break;
      case '{':
      case '}':
        // Outside math braces only group ({M}ulti, T{\"u}bingen); inside they
        // delimit arguments (\frac{a}{b}) that must not merge.
        if (math) out.push_back(' ');
        ++i;
        break;
      case '~':
        out.push_back(' ');
        ++i;
        break;
      case '_':
      case '^':
        out.push_back(math ? ' ' : c);
        ++i;
        break;
      default:
        out.push_back(c);
        ++i;
    }
  }
}

Tokenizer::Tokenizer(const TfidfOptions& options)
    : lowercase_(options.lowercase),
      strip_(options.strip_accents),
      strip_latex_(options.strip_latex),
      min_chars_(min_chars_of_pattern(options.token_pattern)) {
  for (int c = 0; c < 128; ++c)
    lower_[c] = static_cast<unsigned char>(lowercase_ && c >= 'A' && c <= 'Z' ? c + 32 : c);
}

void Tokenizer::lower_and_mask(const unsigned char* s, std::size_t n, char* out,
                               std::uint64_t* mask) const {
  std::size_t i = 0;
#if defined(__SSE2__)
  // ASCII bytes compare correctly as signed chars.
  const auto in_range = [](__m128i x, char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmplt_epi8(x, _mm_set1_epi8(static_cast<char>(hi + 1))));
  };
  const __m128i case_bit = _mm_set1_epi8(lowercase_ ? 0x20 : 0);
  const __m128i underscore = _mm_set1_epi8('_');
  for (; i + 64 <= n; i += 64) {
    std::uint64_t bits = 0;
    for (int k = 0; k < 4; ++k) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 16 * k));
      const __m128i upper = in_range(x, 'A', 'Z');
      const __m128i word =
          _mm_or_si128(_mm_or_si128(upper, in_range(x, 'a', 'z')),
                       _mm_or_si128(in_range(x, '0', '9'), _mm_cmpeq_epi8(x, underscore)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 16 * k),
                       _mm_or_si128(x, _mm_and_si128(upper, case_bit)));
      bits |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(word)))
              << (16 * k);
    }
    mask[i >> 6] = bits;
  }
#endif
  for (; i < n; i += 64) {
    const std::size_t end = i + 64 < n ? i + 64 : n;
    std::uint64_t bits = 0;
    for (std::size_t j = i; j < end; ++j) {
      out[j] = static_cast<char>(lower_[s[j]]);
      bits |= static_cast<std::uint64_t>(detail::kByteClass[s[j]] & 1) << (j - i);
    }
    mask[i >> 6] = bits;
  }
}

std::size_t Tokenizer::expand(std::string_view text, std::size_t pos) {
  char32_t cp = 0;
  const std::size_t len = decode_utf8(text, pos, &cp);
  if (len == 0) {
    // Invalid UTF-8 (readers normally reject it): a separator, like U+FFFD.
    cps_[0] = 0xFFFD;
    ncps_ = 1;
    return 1;
  }
  char32_t lowered[2] = {cp, 0};
  int nlowered = 1;
  if (lowercase_) {
    if (cp == 0x130) {
      // The one unconditional multi-character lowercase mapping (SpecialCasing).
      lowered[0] = 'i';
      lowered[1] = 0x307;
      nlowered = 2;
    } else if (cp == 0x3A3) {
      lowered[0] = is_final_sigma(text, pos, len) ? 0x3C2 : 0x3C3;
    } else {
      lowered[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
    }
  }
  ncps_ = 0;
  if (strip_ == StripAccents::kNone) {
    for (int k = 0; k < nlowered; ++k) cps_[ncps_++] = lowered[k];
    return len;
  }
  // NFKD per character: canonical reordering only permutes combining marks,
  // which both strip modes drop, so decomposing character by character matches
  // normalizing the whole string.
  for (int k = 0; k < nlowered; ++k) {
    utf8proc_int32_t parts[32];
    int boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(
        static_cast<utf8proc_int32_t>(lowered[k]), parts, 32,
        static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT), &boundclass);
    if (n < 0 || n > 32) {
      cps_[ncps_++] = lowered[k];
      continue;
    }
    for (utf8proc_ssize_t j = 0; j < n; ++j) {
      const auto p = parts[j];
      const bool keep = strip_ == StripAccents::kAscii
                            ? p < 0x80
                            : utf8proc_get_property(p)->combining_class == 0;
      if (keep && ncps_ < 64) cps_[ncps_++] = static_cast<char32_t>(p);
    }
  }
  return len;
}

}  // namespace papersim::text
