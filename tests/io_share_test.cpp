// The cut of a distributed read (io/share.hpp), run for every rank of 1 to 7
// simulated ranks in one process, with the exchanges done by hand: the corpus
// every rank builds must equal read_corpus's (ids, sources, record numbers,
// titles, texts, statistics, skip messages), on inputs whose record boundaries
// are easy to get wrong (quoted line ends and escaped quotes at the cuts, blank
// lines, a byte order mark, CRLF, bad records, fewer records than ranks).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "io/share.hpp"
#include "papersim/error.hpp"
#include "papersim/reader.hpp"
#include "temp_dir.hpp"

namespace papersim::io {
namespace {

struct Simulated {
  Corpus corpus;
  std::vector<std::int64_t> begin, end;  // each rank's own documents
  std::vector<bool> split;               // per file, after the checks
};

// What cli/pipeline.cpp's read_shared does over MPI, for `ranks` ranks at once.
Simulated read_simulated(const std::vector<std::string>& paths, const ReaderOptions& ro,
                         int ranks) {
  std::vector<SharePlan> plans;
  for (int r = 0; r < ranks; ++r) plans.push_back(plan_shares(paths, ro, ranks));
  std::vector<std::vector<std::int64_t>> counts;
  for (int r = 0; r < ranks; ++r) counts.push_back(count_parts(plans[r], r));
  for (auto& p : plans) apply_counts(p, counts);
  if (needs_quote_check(plans[0])) {
    std::vector<std::int64_t> any(paths.size(), 0);
    for (int r = 0; r < ranks; ++r) {
      const std::vector<std::int64_t> mine = quote_anomalies(plans[r], r);
      for (std::size_t f = 0; f < any.size(); ++f) any[f] = std::max(any[f], mine[f]);
    }
    for (auto& p : plans) apply_anomalies(p, any);
  }
  Simulated out;
  for (const ShareFile& f : plans[0].files) out.split.push_back(f.split);
  const FieldPlan fields(ro);
  std::vector<std::string> bytes;
  for (int r = 0; r < ranks; ++r)
    bytes.push_back(pack_pieces(read_share(plans[r], r, ro, fields, 1)));
  // Rank 0's corpus (every rank builds the same one), then each rank's own range.
  for (int me = 0; me < ranks; ++me) {
    SharePlan plan = plan_shares(paths, ro, ranks);
    apply_counts(plan, counts);
    for (std::size_t f = 0; f < plan.files.size(); ++f)
      if (!out.split[f]) plan.files[f].split = false;
    std::vector<FilePiece> mine = read_share(plan, me, ro, fields, 1);
    CorpusBuilder builder(paths, ro, 0);
    std::vector<FilePiece> file;
    for (int r = 0; r < ranks; ++r) {
      std::vector<FilePiece> pieces = r == me ? std::move(mine) : unpack_pieces(bytes[r]);
      for (FilePiece& piece : pieces) {
        if (!file.empty() && file.front().file != piece.file) {
          builder.add_file(file);
          file.clear();
        }
        file.push_back(std::move(piece));
      }
    }
    if (!file.empty()) builder.add_file(file);
    Corpus c = builder.finish();
    out.begin.push_back(builder.local_begin());
    out.end.push_back(builder.local_end());
    if (me == 0) {
      out.corpus = std::move(c);
    } else {
      // The texts a rank holds are those of its own documents.
      for (std::int64_t d = out.begin[me]; d < out.end[me]; ++d)
        out.corpus.docs[static_cast<std::size_t>(d)].text =
            c.docs[static_cast<std::size_t>(d)].text;
    }
  }
  return out;
}

void expect_same(const Corpus& want, const Simulated& got, int ranks) {
  SCOPED_TRACE("ranks " + std::to_string(ranks));
  ASSERT_EQ(got.corpus.docs.size(), want.docs.size());
  for (std::size_t i = 0; i < want.docs.size(); ++i) {
    const Document &a = want.docs[i], &b = got.corpus.docs[i];
    EXPECT_EQ(b.doc, a.doc);
    EXPECT_EQ(b.id, a.id) << "doc " << i;
    EXPECT_EQ(b.source, a.source) << "doc " << i;
    EXPECT_EQ(b.file, a.file);
    EXPECT_EQ(b.record, a.record) << "doc " << i;
    EXPECT_EQ(b.title, a.title);
    EXPECT_EQ(b.text, a.text) << "doc " << i;
  }
  const ReadStats &s = want.stats, &t = got.corpus.stats;
  EXPECT_EQ(t.files, s.files);
  EXPECT_EQ(t.records, s.records);
  EXPECT_EQ(t.kept, s.kept);
  EXPECT_EQ(t.skipped, s.skipped);
  EXPECT_EQ(t.duplicate_ids, s.duplicate_ids);
  EXPECT_EQ(t.title_only, s.title_only);
  EXPECT_EQ(t.messages, s.messages);
  // The ranks' own documents tile the corpus in rank order.
  std::int64_t next = 0;
  for (int r = 0; r < ranks; ++r) {
    EXPECT_EQ(got.begin[r], next) << "rank " << r;
    EXPECT_GE(got.end[r], got.begin[r]);
    next = got.end[r];
  }
  EXPECT_EQ(next, static_cast<std::int64_t>(want.docs.size()));
}

// `head`, then row(0) .. row(n - 1).
template <class Row>
std::string rows(std::string head, int n, const Row& row) {
  for (int i = 0; i < n; ++i) head += row(std::to_string(i));
  return head;
}

// The message of the InputError `read` throws ("" when it throws none).
template <class Read>
std::string input_error(const Read& read) {
  try {
    read();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

class ShareTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    return dir_.write(name, bytes);
  }
  void check_all(const std::vector<std::string>& paths, const ReaderOptions& ro = {},
                 std::vector<bool> split = {}) {
    const Corpus want = read_corpus(paths, ro);
    for (int ranks = 1; ranks <= 7; ++ranks) {
      const Simulated got = read_simulated(paths, ro, ranks);
      expect_same(want, got, ranks);
      if (!split.empty() && ranks > 1) EXPECT_EQ(got.split, split) << "ranks " << ranks;
    }
  }
  test::TempDir dir_;
};

TEST_F(ShareTest, CsvWithQuotedLineEndsIsCutAsOneProcessReadsIt) {
  // Escaped quotes right before a closing quote (""""end"), delimiters inside quotes.
  std::string s = "id,title,abstract\n";
  for (int i = 0; i < 40; ++i) {
    s += (i % 5 == 3 ? std::string() : "p" + std::to_string(i % 9)) + ",\"T " + std::to_string(i) +
         ", \"\"q\"\"\",\"one\nline \"\"two\"\"\n" + (i % 2 ? "\"\"" : "") + "end\"\n";
    if (i % 7 == 2) s += "\n";
  }
  check_all({write("a.csv", s)}, {}, {true});
}

TEST_F(ShareTest, CsvWithByteOrderMarkAndCrlf) {
  const std::string s = rows(
      "\xEF\xBB\xBF"
      "id,title,abstract\r\n",
      30,
      [](const std::string& i) { return "x" + i + ",\"T\r\n" + i + "\",\"a \"\"b\"\" c\"\r\n"; });
  check_all({write("b.csv", s)}, {}, {true});
}

TEST_F(ShareTest, CsvWithALiteralQuoteIsReadWhole) {
  // ab"c: the parser keeps the quote as a letter, so the quote count cannot
  // tell quoted line ends from row ends after it: the file goes to one rank.
  const std::string s = rows("id,title,abstract\n", 20, [](const std::string& i) {
    return "y" + i + ",ti\"tle,\"abs\n" + i + "\"\n";
  });
  check_all({write("c.csv", s)}, {}, {false});
}

TEST_F(ShareTest, CsvWithBareCarriageReturnsIsReadWhole) {
  const std::string s = rows("id,title,abstract\r", 20, [](const std::string& i) {
    return "z" + i + ",t,abstract " + i + "\r";
  });
  check_all({write("d.csv", s)}, {}, {false});
}

TEST_F(ShareTest, TsvAndABrokenHeader) {
  const std::string tsv = rows("id\ttitle\tabstract\n", 25, [](const std::string& i) {
    return "t" + i + "\ttitle\t\"a\tb\n" + i + "\"\n";
  });
  // An unterminated quote in the header: one skip for the whole file.
  const std::string broken = rows("id,\"title,abstract\n", 10,
                                  [](const std::string& i) { return "b,t,abstract " + i + "\n"; });
  check_all({write("e.tsv", tsv), write("f.csv", broken)});
}

TEST_F(ShareTest, JsonLinesWithBlankLinesMissingIdsAndBadRecords) {
  std::string s = "\xEF\xBB\xBF";
  for (int i = 0; i < 60; ++i) {
    if (i % 6 == 1) s += "\n  \n";
    if (i % 11 == 4) s += "{\"id\": \"broken\",\n";
    s += i % 4 == 2 ? "{\"title\": \"T" + std::to_string(i) + "\", \"abstract\": \"words " +
                          std::to_string(i) + "\"}\n"
                    : "{\"id\": \"j" + std::to_string(i % 13) + "\", \"title\": \"T\", " +
                          "\"abstract\": \"some words " + std::to_string(i) + "\"}\n";
  }
  s += "{\"id\": \"last\", \"abstract\": \"no line end\"}";
  check_all({write("g.jsonl", s)}, {}, {true});
}

TEST_F(ShareTest, SeveralFilesSomeWholeSomeCutAndTinyOnes) {
  std::string jl;
  for (int i = 0; i < 30; ++i)
    jl += "{\"id\": \"m" + std::to_string(i) + "\", \"abstract\": \"text " + std::to_string(i) +
          "\"}\n";
  const std::string array =
      "[{\"id\": \"arr1\", \"abstract\": \"one\"},\n {\"id\": \"arr2\", "
      "\"abstract\": \"two\"}]\n";
  const std::string listing = "A title\n\nAn abstract of the paper, long enough to be one.\n";
  std::vector<std::string> paths = {write("h.jsonl", jl),
                                    write("i.json", array),
                                    write("j.jsonl", "{\"id\": \"solo\", \"abstract\": \"x\"}\n"),
                                    write("k.txt", listing),
                                    write("l.jsonl", jl),
                                    write("m.csv", "id,abstract\nq,one row\n")};
  check_all(paths, {}, {true, false, true, false, true, true});
}

TEST_F(ShareTest, StrictStopsAtTheFirstBadRecordInInputOrder) {
  std::string s;
  for (int i = 0; i < 40; ++i)
    s += "{\"id\": \"s" + std::to_string(i) + "\", \"abstract\": \"t\"}\n";
  s += "{broken\n";
  for (int i = 0; i < 10; ++i)
    s += "{\"id\": \"u" + std::to_string(i) + "\", \"abstract\": \"t\"}\n";
  ReaderOptions ro;
  ro.strict = true;
  const std::string path = write("n.jsonl", s);
  const std::string want = input_error([&] { read_corpus({path}, ro); });
  ASSERT_NE(want.find("n.jsonl:41:"), std::string::npos) << want;
  for (int ranks = 2; ranks <= 5; ++ranks)
    EXPECT_EQ(input_error([&] { read_simulated({path}, ro, ranks); }), want) << "ranks " << ranks;
}

TEST_F(ShareTest, MissingFileFailsWhereOneProcessFails) {
  const std::string ok = write("o.jsonl", "{\"id\": \"a\", \"abstract\": \"t\"}\n");
  const std::vector<std::string> paths = {ok, dir_.path() + "/missing.jsonl"};
  const std::string want = input_error([&] { read_corpus(paths, {}); });
  ASSERT_FALSE(want.empty());
  for (int ranks = 2; ranks <= 3; ++ranks)
    EXPECT_EQ(input_error([&] { read_simulated(paths, {}, ranks); }), want) << "ranks " << ranks;
}

TEST_F(ShareTest, PiecesRoundTripAndRejectTruncation) {
  std::vector<FilePiece> pieces(1);
  pieces[0].file = 2;
  pieces[0].format = InputFormat::kCsv;
  pieces[0].first = false;
  pieces[0].result.records = 3;
  pieces[0].result.skips.push_back({7, "malformed CSV", "why"});
  pieces[0].result.warnings.push_back("w");
  PendingDoc d;
  d.line = 5;
  d.record = 2;
  d.id = "i";
  d.title = "t";
  d.title_only = true;
  pieces[0].result.docs.push_back(d);
  const std::string bytes = pack_pieces(pieces);
  const std::vector<FilePiece> back = unpack_pieces(bytes);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_FALSE(back[0].local);
  EXPECT_EQ(back[0].file, 2);
  EXPECT_EQ(back[0].format, InputFormat::kCsv);
  EXPECT_FALSE(back[0].first);
  EXPECT_EQ(back[0].result.records, 3);
  ASSERT_EQ(back[0].result.skips.size(), 1u);
  EXPECT_EQ(back[0].result.skips[0].line, 7);
  EXPECT_EQ(back[0].result.skips[0].detail, "why");
  ASSERT_EQ(back[0].result.docs.size(), 1u);
  EXPECT_EQ(back[0].result.docs[0].line, 5);
  EXPECT_EQ(back[0].result.docs[0].record, 2);
  EXPECT_EQ(back[0].result.docs[0].id, "i");
  EXPECT_TRUE(back[0].result.docs[0].title_only);
  EXPECT_THROW(unpack_pieces(bytes.substr(0, bytes.size() - 1)), Error);
}

}  // namespace
}  // namespace papersim::io
