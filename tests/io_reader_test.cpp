// Readers: every format, field resolution, numbering, and every kind of bad
// input under the default (skip and count) and strict (throw) policies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "papersim/error.hpp"
#include "papersim/reader.hpp"
#include "temp_dir.hpp"

namespace papersim {
namespace {

using test::TempDir;

Corpus read_one(const std::string& path, ReaderOptions options = {}) {
  return read_corpus({path}, options);
}

TEST(IoReader, JsonLinesBasics) {
  TempDir dir;
  // BOM, CRLF line ends, a blank line, and key order that differs per row.
  const std::string p = dir.write(
      "a.jsonl",
      "\xEF\xBB\xBF{\"id\": \"x1\", \"title\": \"First\", \"abstract\": \"Alpha beta.\"}\r\n"
      "\r\n"
      "{\"abstract\": \"Gamma.\", \"title\": \"Second\", \"id\": \"x2\"}\n"
      "   {\"title\": \"Third\", \"summary\": \"From summary.\", \"id\": 42}");
  Corpus c = read_one(p);
  ASSERT_EQ(c.docs.size(), 3u);
  EXPECT_EQ(c.stats.records, 3);
  EXPECT_EQ(c.stats.kept, 3);
  EXPECT_EQ(c.stats.skipped_total(), 0);
  EXPECT_EQ(c.stats.files, 1);
  EXPECT_EQ(c.docs[0].doc, 0);
  EXPECT_EQ(c.docs[0].id, "x1");
  EXPECT_EQ(c.docs[0].source, "a.jsonl:1");
  EXPECT_EQ(c.docs[0].title, "First");
  EXPECT_EQ(c.docs[0].text, "First\nAlpha beta.");
  EXPECT_EQ(c.docs[1].source, "a.jsonl:3");
  EXPECT_EQ(c.docs[1].text, "Second\nGamma.");
  EXPECT_EQ(c.docs[2].id, "42");
  EXPECT_EQ(c.docs[2].source, "a.jsonl:4");
  EXPECT_EQ(c.docs[2].text, "Third\nFrom summary.");
}

TEST(IoReader, JsonValuesAsText) {
  TempDir dir;
  const std::string p = dir.write(
      "v.jsonl",
      R"({"id": 7.5, "title": "T", "abstract": "", "summary": "S", "authors": ["A B", "C D"], "n": null, "o": {"k": [1, 2]}})"
      "\n"
      R"({"id": null, "title": "U", "abstract": null, "summary": "S2", "authors": "E F", "n": true, "o": 12345678901234})"
      "\n");
  ReaderOptions opt;
  opt.fields = {"title", "authors", "abstract", "n", "o"};
  Corpus c = read_one(p, opt);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].id, "7.5");
  // Empty abstract falls back to summary; lists join with ", "; null adds nothing.
  EXPECT_EQ(c.docs[0].text, "T\nA B, C D\nS\n{\"k\":[1,2]}");
  // A null id means no id: the fallback is file name and record number.
  EXPECT_EQ(c.docs[1].id, "v.jsonl:2");
  EXPECT_EQ(c.docs[1].text, "U\nE F\nS2\ntrue\n12345678901234");
}

TEST(IoReader, FieldOverrides) {
  TempDir dir;
  const std::string p = dir.write(
      "f.jsonl",
      R"({"pid": "p1", "name": "Named", "body": "Body text", "abstract": "ignored", "title": "ignored"})"
      "\n");
  ReaderOptions opt;
  opt.id_field = "pid";
  opt.title_field = "name";
  opt.text_fields = {"body"};
  Corpus c = read_one(p, opt);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].id, "p1");
  EXPECT_EQ(c.docs[0].title, "Named");
  EXPECT_EQ(c.docs[0].text, "Named\nBody text");
  opt.fields = {"abstract"};
  c = read_one(p, opt);
  EXPECT_EQ(c.docs[0].text, "Body text");
  EXPECT_EQ(c.docs[0].title, "Named");
  // The id field may also be a text field.
  opt.id_field = "name";
  opt.fields = {"title", "abstract"};
  c = read_one(p, opt);
  EXPECT_EQ(c.docs[0].id, "Named");
  EXPECT_EQ(c.docs[0].title, "Named");
}

