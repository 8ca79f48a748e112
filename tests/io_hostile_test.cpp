// Hostile inputs found by fuzzing and by hand: each must end quickly with
// every record accounted for (kept or skipped), never hang or grow without bound.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "io/reader_internal.hpp"
#include "papersim/error.hpp"
#include "papersim/reader.hpp"
#include "temp_dir.hpp"

namespace papersim {
namespace {

using test::TempDir;

// A hang is a failure, not a stuck test run: SIGALRM ends the test process.
class Hostile : public ::testing::Test {
 protected:
  void SetUp() override { alarm(60); }
  void TearDown() override { alarm(0); }
  Corpus read(const std::string& name, const std::string& content, ReaderOptions o = {}) {
    Corpus c = read_corpus({dir_.write(name, content)}, o);
    EXPECT_EQ(c.stats.records, c.stats.kept + c.stats.skipped_total()) << content;
    return c;
  }
  TempDir dir_;
};

constexpr const char* kRec = "{\"title\":\"Sparse\",\"abstract\":\"Dense matrices.\"}";

TEST_F(Hostile, LoneCommaInJsonFileEnds) {
  Corpus c = read("a.json", ",");
  EXPECT_EQ(c.docs.size(), 0u);
  EXPECT_EQ(c.stats.records, 1);
  ASSERT_EQ(c.stats.messages.size(), 1u);
  EXPECT_NE(c.stats.messages[0].find("a.json:1: malformed JSON: a stray ','"), std::string::npos)
      << c.stats.messages[0];
}

TEST_F(Hostile, StrayBracketOrCommaAfterTopLevelObjects) {
  const std::string r = kRec;
  Corpus a = read("b.json", r + "\n" + r + "]\n");
  EXPECT_EQ(a.docs.size(), 2u);
  EXPECT_EQ(a.stats.skipped_total(), 1);
  Corpus b = read("c.json", r + ",\n" + r + ",\n");
  EXPECT_EQ(b.docs.size(), 2u);
  EXPECT_EQ(b.stats.skipped_total(), 2);
  EXPECT_NE(b.stats.messages[0].find("c.json:1:"), std::string::npos) << b.stats.messages[0];
  Corpus d = read("d.json", "}}]],,,");
  EXPECT_EQ(d.docs.size(), 0u);
  EXPECT_EQ(d.stats.records, 7);
}

TEST_F(Hostile, MissingAndTrailingArrayElements) {
  const std::string r = kRec;
  Corpus a = read("a.json", "[" + r + ",," + r + ",]");
  EXPECT_EQ(a.docs.size(), 2u);
  EXPECT_EQ(a.stats.skipped_total(), 1);
  Corpus b = read("b.json", "[,]");
  EXPECT_EQ(b.docs.size(), 0u);
  EXPECT_EQ(b.stats.records, 1);
}

TEST_F(Hostile, FormFeedAndVerticalTabBeforeJson) {
  // Detection treats \f and \v as space; so must the scanner.
  for (const char* ws : {"\f", "\v", " \f\v\r\n\t"}) {
    const std::string w = ws;
    Corpus a = read("arr.txt", w + "[" + kRec + "," + w + kRec + w + "]" + w);
    EXPECT_EQ(a.docs.size(), 2u);
    EXPECT_EQ(a.stats.skipped_total(), 0);
    Corpus b = read("lines.txt", w + kRec + w + "\n" + w + "\n" + kRec + "\n");
    EXPECT_EQ(b.docs.size(), 2u);
    EXPECT_EQ(b.stats.skipped_total(), 0);
    const auto nl = std::count(w.begin(), w.end(), '\n');
    EXPECT_EQ(b.docs[1].source, "lines.txt:" + std::to_string(3 + 3 * nl));
  }
  ReaderOptions o;
  EXPECT_EQ(io::detect_format("x", "\f\v[", o), InputFormat::kJson);
  EXPECT_EQ(io::detect_format("x", "\v{", o), InputFormat::kJsonl);
}

TEST_F(Hostile, ScalarsAndJunkBetweenValues) {
  Corpus a = read("s.json", "1 2 \"x\" null [1] " + std::string(kRec) + " abc,def");
  EXPECT_EQ(a.docs.size(), 1u);
  EXPECT_EQ(a.stats.records, 9);  // "abc", "," and "def" are three
}

}  // namespace
}  // namespace papersim
