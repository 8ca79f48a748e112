// The command line and the readers as a new user meets them: list options that
// leave the inputs alone, "did you mean" hints, help text, CSV headers.
#include "cli_support.hpp"

namespace papersim::test {
namespace {

class CliArguments : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bin().empty()) GTEST_SKIP() << "PAPERSIM_BIN not set";
    subs_ = tmp_.write("submissions.jsonl",
                       "{\"id\":\"s1\",\"title\":\"Sparse matrices\",\"abstract\":\"We multiply "
                       "sparse matrices on graphics processors quickly.\"}\n");
    pubs_ = tmp_.write("published.jsonl",
                       "{\"id\":\"p1\",\"title\":\"Sparse matrices\",\"abstract\":\"We multiply "
                       "sparse matrices on graphics processors quickly.\"}\n"
                       "{\"id\":\"p2\",\"title\":\"Protein folding\",\"abstract\":\"Folding "
                       "proteins with deep networks.\"}\n");
    csv_ = tmp_.write("corpus.csv",
                      "paper_id,Title,Abstract Text,year\n"
                      "P1,Sparse matrices,\"We multiply sparse matrices on graphics processors "
                      "quickly.\",2020\n"
                      "P2,Sparse matrices,\"We multiply sparse matrices on graphics processors "
                      "quickly.\",2021\n"
                      "P3,Protein folding,Folding proteins with deep networks.,2022\n");
  }
  // Exit code; stdout in *out and stderr in *err when given.
  int code(const std::string& args, std::string* err = nullptr, std::string* out = nullptr) {
    return run_papersim(args, tmp_, err, out);
  }
  TempDir tmp_;
  std::string subs_, pubs_, csv_;
};

TEST_F(CliArguments, ListOptionsNeverSwallowInputs) {
  std::string err, out;
  // --against=FILE, then the positional input.
  ASSERT_EQ(code("duplicates -q --backend cpu --against=" + quote(pubs_) + " " + quote(subs_), &err,
                 &out),
            0)
      << err;
  ASSERT_EQ(lines(out).size(), 1u) << out;
  EXPECT_NE(out.find("\"id_a\":\"s1\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"id_b\":\"p1\""), std::string::npos) << out;
  // --against FILE INPUT: the same.
  std::string out2;
  ASSERT_EQ(code("duplicates -q --backend cpu --against " + quote(pubs_) + " " + quote(subs_), &err,
                 &out2),
            0)
      << err;
  EXPECT_EQ(out, out2);
  // Repeated, or comma-separated.
  ASSERT_EQ(code("related -q -k 1 --backend cpu --against " + quote(pubs_) + " --against " +
                     quote(subs_) + " " + quote(subs_),
                 &err, &out),
            0)
      << err;
  EXPECT_EQ(lines(out).size(), 1u) << out;
  // A field name with a space, then the CSV input.
  ASSERT_EQ(
      code("duplicates -q --backend cpu --text-field \"Abstract Text\" " + quote(csv_), &err, &out),
      0)
      << err;
  ASSERT_EQ(lines(out).size(), 1u) << out;
  EXPECT_NE(out.find("\"title_a\":\"Sparse matrices\""), std::string::npos) << out;
}

TEST_F(CliArguments, NgramRangeTakesCommaOrTwoValues) {
  std::string err, a, b;
  ASSERT_EQ(code("duplicates -q --backend cpu --ngram-range 1,2 " + quote(pubs_), &err, &a), 0)
      << err;
  ASSERT_EQ(code("duplicates -q --backend cpu --ngram-range 1 2 " + quote(pubs_), &err, &b), 0)
      << err;
  EXPECT_EQ(a, b);
  std::string err2;
  code("vectorize --backend cpu --ngram-range 1 2 " + quote(pubs_), &err2);
  EXPECT_NE(err2.find("ngram_range=1,2"), std::string::npos) << err2;
  EXPECT_EQ(code("duplicates --ngram-range 2,1 " + quote(pubs_), &err), 2);
  EXPECT_NE(err.find("--ngram-range"), std::string::npos) << err;
}