TEST(IoReader, JsonArrayWithLines) {
  TempDir dir;
  const std::string p = dir.write("arr.json",
                                  "[\n"
                                  "  {\"id\": \"a\", \"title\": \"One [x] {y}\",\n"
                                  "   \"abstract\": \"Has \\\"quotes\\\" and ] } \\\\\"},\n"
                                  "  {\"id\": \"b\", \"meta\": {\"deep\": [[1], {\"z\": \"]\"}]},\n"
                                  "   \"title\": \"Two\", \"abstract\": \"Second.\"}\n"
                                  "]\n");
  Corpus c = read_one(p);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].title, "One [x] {y}");
  EXPECT_EQ(c.docs[0].text, "One [x] {y}\nHas \"quotes\" and ] } \\");
  EXPECT_EQ(c.docs[0].source, "arr.json:2");
  EXPECT_EQ(c.docs[1].source, "arr.json:4");
  EXPECT_EQ(c.docs[1].text, "Two\nSecond.");
}

TEST(IoReader, JsonTopLevelObjects) {
  TempDir dir;
  // Pretty-printed objects one after another (no array): a .json file.
  const std::string p = dir.write("objs.json",
                                  "{\n  \"title\": \"A\",\n  \"abstract\": \"x\"\n}\n"
                                  "{\n  \"title\": \"B\",\n  \"abstract\": \"y\"\n}\n");
  Corpus c = read_one(p);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[1].source, "objs.json:5");
  EXPECT_EQ(c.docs[1].id, "objs.json:2");
}

TEST(IoReader, EmptyInputs) {
  TempDir dir;
  EXPECT_TRUE(read_one(dir.write("e.jsonl", "")).docs.empty());
  EXPECT_TRUE(read_one(dir.write("e.json", " [ ] ")).docs.empty());
  EXPECT_TRUE(read_one(dir.write("e.csv", "")).docs.empty());
  EXPECT_TRUE(read_one(dir.write("h.csv", "id,title,abstract\n")).docs.empty());
  EXPECT_TRUE(read_one(dir.write("e.txt", "\n\n")).docs.empty());
}

TEST(IoReader, CsvQuotingAndLines) {
  TempDir dir;
  const std::string p =
      dir.write("c.csv",
                "\xEF\xBB\xBFid,title,abstract,extra\r\n"
                "1,\"Comma, title\",\"Line one\r\nline two with \"\"quotes\"\"\",x\r\n"
                "\r\n"
                "2,Plain,\"Multi\n\nparagraph\",\r\n"
                "3,\"\",Only abstract,y");
  Corpus c = read_one(p);
  ASSERT_EQ(c.docs.size(), 3u) << (c.stats.messages.empty() ? "" : c.stats.messages[0]);
  EXPECT_EQ(c.docs[0].id, "1");
  EXPECT_EQ(c.docs[0].title, "Comma, title");
  EXPECT_EQ(c.docs[0].text, "Comma, title\nLine one\r\nline two with \"quotes\"");
  EXPECT_EQ(c.docs[0].source, "c.csv:2");
  EXPECT_EQ(c.docs[1].source, "c.csv:5");
  EXPECT_EQ(c.docs[1].text, "Plain\nMulti\n\nparagraph");
  EXPECT_EQ(c.docs[2].source, "c.csv:8");
  EXPECT_EQ(c.docs[2].title, "");
  EXPECT_EQ(c.docs[2].text, "Only abstract");
  EXPECT_EQ(c.stats.records, 3);
}

