// Hostile inputs found by fuzzing and by hand: each must end quickly with
// every record accounted for (kept or skipped), never hang or grow without bound.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
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

std::string record(std::size_t abstract_bytes, const std::string& title = "Sparse") {
  return "{\"title\":\"" + title + "\",\"abstract\":\"" + std::string(abstract_bytes, 'w') + "\"}";
}

TEST_F(Hostile, RecordsOverTheLimitAreSkippedWithFileAndLine) {
  ReaderOptions o;
  o.max_record_bytes = 1000;
  const std::string small = record(100), big = record(2000);
  Corpus a = read("a.jsonl", small + "\n" + big + "\n" + small + "\n", o);
  EXPECT_EQ(a.docs.size(), 2u);
  ASSERT_EQ(a.stats.messages.size(), 1u);
  EXPECT_NE(a.stats.messages[0].find("a.jsonl:2: record exceeds --max-record-bytes: 2032 bytes, "
                                     "limit 1000"),
            std::string::npos)
      << a.stats.messages[0];
  Corpus b = read("b.json", "[" + small + ",\n" + big + ",\n" + small + "]", o);
  EXPECT_EQ(b.docs.size(), 2u);
  EXPECT_EQ(b.stats.skipped.at("record exceeds --max-record-bytes"), 1);
  Corpus c = read(
      "c.csv", "title,abstract\nA,short\nB," + std::string(2000, 'w') + "\nC,\"also\nshort\"\n", o);
  EXPECT_EQ(c.docs.size(), 2u);
  EXPECT_NE(c.stats.messages.at(0).find("c.csv:3: record exceeds"), std::string::npos);
  Corpus d =
      read("d.txt", "Title one\n\n" + std::string(2000, 'w') + "\n\nTitle two\n\nShort.\n", o);
  EXPECT_EQ(d.docs.size(), 1u);
  EXPECT_EQ(d.stats.skipped.at("record exceeds --max-record-bytes"), 1);
  o.strict = true;
  try {
    read("e.jsonl", small + "\n" + big + "\n", o);
    ADD_FAILURE() << "no error under strict";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("e.jsonl:2: record exceeds --max-record-bytes"),
              std::string::npos)
        << e.what();
  }
}

// Feed a StreamGuard in chunks of `step` bytes, as a pipe would arrive.
std::string stream_through(const std::string& in, std::size_t step, std::size_t max,
                           std::vector<io::ElidedLine>* elided) {
  io::Sink sink(1);
  io::StreamGuard guard("s", max);
  sink.guard = &guard;
  for (std::size_t p = 0; p < in.size(); p += step) {
    const std::size_t n = std::min(step, in.size() - p);
    while (sink.avail() < n) {
    }
    std::memcpy(sink.tail(), in.data() + p, n);
    sink.grew(n);
  }
  guard.finish();
  *elided = guard.elided();
  return std::string(sink.buf, sink.size);
}

TEST_F(Hostile, StreamedLinesOverTheLimitAreDroppedAsTheyArrive) {
  const std::string in = "short\n" + std::string(50, 'x') + "\nok\n" + std::string(30, 'y') + "\n" +
                         std::string(21, 'z') + "\nend" + std::string(40, 'q');
  for (std::size_t step : {1, 2, 7, 20, 64, 1000}) {
    std::vector<io::ElidedLine> elided;
    EXPECT_EQ(stream_through(in, step, 20, &elided), "short\n\nok\n\n\n") << step;
    ASSERT_EQ(elided.size(), 4u) << step;
    EXPECT_EQ(elided[0].line, 2);
    EXPECT_EQ(elided[0].bytes, 50u);
    EXPECT_EQ(elided[1].line, 4);
    EXPECT_EQ(elided[2].line, 5);
    EXPECT_EQ(elided[2].bytes, 21u);
    EXPECT_EQ(elided[3].line, 6);
    EXPECT_EQ(elided[3].bytes, 43u);
  }
  // A JSON array (often a single line) is cut into elements instead.
  std::vector<io::ElidedLine> elided;
  const std::string arr = " [" + std::string(100, ' ') + "]";
  EXPECT_EQ(stream_through(arr, 7, 20, &elided), arr);
  EXPECT_TRUE(elided.empty());
}

