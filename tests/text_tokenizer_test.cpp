// Tokenization edge cases. Expected tokens are what scikit-learn 1.2's
// TfidfVectorizer().build_analyzer() returns for the same input and options
// (checked with Python when the cases were written; text_parity_test checks
// whole corpora against scikit-learn on every run).

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "papersim/error.hpp"
#include "papersim/tfidf.hpp"
#include "text/interner.hpp"
#include "text/tokenizer.hpp"

using papersim::StripAccents;
using papersim::TfidfOptions;
using Tokens = std::vector<std::string>;

namespace {

Tokens tok(const std::string& text, StripAccents strip = StripAccents::kNone, bool lower = true) {
  TfidfOptions o;
  o.strip_accents = strip;
  o.lowercase = lower;
  return papersim::tokenize(text, o);
}

TEST(TextTokenizer, AsciiWordsPunctuationAndSingleCharacters) {
  EXPECT_EQ(tok("Hello, World! a b cd"), (Tokens{"hello", "world", "cd"}));
  EXPECT_EQ(tok(""), Tokens{});
  EXPECT_EQ(tok("a b c"), Tokens{});
  EXPECT_EQ(tok("Hello WORLD", StripAccents::kNone, false), (Tokens{"Hello", "WORLD"}));
}

TEST(TextTokenizer, DigitsAndUnderscoresAreWordCharacters) {
  EXPECT_EQ(tok("x_1 42 3.14 snake_case __init__ _"),
            (Tokens{"x_1", "42", "14", "snake_case", "__init__"}));
}

TEST(TextTokenizer, ApostrophesSplitWords) {
  EXPECT_EQ(tok("don't it's O'Neil"), (Tokens{"don", "it", "neil"}));
}

TEST(TextTokenizer, UnicodeLettersLowercaseLikePython) {
  EXPECT_EQ(tok("Über naïve café Straße ΑΒΓ"), (Tokens{"über", "naïve", "café", "straße", "αβγ"}));
  EXPECT_EQ(tok("日本語テキスト"), (Tokens{"日本語テキスト"}));
  // Numbers of every kind are \w: superscripts and circled digits join words.
  EXPECT_EQ(tok("²³ ①② Ⅻ x²"), (Tokens{"²³", "①②", "x²"}));
}

TEST(TextTokenizer, CapitalSigmaBecomesFinalSigmaAtWordEnd) {
  EXPECT_EQ(tok("ΟΔΟΣ ΣΑΣ Σ"), (Tokens{"οδος", "σας"}));
  // The apostrophe is case-ignorable: still final. The full stop too, but a
  // cased letter follows it: not final.
  EXPECT_EQ(tok("ΑΣ' x ΑΣ.Β"), (Tokens{"ας", "ασ"}));
  // ^ is a modifier symbol, also case-ignorable (seen in arXiv: $C\colonΣ^n$).
  EXPECT_EQ(tok("$C\\colonΣ^n$ ΑΣ^"), (Tokens{"colonσ", "ας"}));
}

TEST(TextTokenizer, DottedCapitalILowercasesToTwoCodePoints) {
  // Python: "İ".lower() == "i\u0307", and U+0307 is a combining mark (not \w).
  EXPECT_EQ(tok("İstanbul"), (Tokens{"stanbul"}));
  EXPECT_EQ(tok("İstanbul", StripAccents::kUnicode), (Tokens{"istanbul"}));
}

TEST(TextTokenizer, CombiningMarksSplitTokensUnlessStripped) {
  const std::string text = "e\u0301te";  // e + COMBINING ACUTE ACCENT + te
  EXPECT_EQ(tok(text), (Tokens{"te"}));
  EXPECT_EQ(tok(text, StripAccents::kUnicode), (Tokens{"ete"}));
  EXPECT_EQ(tok(text, StripAccents::kAscii), (Tokens{"ete"}));
}

TEST(TextTokenizer, AccentStripModes) {
  const std::string text = "Ångström naïve Ørsted ﬁnance ½";
  EXPECT_EQ(tok(text), (Tokens{"ångström", "naïve", "ørsted", "ﬁnance"}));
  // NFKD: the ligature splits, Ø has no decomposition, ½ becomes 1⁄2.
  EXPECT_EQ(tok(text, StripAccents::kUnicode), (Tokens{"angstrom", "naive", "ørsted", "finance"}));
  // ASCII drops Ø and the fraction slash, joining 1 and 2.
  EXPECT_EQ(tok(text, StripAccents::kAscii),
            (Tokens{"angstrom", "naive", "rsted", "finance", "12"}));
  // Lowercasing comes first, so compatibility decompositions may stay capital.
  EXPECT_EQ(tok("ℌello ﬁx", StripAccents::kUnicode), (Tokens{"Hello", "fix"}));
}

TEST(TextTokenizer, InvalidUtf8IsASeparator) {
  EXPECT_EQ(tok("ab\xff"
                "cd \xc3(x"),
            (Tokens{"ab", "cd"}));
}

TEST(TextTokenizer, LongTokensOnBothPaths) {
  const std::string word = "supercalifragilisticexpialidocious";
  EXPECT_EQ(tok(word + " ok"), (Tokens{word, "ok"}));
  EXPECT_EQ(tok(word + " é ok"), (Tokens{word, "ok"}));
}

// The ASCII fast path (whole-text bitmask) and the general path must agree:
// appending a lone non-ASCII letter (a dropped single character) forces the
// general path without changing the tokens.
TEST(TextTokenizer, AsciiFastPathMatchesGeneralPath) {
  std::mt19937 rng(42);
  const std::string alphabet = "abcXYZ019_ .,;'-\n\t";
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int len = static_cast<int>(rng() % 300);
    for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    for (int min_chars : {1, 2, 3}) {
      TfidfOptions o;
      o.token_pattern =
          min_chars == 1 ? R"(\b\w+\b)" : (min_chars == 2 ? R"((?u)\b\w\w+\b)" : R"(\b\w{3,}\b)");
      o.lowercase = round % 2 == 0;
      Tokens fast = papersim::tokenize(text, o);
      Tokens general = papersim::tokenize(text + " é", o);
      if (min_chars == 1) {
        ASSERT_FALSE(general.empty());
        EXPECT_EQ(general.back(), "é");
        general.pop_back();
      }
      ASSERT_EQ(fast, general) << "text: " << text;
    }
  }
}