TEST(IoReader, TsvAndSniffing) {
  TempDir dir;
  // No extension: the header row names our fields, so the delimiter decides.
  const std::string tsv =
      dir.write("papers", "title\tabstract\nA, b\tText one\n\"Q\tT\"\tText two\n");
  Corpus c = read_one(tsv);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].title, "A, b");
  EXPECT_EQ(c.docs[1].title, "Q\tT");
  EXPECT_EQ(c.docs[0].id, "papers:1");
  const std::string csv = dir.write("papers2", "\"id\",\"title\",\"summary\"\nk,A,B\n");
  c = read_one(csv);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].text, "A\nB");
  const std::string jsonl = dir.write("papers3", "{\"title\": \"J\"}\n");
  EXPECT_EQ(read_one(jsonl).docs.at(0).text, "J");
  const std::string arr = dir.write("papers4.data", "[{\"title\": \"K\"}]");
  EXPECT_EQ(read_one(arr).docs.at(0).text, "K");
}

TEST(IoReader, ExplicitFormatOverridesName) {
  TempDir dir;
  const std::string p = dir.write("x.txt", "title;abstract\n");  // not a CSV header
  ReaderOptions opt;
  opt.format = InputFormat::kTsv;
  const std::string q = dir.write("y.txt", "title\tabstract\nT\tA\n");
  Corpus c = read_one(q, opt);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].text, "T\nA");
  opt.format = InputFormat::kJsonl;
  c = read_one(dir.write("z.csv", "{\"title\": \"T\"}\n"), opt);
  EXPECT_EQ(c.docs.at(0).title, "T");
  (void)p;
}

TEST(IoReader, ListingLayout) {
  TempDir dir;
  const std::string p = dir.write("page.txt",
                                  "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
                                  "byAK and the research community\n\nMar 17\n\n"
                                  "Title One\n\nAbstract one is long enough.\n\n"
                                  "Title Two\n\nAbstract two.\n");
  Corpus c = read_one(p);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].title, "Title One");
  EXPECT_EQ(c.docs[0].text, "Title One\nAbstract one is long enough.");
  EXPECT_EQ(c.docs[0].source, "page.txt:11");
  EXPECT_EQ(c.docs[0].id, "page.txt:1");
  EXPECT_EQ(c.docs[1].source, "page.txt:15");
}

TEST(IoReader, ListingKeepsLoneTitlesAndAbstracts) {
  TempDir dir;
  const std::string long_abstract(400, 'a');
  // Title Two lost its abstract; the paragraph after Title Three lost its title.
  const std::string p =
      dir.write("gaps.txt", "by AK and the research community\n\nDaily Papers\n\nTitle One\n\n" +
                                long_abstract + "\n\nTitle Two\n\nTitle Three\n\n" + long_abstract +
                                "\n\n" + long_abstract + "\n\nLast Title\n");
  ReaderOptions opt;
  opt.format = InputFormat::kListing;
  Corpus c = read_one(p, opt);
  ASSERT_EQ(c.docs.size(), 5u);
  EXPECT_EQ(c.docs[0].title, "Title One");
  EXPECT_EQ(c.docs[1].title, "Title Two");
  EXPECT_EQ(c.docs[1].text, "Title Two");
  EXPECT_EQ(c.docs[2].title, "Title Three");
  EXPECT_EQ(c.docs[2].text, "Title Three\n" + long_abstract);
  EXPECT_EQ(c.docs[3].title, "");
  EXPECT_EQ(c.docs[3].source, "gaps.txt:15");
  EXPECT_EQ(c.docs[4].text, "Last Title");
}