TEST_F(CliArguments, TyposGetSuggestions) {
  std::string err;
  EXPECT_EQ(code("duplicates --treshold 0.5 " + quote(pubs_), &err), 2);
  EXPECT_NE(err.find("unknown option '--treshold'"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean '--threshold'"), std::string::npos) << err;
  EXPECT_EQ(code("duplicats " + quote(pubs_), &err), 2);
  EXPECT_NE(err.find("unknown command 'duplicats'"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'duplicates'"), std::string::npos) << err;
  // Values that look like options are not mistaken for them.
  EXPECT_EQ(code("duplicates -q --backend cpu -o - " + quote(pubs_), &err), 0) << err;
}

TEST_F(CliArguments, HelpShowsProgramNameAndPresetDefaults) {
  std::string out;
  ASSERT_EQ(code("duplicates --help", nullptr, &out), 0);
  EXPECT_NE(out.find("Usage: papersim duplicates"), std::string::npos) << out;
  EXPECT_EQ(out.find("{false}"), std::string::npos) << out;
  EXPECT_NE(out.find("tf = 1 + ln(tf) (default: on; --preset sklearn: off)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("--stop-words TEXT=english"), std::string::npos) << out;
  std::string err;
  EXPECT_EQ(code("duplicates --sublinear-tf --no-sublinear-tf " + quote(pubs_), &err), 2);
  EXPECT_NE(err.find("contradict"), std::string::npos) << err;
}

TEST_F(CliArguments, CsvHeaderProblemsAreOneErrorNamingTheColumns) {
  std::string err;
  // Mistyped --id-field: one error listing the header, not ids corpus.csv:N.
  EXPECT_EQ(code("duplicates --backend cpu --text-field \"Abstract Text\" --id-field paperid " +
                     quote(csv_),
                 &err),
            3);
  EXPECT_NE(err.find("corpus.csv:1: the header has no column paperid"), std::string::npos) << err;
  EXPECT_NE(err.find("paper_id, Title, Abstract Text, year"), std::string::npos) << err;
  // --title-field title matches the Title column.
  std::string out;
  ASSERT_EQ(code("duplicates -q --backend cpu --title-field title --id-field PAPER_ID "
                 "--text-field \"abstract text\" " +
                     quote(csv_),
                 &err, &out),
            0)
      << err;
  EXPECT_NE(out.find("\"id_a\":\"P1\",\"title_a\":\"Sparse matrices\""), std::string::npos) << out;
  // No text column at all: one error, no per-row messages, no "empty corpus".
  const std::string bare = tmp_.write("bare.csv", "key,year\n1,2020\n2,2021\n3,2022\n");
  EXPECT_EQ(code("duplicates --backend cpu " + quote(bare), &err), 3);
  EXPECT_NE(err.find("none of the text columns"), std::string::npos) << err;
  EXPECT_EQ(err.find("skipped"), std::string::npos) << err;
  EXPECT_EQ(err.find("empty corpus"), std::string::npos) << err;
  // No abstract column: one warning, and the summary counts the title-only records.
  EXPECT_EQ(code("duplicates --backend cpu -o /dev/null " + quote(csv_), &err), 0) << err;
  EXPECT_NE(err.find("warning: "), std::string::npos) << err;
  EXPECT_NE(err.find("no abstract column"), std::string::npos) << err;
  EXPECT_NE(err.find("title only        3"), std::string::npos) << err;
}

TEST_F(CliArguments, DelimiterReadsSemicolonCsv) {
  std::string text = read_file(csv_), semi;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    semi.push_back(c == ',' && !quoted ? ';' : c);
  }
  const std::string p = tmp_.write("semi.csv", semi);
  std::string err, out;
  EXPECT_EQ(code("duplicates --backend cpu --text-field \"Abstract Text\" " + quote(p), &err), 3)
      << "a semicolon file read with commas has no text column";
  ASSERT_EQ(code("duplicates -q --backend cpu --delimiter ';' --id-field paper_id --text-field "
                 "\"Abstract Text\" " +
                     quote(p),
                 &err, &out),
            0)
      << err;
  EXPECT_NE(out.find("\"id_a\":\"P1\""), std::string::npos) << out;
  EXPECT_EQ(code("duplicates --delimiter ';;' " + quote(p), &err), 2);
}

}  // namespace
}  // namespace papersim::test
