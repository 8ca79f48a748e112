// Escaping and word diff of the HTML report, against independent references:
// the diff against a textbook O(N*M) LCS on random word sequences.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "report/assets.hpp"
#include "report/text.hpp"

namespace rd = papersim::report_detail;

TEST(ReportEscape, HtmlEscapesMarkupAndQuotes) {
  EXPECT_EQ(rd::html("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(rd::html("</script><script>alert(1)</script>"),
            "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
}

TEST(ReportEscape, HtmlKeepsUnicodeAndReplacesInvalidBytesAndControls) {
  EXPECT_EQ(rd::html("α≤β — 𝔽 $\\mathcal{O}(n)$"), "α≤β — 𝔽 $\\mathcal{O}(n)$");
  EXPECT_EQ(rd::html(std::string("a\xff"
                                 "b")),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(rd::html(std::string("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(rd::html("a\x01\x7f"
                     "b"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(rd::html("\xC2\x85"), "\xEF\xBF\xBD");                              // C1 control NEL.
  EXPECT_EQ(rd::html("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // Surrogate.
  EXPECT_EQ(rd::html("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // Overlong "/".
  EXPECT_EQ(rd::html("a\tb\nc"), "a\tb\nc");
}

TEST(ReportEscape, ScriptJsonCannotCloseTheScriptElement) {
  std::string out;
  rd::append_script_json(out, "</script><!-- \"x\" \\ & >\n\u2028\u2029");
  EXPECT_EQ(out,
            "\"\\u003c/script\\u003e\\u003c!-- \\\"x\\\" \\\\ \\u0026 \\u003e\\n\\u2028\\u2029\"");
  EXPECT_EQ(out.find('<'), std::string::npos);
  out.clear();
  rd::append_script_json(out, std::string("\x01\xfe", 2));
  EXPECT_EQ(out, "\"\\u0001\xEF\xBF\xBD\"");
}

TEST(ReportEscape, Utf8PrefixNeverSplitsACharacter) {
  const std::string s =
      "ab\xE2\x89\xA4"
      "cd";  // "ab≤cd"
  EXPECT_EQ(rd::utf8_prefix(s, 2), "ab");
  EXPECT_EQ(rd::utf8_prefix(s, 3), "ab");
  EXPECT_EQ(rd::utf8_prefix(s, 4), "ab");
  EXPECT_EQ(rd::utf8_prefix(s, 5), "ab\xE2\x89\xA4");
  EXPECT_EQ(rd::utf8_prefix(s, 100), s);
}

TEST(ReportCsp, Sha256MatchesKnownDigests) {
  // FIPS 180-2 examples, base64-encoded.
  EXPECT_EQ(rd::sha256_base64(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(rd::sha256_base64("abc"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  EXPECT_EQ(rd::sha256_base64("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "JI1qYdIGOLjlwCaTDD5gOaM85Flk/yFn9uzt1BnbBsE=");
  EXPECT_EQ(rd::sha256_base64(std::string(1000000, 'a')),
            "zcduXJkU+5KBocfihNc+Z/GAmkiklyAOBG05zMcRLNA=");
}

TEST(ReportDiff, SplitWordsCapsAndFlagsTruncation) {
  bool cut = true;
  auto w = rd::split_words("  one\ttwo\n three  ", 10, &cut);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[2], "three");
  EXPECT_FALSE(cut);
  w = rd::split_words("a b c d", 2, &cut);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_TRUE(cut);
}

namespace {

using Words = std::vector<std::string_view>;

std::size_t lcs_length(const Words& a, const Words& b) {
  std::vector<std::vector<std::size_t>> t(a.size() + 1, std::vector<std::size_t>(b.size() + 1, 0));
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      t[i][j] = a[i - 1] == b[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
    }
  }
  return t[a.size()][b.size()];
}

// Replays the runs: equal runs must match word for word, and the script must
// consume both sequences exactly.
void check_script(const Words& a, const Words& b, const std::vector<rd::DiffRun>& runs,
                  std::size_t* edits) {
  std::size_t i = 0, j = 0;
  *edits = 0;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    ASSERT_GT(runs[r].count, 0u);
    if (r > 0) ASSERT_NE(runs[r].op, runs[r - 1].op) << "adjacent runs not merged";
    for (std::size_t c = 0; c < runs[r].count; ++c) {
      switch (runs[r].op) {
        case rd::DiffOp::kEqual:
          ASSERT_LT(i, a.size());
          ASSERT_LT(j, b.size());
          ASSERT_EQ(a[i], b[j]);
          ++i;
          ++j;
          break;
        case rd::DiffOp::kDelete:
          ASSERT_LT(i, a.size());
          ++i;
          ++*edits;
          break;
        case rd::DiffOp::kInsert:
          ASSERT_LT(j, b.size());
          ++j;
          ++*edits;
          break;
      }
    }
  }
  EXPECT_EQ(i, a.size());
  EXPECT_EQ(j, b.size());
}

}  // namespace

TEST(ReportDiff, SimpleEdit) {
  bool cut = false;
  const std::string ta = "we propose a fast method for graphs";
  const std::string tb = "we propose a simple and fast method for large graphs";
  auto a = rd::split_words(ta, 100, &cut);
  auto b = rd::split_words(tb, 100, &cut);
  std::vector<rd::DiffRun> runs;
  ASSERT_TRUE(rd::diff_words(a, b, 100, &runs));
  std::size_t edits = 0;
  check_script(a, b, runs, &edits);
  EXPECT_EQ(edits, 3u);
}

TEST(ReportDiff, MinimalScriptOnRandomSequences) {
  std::mt19937 rng(12345);
  const std::vector<std::string> vocab = {"a", "b", "c", "d", "e", "the", "of", "model"};
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<std::string> sa, sb;
    const int na = static_cast<int>(rng() % 40), nb_extra = static_cast<int>(rng() % 10);
    for (int i = 0; i < na; ++i) sa.push_back(vocab[rng() % vocab.size()]);
    // b: a mutated copy of a (near-duplicates) or unrelated, to cover both regimes.
    if (trial % 3 == 0) {
      for (int i = 0; i < na + nb_extra; ++i) sb.push_back(vocab[rng() % vocab.size()]);
    } else {
      sb = sa;
      for (int e = 0; e < nb_extra; ++e) {
        const auto pos = sb.empty() ? 0 : rng() % (sb.size() + 1);
        switch (rng() % 3) {
          case 0:
            sb.insert(sb.begin() + pos, vocab[rng() % vocab.size()]);
            break;
          case 1:
            if (pos < sb.size()) sb.erase(sb.begin() + pos);
            break;
          default:
            if (pos < sb.size()) sb[pos] = vocab[rng() % vocab.size()];
        }
      }
    }
    Words a(sa.begin(), sa.end()), b(sb.begin(), sb.end());
    std::vector<rd::DiffRun> runs;
    ASSERT_TRUE(rd::diff_words(a, b, 1000, &runs));
    std::size_t edits = 0;
    check_script(a, b, runs, &edits);
    if (HasFatalFailure()) return;
    EXPECT_EQ(edits, a.size() + b.size() - 2 * lcs_length(a, b)) << "trial " << trial;
    // With a budget below the true distance the diff must give up, not return a worse script.
    if (edits > 0) {
      std::vector<rd::DiffRun> capped;
      EXPECT_FALSE(rd::diff_words(a, b, edits - 1, &capped));
      EXPECT_TRUE(capped.empty());
      EXPECT_TRUE(rd::diff_words(a, b, edits, &capped));
    }
  }
}

TEST(ReportDiff, EmptySides) {
  Words none, some = {"x", "y"};
  std::vector<rd::DiffRun> runs;
  ASSERT_TRUE(rd::diff_words(none, none, 0, &runs));
  EXPECT_TRUE(runs.empty());
  ASSERT_TRUE(rd::diff_words(none, some, 5, &runs));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].op, rd::DiffOp::kInsert);
  ASSERT_TRUE(rd::diff_words(some, none, 5, &runs));
  EXPECT_EQ(runs[0].op, rd::DiffOp::kDelete);
  EXPECT_FALSE(rd::diff_words(some, none, 1, &runs));
}