TEST(IoReader, PosterLayout) {
  TempDir dir;
  const std::string p = dir.write("poster.txt",
                                  "Poster\nPoster Session 6\nHalle B\n"
                                  "First Paper\nAnn A \xC2\xB7 Bob B\nFirst abstract.\n"
                                  "Second Paper\nCy C \xC2\xB7 Di D\n"
                                  "Third Paper\nEd E \xC2\xB7 Flo F\nThird abstract.\n"
                                  "continued on a second line.\n"
                                  "Fourth Paper\nGus G \xC2\xB7 Hal H\nFourth abstract.\n");
  Corpus c = read_one(p);
  ASSERT_EQ(c.docs.size(), 4u);
  EXPECT_EQ(c.docs[0].title, "First Paper");
  EXPECT_EQ(c.docs[0].text, "First Paper\nFirst abstract.");
  EXPECT_EQ(c.docs[0].source, "poster.txt:4");
  EXPECT_EQ(c.docs[1].text, "Second Paper");  // no abstract on the page
  EXPECT_EQ(c.docs[1].source, "poster.txt:7");
  EXPECT_EQ(c.docs[2].text, "Third Paper\nThird abstract.\ncontinued on a second line.");
  EXPECT_EQ(c.docs[3].source, "poster.txt:13");
  ReaderOptions opt;
  opt.fields = {"title", "authors", "abstract"};
  c = read_one(p, opt);
  EXPECT_EQ(c.docs[0].text, "First Paper\nAnn A \xC2\xB7 Bob B\nFirst abstract.");
}

TEST(IoReader, NumberingAcrossFilesAndDuplicateIds) {
  TempDir dir;
  const std::string a = dir.write("a.jsonl",
                                  "{\"id\": \"p\", \"title\": \"A1\"}\n"
                                  "{\"id\": \"q\", \"title\": \"A2\"}\n");
  const std::string b = dir.write("b.csv", "id,title\np,B1\nr,B2\np,B3\n");
  Corpus c = read_corpus({a, b}, ReaderOptions{}, 10);
  ASSERT_EQ(c.docs.size(), 5u);
  for (std::size_t i = 0; i < c.docs.size(); ++i) EXPECT_EQ(c.docs[i].doc, 10 + (long)i);
  EXPECT_EQ(c.docs[2].source, "b.csv:2");
  EXPECT_EQ(c.docs[4].title, "B3");
  EXPECT_EQ(c.stats.files, 2);
  EXPECT_EQ(c.stats.duplicate_ids, 2);  // both later "p" rows
}

TEST(IoReader, ParallelChunksMatchOneThread) {
  TempDir dir;
  std::string body;
  for (int i = 0; i < 6000; ++i) {
    if (i % 997 == 5) {
      body += "{\"title\": broken\n";
    } else if (i % 1500 == 7) {
      body += "\n";
    } else {
      body += "{\"id\": \"r" + std::to_string(i) + "\", \"title\": \"T" + std::to_string(i) +
              "\", \"abstract\": \"A\"}\n";
    }
  }
  const std::string p = dir.write("big.jsonl", body);
  ReaderOptions one;
  one.threads = 1;
  ReaderOptions many;
  many.threads = 3;
  Corpus x = read_one(p, one), y = read_one(p, many);
  ASSERT_EQ(x.docs.size(), y.docs.size());
  EXPECT_EQ(x.stats.skipped, y.stats.skipped);
  EXPECT_EQ(x.stats.messages, y.stats.messages);
  for (std::size_t i = 0; i < x.docs.size(); ++i) {
    ASSERT_EQ(x.docs[i].id, y.docs[i].id);
    ASSERT_EQ(x.docs[i].source, y.docs[i].source);
    ASSERT_EQ(x.docs[i].doc, (long)i);
  }
  EXPECT_EQ(x.stats.skipped.at("malformed JSON"), 7);
  EXPECT_EQ(x.stats.records, 6000 - 4);  // four blank lines are not records
  EXPECT_EQ(x.docs[10].source, "big.jsonl:13");
}

// Each bad input: skipped and counted by default, an InputError naming the
// line under strict.
struct BadCase {
  const char* name;
  const char* file;
  std::string content;
  const char* reason;
  std::int64_t line;
  std::size_t kept;
};