// Found by fuzz_stream_guard: while a long line was being dropped, a chunk
// that began with a gzip magic turned the guard off for the rest of the stream.
TEST_F(Hostile, CompressionMagicMidStreamIsJustBytes) {
  const std::string in = std::string(40, 'q') + "\x1f\x8b" + std::string(40, 'q') + "\nok\n";
  for (std::size_t step : {2, 4, 40}) {
    std::vector<io::ElidedLine> elided;
    EXPECT_EQ(stream_through(in, step, 8, &elided), "\nok\n") << step;
    ASSERT_EQ(elided.size(), 1u) << step;
    EXPECT_EQ(elided[0].bytes, 82u);
  }
  EXPECT_THROW(
      stream_through(std::string(40, 'q') + "\x1f\x8b" + std::string(4, '\0'), 2, 8, nullptr),
      InputError);
}

TEST_F(Hostile, EndlessOrBinaryStreamsAreReportedAsSuch) {
  // A line that never ends: an error once it passes 64 times the limit.
  try {
    stream_through(std::string(64 * 100 + 200, 'a'), 999, 100, nullptr);
    ADD_FAILURE() << "endless line accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("s:1: record exceeds --max-record-bytes and has no line "
                                         "end"),
              std::string::npos)
        << e.what();
  }
  try {
    stream_through("text\n" + std::string(10, '\0'), 3, 100, nullptr);
    ADD_FAILURE() << "NUL bytes accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("binary data (a NUL byte at offset 5)"), std::string::npos)
        << e.what();
  }
  // The same from a regular file, and from standard input.
  const std::string zeros = dir_.write("zeros", std::string(5000, '\0'));
  EXPECT_THROW(read_corpus({zeros}, ReaderOptions{}), InputError);
  ASSERT_NE(std::freopen(zeros.c_str(), "rb", stdin), nullptr);
  EXPECT_THROW(read_corpus({"-"}, ReaderOptions{}), InputError);
}

TEST_F(Hostile, StandardInputJsonOnOneLineIsCutIntoElements) {
  // Objects one after another on one long line: over the limit as a line,
  // but each element is small, so --input-format json reads them all.
  ReaderOptions o;
  o.max_record_bytes = 1000;
  o.format = InputFormat::kJson;
  std::string in;
  for (int i = 0; i < 100; ++i) in += record(20, "T" + std::to_string(i));
  ASSERT_NE(std::freopen(dir_.write("in", in).c_str(), "rb", stdin), nullptr);
  Corpus c = read_corpus({"-"}, o);
  EXPECT_EQ(c.docs.size(), 100u);
  EXPECT_EQ(c.stats.skipped_total(), 0);
}

TEST_F(Hostile, StandardInputSkipsAnOverLongLineKeepingLineNumbers) {
  ReaderOptions o;
  o.max_record_bytes = 1 << 16;  // the 3 MiB line is dropped, not taken for an endless one
  const std::string in =
      record(10, "First") + "\n" + record(3 << 20) + "\n" + record(10, "Third") + "\n";
  ASSERT_NE(std::freopen(dir_.write("in", in).c_str(), "rb", stdin), nullptr);
  Corpus c = read_corpus({"-"}, o);
  EXPECT_EQ(c.stats.records, 3);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[1].source, "stdin:3");
  EXPECT_EQ(c.docs[1].title, "Third");
  ASSERT_EQ(c.stats.messages.size(), 1u);
  EXPECT_NE(c.stats.messages[0].find("stdin:2: record exceeds --max-record-bytes: 3145760 bytes"),
            std::string::npos)
      << c.stats.messages[0];
}

}  // namespace
}  // namespace papersim