TEST(TextTokenizer, TokenPatterns) {
  TfidfOptions o;
  o.token_pattern = R"(\b\w+\b)";
  EXPECT_EQ(papersim::tokenize("a bc d", o), (Tokens{"a", "bc", "d"}));
  o.token_pattern = R"(\b\w\w\w+\b)";
  EXPECT_EQ(papersim::tokenize("a bc def ghij", o), (Tokens{"def", "ghij"}));
  o.token_pattern = R"((?u)\b\w{4,}\b)";
  EXPECT_EQ(papersim::tokenize("a bc def ghij", o), (Tokens{"ghij"}));
  for (const char* bad : {R"(\w+)", R"((?u)\b[a-z]+\b)", R"(\b\w\w\b)", "", R"(\b\w{0,}\b)"}) {
    o.token_pattern = bad;
    EXPECT_THROW(papersim::tokenize("x", o), papersim::UsageError) << bad;
  }
}

TEST(TextTokenizer, StripLatex) {
  TfidfOptions o;
  o.strip_latex = true;
  EXPECT_EQ(papersim::tokenize(R"(\textit{Deep} learning in $\mathcal{O}(n^2)$ time)", o),
            (Tokens{"deep", "learning", "in", "time"}));
  EXPECT_EQ(papersim::tokenize(R"(Schr\"odinger at T{\"u}bingen, {M}ulti-task)", o),
            (Tokens{"schrodinger", "at", "tubingen", "multi", "task"}));
  // Inside math, _ ^ and braces separate; outside, identifiers keep their underscore.
  EXPECT_EQ(papersim::tokenize(R"(snake_case $x_{ij}^{kl}$ $\frac{ab}{cd}$ 5\% \\ done)", o),
            (Tokens{"snake_case", "ij", "kl", "ab", "cd", "done"}));
  o.strip_latex = false;
  EXPECT_EQ(papersim::tokenize(R"(\textit{Deep})", o), (Tokens{"textit", "deep"}));
}

TEST(TextInterner, InternsAndFindsManyStrings) {
  papersim::text::Interner in(4);
  std::vector<std::string> words;
  for (int i = 0; i < 5000; ++i) words.push_back("w" + std::to_string(i * 7919));
  bool added = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    EXPECT_EQ(in.intern(words[i], papersim::text::hash_bytes(words[i]), &added),
              static_cast<std::int32_t>(i));
    EXPECT_TRUE(added);
  }
  for (std::size_t i = 0; i < words.size(); ++i) {
    EXPECT_EQ(in.find(words[i], papersim::text::hash_bytes(words[i])),
              static_cast<std::int32_t>(i));
    EXPECT_EQ(in.key(static_cast<std::int32_t>(i)), words[i]);
  }
  EXPECT_EQ(in.find("absent", papersim::text::hash_bytes("absent")), -1);
}

TEST(TextInterner, TokenCacheKeepsValuesAcrossGrowth) {
  papersim::text::TokenCache cache(4);
  std::vector<std::string> words;
  for (int i = 0; i < 3000; ++i) words.push_back(std::to_string(i * 104729) + "xyzw");
  for (auto& w : words) w.resize(w.size() % 16 + 1, 'q');  // Lengths 1..16, padded below.
  int made = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < words.size(); ++i) {
      std::string padded = words[i] + std::string(16, '\0');
      const auto key =
          papersim::text::TokenCache::key(std::string_view(padded.data(), words[i].size()));
      EXPECT_EQ(papersim::text::TokenCache::text(key), words[i]);
      const std::int32_t v = cache.get(key, [&] {
        ++made;
        return static_cast<std::int32_t>(i);
      });
      // Duplicate strings keep the value given on first sight.
      EXPECT_EQ(words[v], words[i]);
    }
  }
  std::sort(words.begin(), words.end());
  EXPECT_EQ(made, std::unique(words.begin(), words.end()) - words.begin());
}

}  // namespace