// Keeps test names readable (the default prints the struct's bytes).
void PrintTo(const BadCase& bc, std::ostream* os) { *os << bc.name; }

class IoBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(IoBadInput, SkippedByDefaultThrowsWhenStrict) {
  const BadCase& bc = GetParam();
  TempDir dir;
  const std::string p = dir.write(bc.file, bc.content);
  std::vector<std::string> seen;
  ReaderOptions opt;
  opt.on_skip = [&](const std::string& m) { seen.push_back(m); };
  Corpus c = read_one(p, opt);
  EXPECT_EQ(c.docs.size(), bc.kept);
  ASSERT_EQ(c.stats.skipped.count(bc.reason), 1u) << bc.name;
  EXPECT_EQ(c.stats.skipped.at(bc.reason), 1);
  EXPECT_EQ(c.stats.skipped_total(), 1);
  EXPECT_EQ(c.stats.records, static_cast<std::int64_t>(bc.kept) + 1);
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(c.stats.messages, seen);
  const std::string prefix = p + ":" + std::to_string(bc.line) + ": " + bc.reason;
  EXPECT_EQ(seen[0].rfind(prefix, 0), 0u) << seen[0];
  opt.strict = true;
  try {
    read_one(p, opt);
    ADD_FAILURE() << "strict read of " << bc.name << " did not throw";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), p);
    EXPECT_EQ(e.line(), bc.line);
    EXPECT_NE(std::string(e.what()).find(bc.reason), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, IoBadInput,
    ::testing::Values(
        BadCase{"malformed_json_line", "m.jsonl",
                "{\"title\": \"ok\"}\n{\"title\": \"cut\n{\"title\": \"ok2\"}\n", "malformed JSON",
                2, 2},
        BadCase{"trailing_json", "t.jsonl",
                "{\"title\": \"a\"} {\"title\": \"b\"}\n{\"title\": \"c\"}\n", "malformed JSON", 1,
                1},
        BadCase{"bad_literal", "l.jsonl", "{\"title\": \"a\", \"x\": nul}\n{\"title\": \"c\"}\n",
                "malformed JSON", 1, 1},
        BadCase{"not_object", "n.jsonl", "{\"title\": \"a\"}\n[1, 2]\n", "not a JSON object", 2, 1},
        BadCase{"array_element_not_object", "n.json", "[{\"title\": \"a\"},\n 3]",
                "not a JSON object", 2, 1},
        BadCase{"broken_array", "b.json",
                "[{\"title\": \"a\"},\n{\"title\": \"b\"}\n{\"title\": \"c\"}]", "malformed JSON",
                3, 2},
        BadCase{"no_text_json", "e.jsonl",
                "{\"id\": \"1\", \"title\": \"\", \"abstract\": \"  \"}\n{\"title\": \"x\"}\n",
                "record without text", 1, 1},
        BadCase{"no_text_missing_fields", "e2.jsonl", "{\"title\": \"x\"}\n{\"id\": \"2\"}\n",
                "record without text", 2, 1},
        BadCase{"utf8_json", "u.jsonl", "{\"title\": \"ok\"}\n{\"title\": \"bad \xC3\x28 byte\"}\n",
                "invalid UTF-8", 2, 1},
        BadCase{"utf8_json_array", "u.json", "[{\"title\": \"ok\"},\n{\"title\": \"bad \xFF\"}]",
                "invalid UTF-8", 2, 1},
        BadCase{"csv_field_count", "f.csv", "id,title,abstract\n1,a,b\n2,c\n3,d,e\n",
                "wrong number of fields", 3, 2},
        BadCase{"csv_unterminated_quote", "q.csv", "title,abstract\na,b\nc,\"never closed\nd,e\n",
                "malformed CSV", 3, 1},
        BadCase{"csv_text_after_quote", "j.csv", "title,abstract\n\"a\"x,b\nc,d\n", "malformed CSV",
                2, 1},
        BadCase{"csv_no_text", "t.csv", "id,title,abstract\n1,,\n2,t,\n", "record without text", 2,
                1},
        BadCase{"csv_utf8", "u.csv", "title,abstract\nok,fine\nbad,\xE2\x82\n", "invalid UTF-8", 3,
                1},
        BadCase{"tsv_field_count", "f.tsv", "title\tabstract\na\tb\tc\nd\te\n",
                "wrong number of fields", 2, 1},
        BadCase{"listing_utf8", "l.txt",
                "Title A\n\nAbstract \xF0\x9F.\n\nTitle B\n\nAbstract B.\n", "invalid UTF-8", 1,
                1}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

// The error names the file, the header line, and the header's columns.
std::string read_error(const std::string& path, const ReaderOptions& opt = {}) {
  try {
    read_corpus({path}, opt);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(IoReader, CsvHeaderWithoutTextColumnsIsOneError) {
  TempDir dir;
  const std::string p = dir.write("h.csv", "id,name,body\n1,a,b\n2,c,d\n");
  // Not one skip per row: one error for the file, even when not strict.
  const std::string e = read_error(p);
  EXPECT_NE(e.find("h.csv:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("none of the text columns (title, abstract, summary)"), std::string::npos) << e;
  EXPECT_NE(e.find("its columns are: id, name, body"), std::string::npos) << e;
  ReaderOptions opt;
  opt.title_field = "name";
  opt.text_fields = {"body"};
  Corpus c = read_one(p, opt);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[1].text, "c\nd");
}

TEST(IoReader, CsvHeaderNamesMatchIgnoringCase) {
  TempDir dir;
  const std::string p =
      dir.write("c.csv", "paper_id,Title,Abstract Text,year\nP1,First,Some text,2020\n");
  ReaderOptions opt;
  opt.id_field = "paper_id";
  opt.title_field = "title";
  opt.text_fields = {"abstract text"};
  Corpus c = read_one(p, opt);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].id, "P1");
  EXPECT_EQ(c.docs[0].title, "First");
  EXPECT_EQ(c.docs[0].text, "First\nSome text");
  EXPECT_EQ(c.stats.title_only, 0);
  // An exact match wins over one in another case.
  const std::string q = dir.write("d.csv", "TITLE,title,abstract\nUpper,lower,x\n");
  c = read_one(q);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].title, "lower");
}

TEST(IoReader, ExplicitFieldMissingFromHeaderIsOneErrorListingColumns) {
  TempDir dir;
  const std::string p = dir.write(
      "c.csv", "paper_id,Title,Abstract Text,year\nP1,First,Some text,2020\nP2,Second,More,2021\n");
  ReaderOptions opt;
  opt.id_field = "paperid";
  opt.required_columns = {{"paperid"}};
  const std::string e = read_error(p, opt);
  EXPECT_NE(e.find("c.csv:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("no column paperid"), std::string::npos) << e;
  EXPECT_NE(e.find("its columns are: paper_id, Title, Abstract Text, year"), std::string::npos)
      << e;
  // A group is satisfied by any one of its names (--text-field a,b tries them in order).
  opt.id_field = "paper_id";
  opt.text_fields = {"summary", "abstract text"};
  opt.required_columns = {{"paper_id"}, {"summary", "abstract text"}};
  Corpus c = read_one(p, opt);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[1].text, "Second\nMore");
}

TEST(IoReader, JsonFieldNamedButInNoRecordIsOneError) {
  TempDir dir;
  const std::string p = dir.write("j.jsonl",
                                  "{\"paper_id\":\"1\",\"title\":\"T\",\"abstract\":\"x\"}\n"
                                  "{\"paper_id\":\"2\",\"title\":\"U\",\"abstract\":\"y\"}\n");
  ReaderOptions opt;
  opt.id_field = "paperid";
  opt.required_columns = {{"paperid"}};
  const std::string e = read_error(p, opt);
  EXPECT_NE(e.find("j.jsonl:1: no record has the field named by --id-field paperid"),
            std::string::npos)
      << e;
  opt.id_field = "paper_id";
  opt.required_columns = {{"paper_id"}};
  Corpus c = read_one(p, opt);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[1].id, "2");
  opt.text_fields = {"abstarct"};
  opt.required_columns = {{"abstarct"}};
  EXPECT_NE(read_error(p, opt).find("--text-field abstarct"), std::string::npos);
}

TEST(IoReader, DelimiterOptionReadsSemicolonCsv) {
  TempDir dir;
  const std::string p =
      dir.write("s.csv", "id;title;abstract\n1;A title;\"Text; with a semicolon\"\n");
  ReaderOptions opt;
  opt.delimiter = ';';
  Corpus c = read_one(p, opt);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].id, "1");
  EXPECT_EQ(c.docs[0].text, "A title\nText; with a semicolon");
  // Without an extension the delimiter's header is detected too.
  const std::string q = dir.write("noext", "id;title;abstract\n1;A title;Text\n");
  c = read_one(q, opt);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].text, "A title\nText");
}

TEST(IoReader, TitleOnlyRecordsAreCounted) {
  TempDir dir;
  const std::string p =
      dir.write("t.jsonl",
                "{\"id\":\"1\",\"title\":\"Only a title\"}\n"
                "{\"id\":\"2\",\"title\":\"T\",\"abstract\":\"   \"}\n"
                "{\"id\":\"3\",\"title\":\"T\",\"abstract\":\"A real abstract\"}\n");
  Corpus c = read_one(p);
  ASSERT_EQ(c.docs.size(), 3u);
  EXPECT_EQ(c.stats.title_only, 2);
  // A CSV header without an abstract column reads titles only, with one warning.
  const std::string q = dir.write("t.csv", "id,title,year\n1,A,2020\n2,B,2021\n");
  ReaderOptions opt;
  std::vector<std::string> warnings;
  opt.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  c = read_one(q, opt);
  EXPECT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.stats.title_only, 2);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("no abstract column"), std::string::npos) << warnings[0];
}

TEST(IoReader, MissingFileIsAnErrorEvenWhenNotStrict) {
  TempDir dir;
  const std::string missing = dir.path() + "/nope.jsonl";
  try {
    read_corpus({missing}, ReaderOptions{});
    FAIL() << "no error for a missing file";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), missing);
    EXPECT_EQ(e.line(), 0);
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_corpus({dir.path()}, ReaderOptions{}), InputError);
  // The good file before it does not hide the error.
  const std::string good = dir.write("g.jsonl", "{\"title\": \"x\"}\n");
  EXPECT_THROW(read_corpus({good, missing}, ReaderOptions{}), InputError);
}

TEST(IoReader, ParseInputFormat) {
  EXPECT_EQ(parse_input_format("auto"), InputFormat::kAuto);
  EXPECT_EQ(parse_input_format("jsonl"), InputFormat::kJsonl);
  EXPECT_EQ(parse_input_format("JSON"), InputFormat::kJson);
  EXPECT_EQ(parse_input_format("csv"), InputFormat::kCsv);
  EXPECT_EQ(parse_input_format("tsv"), InputFormat::kTsv);
  EXPECT_EQ(parse_input_format("listing"), InputFormat::kListing);
  EXPECT_EQ(parse_input_format("poster"), InputFormat::kPoster);
  EXPECT_THROW(parse_input_format("xml"), UsageError);
  EXPECT_THROW(read_corpus({},
                           [] {
                             ReaderOptions o;
                             o.fields = {};
                             return o;
                           }()),
               UsageError);
}

}  // namespace
}  // namespace papersim
