// The three users' jobs end to end: --collapse-ids, dedup, check.
#include <map>
#include <set>

#include "cli_support.hpp"

namespace papersim::test {
namespace {

std::string record(const std::string& id, const std::string& title, const std::string& abstract) {
  return "{\"id\":\"" + id + "\",\"title\":\"" + title + "\",\"abstract\":\"" + abstract + "\"}\n";
}

const char* kSparse = "We multiply sparse matrices on graphics processors with tiled kernels.";
const char* kSparse2 =
    "We multiply sparse matrices on graphics processors with tiled kernels and fp16.";
const char* kProtein = "Folding proteins with deep networks trained on structures.";
const char* kProtein2 = "Folding proteins with deep networks trained on many structures.";
const char* kGalaxy = "Galaxy rotation curves measured with radio telescopes.";

class CliJobs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bin().empty()) GTEST_SKIP() << "PAPERSIM_BIN not set";
  }
  int code(const std::string& args, std::string* err = nullptr, std::string* out = nullptr) {
    return run_papersim(args, tmp_, err, out);
  }
  TempDir tmp_;
};

// One arXiv paper listed on several days: without --collapse-ids its copies are each
// other's neighbours; with it they are one paper, listed once by its first record.
TEST_F(CliJobs, CollapseIdsMakesRecordsSharingAnIdOnePaper) {
  const std::string in = tmp_.write(
      "listings.jsonl",
      record("2503.1", "Sparse", kSparse) + record("2503.2", "Protein", kProtein) +
          record("2503.1", "Sparse", kSparse) + record("2503.3", "Sparse GPU", kSparse2) +
          record("2503.2", "Protein", kProtein) + record("2503.4", "Galaxy", kGalaxy));
  std::string err, plain, collapsed;
  ASSERT_EQ(code("related -q --backend cpu -k 2 " + quote(in), &err, &plain), 0) << err;
  EXPECT_NE(
      plain.find("{\"doc\":0,\"id\":\"2503.1\",\"title\":\"Sparse\",\"neighbors\":[{\"doc\":2,"
                 "\"id\":\"2503.1\""),
      std::string::npos)
      << plain;
  ASSERT_EQ(code("related -q --backend cpu -k 2 --collapse-ids " + quote(in), &err, &collapsed), 0)
      << err;
  const auto rows = lines(collapsed);
  ASSERT_EQ(rows.size(), 4u) << collapsed;  // one list per paper
  std::set<long long> docs;
  for (const auto& l : rows) {
    docs.insert(json_int(l, "doc"));
    std::set<std::string> seen;
    const std::string id = l.substr(l.find("\"id\":\"") + 6, 6);
    for (size_t at = l.find("\"neighbors\"");
         (at = l.find("\"id\":\"", at + 1)) != std::string::npos;) {
      const std::string nid = l.substr(at + 6, 6);
      EXPECT_NE(nid, id) << l;
      EXPECT_TRUE(seen.insert(nid).second) << "paper listed twice: " << l;
    }
  }
  EXPECT_EQ(docs, (std::set<long long>{0, 1, 3, 5}));  // first records, input numbering
  EXPECT_NE(rows[0].find("\"neighbors\":[{\"doc\":3,\"id\":\"2503.3\""), std::string::npos)
      << rows[0];
  // Pairs: the same-id copies are gone, the near-duplicate stays.
  std::string pairs;
  ASSERT_EQ(code("duplicates -q --backend cpu -t 0.5 --collapse-ids " + quote(in), &err, &pairs),
            0);
  ASSERT_EQ(lines(pairs).size(), 1u) << pairs;
  EXPECT_NE(pairs.find("\"doc_a\":0,\"id_a\":\"2503.1\""), std::string::npos) << pairs;
  EXPECT_NE(pairs.find("\"doc_b\":3,\"id_b\":\"2503.3\""), std::string::npos) << pairs;
  // Across --against: a reference with the query's id is the same paper, never a match.
  const std::string subs =
      tmp_.write("subs.jsonl", record("2503.1", "Sparse", kSparse) +
                                   record("S-9", "Protein resubmitted", kProtein2));
  ASSERT_EQ(code("duplicates -q --backend cpu -t 0.5 --collapse-ids --against " + quote(in) + " " +
                     quote(subs),
                 &err, &pairs),
            0);
  const auto cross = lines(pairs);
  ASSERT_EQ(cross.size(), 2u) << pairs;
  EXPECT_NE(cross[0].find("\"id_a\":\"2503.1\""), std::string::npos) << pairs;
  EXPECT_NE(cross[0].find("\"id_b\":\"2503.3\""), std::string::npos) << pairs;
  EXPECT_NE(cross[1].find("\"id_a\":\"S-9\""), std::string::npos) << pairs;
  EXPECT_NE(cross[1].find("\"doc_b\":3,\"id_b\":\"2503.2\""), std::string::npos)
      << "the first record represents the paper: " << pairs;
  std::string related;
  ASSERT_EQ(code("related -q --backend cpu -k 1 --collapse-ids --against " + quote(in) + " " +
                     quote(subs),
                 &err, &related),
            0);
  const auto lists = lines(related);
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].find("\"id\":\"2503.1\"", 10), std::string::npos) << lists[0];
  // Top-1 without the same paper is its near-duplicate: the list is still full.
  EXPECT_NE(lists[0].find("\"neighbors\":[{\"doc\":5,\"id\":\"2503.3\""), std::string::npos)
      << lists[0];
}

// dedup keeps the first record of each cluster and every singleton, in input order,
// byte for byte; records sharing an id are duplicates whatever their score.
TEST_F(CliJobs, DedupKeepsOnePerClusterAndWritesRecordsBack) {
  const std::string a = "{\"id\":\"1\",\"title\":\"Sparse\",\"abstract\":\"" +
                        std::string(kSparse) + "\",\"year\": 2020.10}";
  const std::string in = tmp_.write(
      "in.jsonl", a + "\n" + record("2", "Protein", kProtein) + "\n" +  // a blank line
                      record("3", "Sparse GPU", kSparse2) + record("4", "Galaxy", kGalaxy) +
                      "{broken\n" + record("2", "Sheep", "Sheep farming in the highlands."));
  const std::string out = tmp_ / "deduped.jsonl", removed = tmp_ / "removed.jsonl";
  std::string err;
  ASSERT_EQ(code("dedup --backend cpu -t 0.5 " + quote(in) + " -o " + quote(out) + " --removed " +
                     quote(removed),
                 &err),
            0)
      << err;
  // Kept: 1 (representative of 3), 2 (of its later version), 4; original bytes.
  EXPECT_EQ(read_file(out),
            a + "\n" + record("2", "Protein", kProtein) + record("4", "Galaxy", kGalaxy));
  const auto rm = lines(read_file(removed));
  ASSERT_EQ(rm.size(), 2u);
  EXPECT_NE(rm[0].find("\"id\":\"3\",\"source\":\"in.jsonl:4\""), std::string::npos) << rm[0];
  EXPECT_NE(rm[0].find("\"reason\":\"score\",\"representative\":{\"doc\":0,\"id\":\"1\""),
            std::string::npos)
      << rm[0];
  EXPECT_GE(json_num(rm[0], "score", rm[0].find("}")), 0.5);
  EXPECT_NE(rm[1].find("\"reason\":\"id\",\"representative\":{\"doc\":1,\"id\":\"2\""),
            std::string::npos)
      << "same id, different text: still a duplicate: " << rm[1];
  EXPECT_NE(err.find("read 6 records: kept 3, removed 2 (1 sharing an id with their "
                     "representative, 1 by score >= 0.5), skipped 1"),
            std::string::npos)
      << err;

  // CSV in, CSV out with the original columns and quoting; or JSON Lines objects.
  const std::string csv = tmp_.write("c.csv",
                                     "paper_id;Title;Abstract Text;year\n"
                                     "P1;Sparse;\"" +
                                         std::string(kSparse) +
                                         "\";2020\n"
                                         "P2;Sparse again;\"" +
                                         std::string(kSparse) +
                                         "\";2021\n"
                                         "P3;Galaxy;\"" +
                                         std::string(kGalaxy) + " \"\"quoted\"\"\";2022\n");
  const std::string cout = tmp_ / "out.csv";
  const std::string opts =
      " --backend cpu -q --delimiter ';' --id-field paper_id --text-field "
      "\"abstract text\" ";
  ASSERT_EQ(code("dedup" + opts + quote(csv) + " -o " + quote(cout), &err), 0) << err;
  EXPECT_EQ(read_file(cout), "paper_id;Title;Abstract Text;year\nP1;Sparse;\"" +
                                 std::string(kSparse) + "\";2020\nP3;Galaxy;\"" +
                                 std::string(kGalaxy) + " \"\"quoted\"\"\";2022\n");
  const std::string jout = tmp_ / "out.jsonl";
  ASSERT_EQ(code("dedup" + opts + quote(csv) + " -o " + quote(jout), &err), 0) << err;
  const auto objs = lines(read_file(jout));
  ASSERT_EQ(objs.size(), 2u);
  EXPECT_EQ(objs[1], "{\"paper_id\":\"P3\",\"Title\":\"Galaxy\",\"Abstract Text\":\"" +
                         std::string(kGalaxy) + " \\\"quoted\\\"\",\"year\":\"2022\"}");
  // A JSON array: elements kept with their fields and number text.
  const std::string arr = tmp_.write(
      "a.json",
      "[\n  {\"id\": 2503.11750, \"title\": \"Sparse\",\n   \"abstract\": \"" +
          std::string(kSparse) +
          "\"},\n  {\"id\": 2503.11750, \"title\": \"Copy\", "
          "\"abstract\": \"x y\"},\n  {\"id\": \"b\", \"title\": \"G\", \"abstract\": \"" +
          std::string(kGalaxy) + "\"}\n]\n");
  const std::string aout = tmp_ / "out.json";
  ASSERT_EQ(code("dedup --backend cpu -q " + quote(arr) + " -o " + quote(aout), &err), 0) << err;
  EXPECT_EQ(read_file(aout), "[\n{\"id\":2503.11750,\"title\":\"Sparse\",\"abstract\":\"" +
                                 std::string(kSparse) +
                                 "\"},\n{\"id\":\"b\",\"title\":\"G\","
                                 "\"abstract\":\"" +
                                 std::string(kGalaxy) + "\"}\n]\n");
  // CSV output from JSON input is refused before any work.
  EXPECT_EQ(code("dedup --backend cpu " + quote(in) + " -o " + quote(tmp_ / "x.csv"), &err), 2);
  EXPECT_NE(err.find("CSV output needs CSV/TSV inputs"), std::string::npos) << err;
}

// check: one run, one model; each flagged submission once, the best score first, with
// its matches among the other submissions and the published papers.
TEST_F(CliJobs, CheckListsEachSuspiciousSubmissionWithItsMatches) {
  const std::string subs = tmp_.write(
      "subs.jsonl", record("SUB-1", "Protein", kProtein2) + record("SUB-2", "Galaxy", kGalaxy) +
                        record("SUB-3", "Sheep", "Sheep farming in the highlands.") +
                        record("SUB-R2", "Galaxy again", kGalaxy));
  const std::string pubs = tmp_.write("pubs.jsonl", record("2503.2", "Protein", kProtein) +
                                                        record("2503.9", "Sparse", kSparse) +
                                                        record("2503.2", "Protein", kProtein));
  std::string err, out;
  ASSERT_EQ(
      code("check --backend cpu " + quote(subs) + " --against " + quote(pubs) + " --collapse-ids",
           &err, &out),
      0)
      << err;
  const auto rows = lines(out);
  ASSERT_EQ(rows.size(), 3u) << out;  // SUB-3 has no match
  // The exact copies (score 1) first, by doc; then the rewritten protein abstract.
  EXPECT_EQ(rows[0].rfind("{\"doc\":1,\"id\":\"SUB-2\",\"source\":\"subs.jsonl:2\"", 0), 0u)
      << rows[0];
  EXPECT_NE(rows[0].find("\"matches\":[{\"doc\":3,\"id\":\"SUB-R2\",\"source\":\"subs.jsonl:4\""),
            std::string::npos)
      << rows[0];
  EXPECT_NE(rows[0].find("\"side\":\"submission\""), std::string::npos) << rows[0];
  EXPECT_EQ(rows[1].rfind("{\"doc\":3,\"id\":\"SUB-R2\"", 0), 0u) << rows[1];
  EXPECT_EQ(rows[2].rfind("{\"doc\":0,\"id\":\"SUB-1\"", 0), 0u) << rows[2];
  EXPECT_NE(rows[2].find("\"id\":\"2503.2\",\"source\":\"pubs.jsonl:1\""), std::string::npos)
      << rows[2];
  EXPECT_EQ(rows[2].find("pubs.jsonl:3"), std::string::npos) << "one paper, listed once";
  EXPECT_NE(rows[2].find("\"side\":\"published\"}]}"), std::string::npos) << rows[2];
  const double best = json_num(rows[2], "best_score");
  EXPECT_GE(best, 0.45);
  EXPECT_LT(best, 1.0);
  EXPECT_NE(err.find("3 of 4 submissions have a match >= 0.45 (1 with a published paper, 2 with "
                     "another submission)"),
            std::string::npos)
      << err;
  // The triage view: the same submissions in the same order, each with its best match.
  const std::string html = tmp_ / "suspects.html";
  ASSERT_EQ(code("check -q --backend cpu " + quote(subs) + " --against " + quote(pubs) +
                     " --collapse-ids --report " + quote(html),
                 &err),
            0)
      << err;
  const std::string page = read_file(html);
  EXPECT_NE(page.find("<section id=\"triage\"><h2>Submissions to look at (3)</h2>"),
            std::string::npos);
  const size_t a = page.find("id=\"triage-1\""), b = page.find("id=\"triage-3\""),
               c = page.find("id=\"triage-0\"");
  ASSERT_NE(a, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(page.find("vs best match #4"), std::string::npos) << "SUB-1 beside 2503.2";
  EXPECT_NE(page.find("<ins>many</ins>"), std::string::npos) << "the word-level diff";
}

TEST_F(CliJobs, NeighborFieldsChooseWhatEachNeighbourCarries) {
  const std::string in =
      tmp_.write("in.jsonl", record("1", "Sparse", kSparse) + record("2", "Sparse GPU", kSparse2));
  std::string err, out;
  ASSERT_EQ(code("related -q --backend cpu -k 1 --neighbor-fields id,source,score " + quote(in),
                 &err, &out),
            0)
      << err;
  EXPECT_NE(out.find("\"neighbors\":[{\"id\":\"2\",\"source\":\"in.jsonl:2\",\"score\":"),
            std::string::npos)
      << out;
  ASSERT_EQ(
      code("related -q --backend cpu -k 1 --format csv --neighbor-fields id,score " + quote(in),
           &err, &out),
      0);
  EXPECT_EQ(lines(out)[0], "doc,id,title,rank,neighbor_id,score");
  EXPECT_EQ(code("related --neighbor-fields title,score " + quote(in), &err), 2);
  EXPECT_EQ(code("related --neighbor-fields id,abstract " + quote(in), &err), 2);
  EXPECT_NE(err.find("unknown field 'abstract'"), std::string::npos) << err;
}

TEST_F(CliJobs, ReportAgainstShowsTheSubmissionsAndTheThresholdUsed) {
  const std::string subs = tmp_.write("subs.jsonl", record("S1", "Sparse", kSparse2));
  const std::string pubs =
      tmp_.write("pubs.jsonl", record("P1", "Sparse", kSparse) + record("P2", "Galaxy", kGalaxy));
  const std::string html = tmp_ / "r.html";
  std::string err;
  ASSERT_EQ(code("report -q --backend cpu -t 0.5 " + quote(subs) + " --against " + quote(pubs) +
                     " -o " + quote(html),
                 &err),
            0)
      << err;
  std::string page = read_file(html);
  EXPECT_NE(page.find("<div class=\"big\">1</div><div>submissions"), std::string::npos);
  EXPECT_NE(page.find("<div class=\"big\">2</div><div>published papers"), std::string::npos);
  EXPECT_NE(page.find("pairs with score \xE2\x89\xA5 0.50"), std::string::npos);
  EXPECT_EQ(page.find("threshold="), std::string::npos) << "stated once, not in the options row";
  // --collapse-ids: the repeated listing of P1 is one paper.
  const std::string twice =
      tmp_.write("twice.jsonl", record("P1", "Sparse", kSparse) + record("P1", "Sparse", kSparse) +
                                    record("P3", "Sparse GPU", kSparse2));
  ASSERT_EQ(
      code("report -q --backend cpu -t 0.5 --collapse-ids " + quote(twice) + " -o " + quote(html),
           &err),
      0)
      << err;
  page = read_file(html);
  EXPECT_NE(page.find("<div class=\"big\">2</div><div>documents"), std::string::npos);
  EXPECT_NE(page.find("<div class=\"big\">1</div><div>pairs with score"), std::string::npos);
  // From --pairs: the threshold given, never the lowest pair score.
  const std::string in =
      tmp_.write("in.jsonl", record("1", "Sparse", kSparse) + record("2", "Sparse GPU", kSparse2) +
                                 record("3", "Galaxy", kGalaxy));
  const std::string pairs = tmp_ / "pairs.jsonl", related = tmp_ / "related.jsonl";
  ASSERT_EQ(code("duplicates -q --backend cpu -t 0.5 " + quote(in) + " -o " + quote(pairs)), 0);
  ASSERT_EQ(code("related -q --backend cpu " + quote(in) + " -o " + quote(related)), 0);
  ASSERT_EQ(code("report -q --backend cpu -t 0.5 " + quote(in) + " --pairs " + quote(pairs) +
                     " --related " + quote(related) + " -o " + quote(html),
                 &err),
            0)
      << err;
  page = read_file(html);
  EXPECT_NE(page.find("pairs with score \xE2\x89\xA5 0.50"), std::string::npos);
  EXPECT_EQ(code("report -q --backend cpu -t 0.99 " + quote(in) + " --pairs " + quote(pairs) +
                     " --related " + quote(related) + " -o " + quote(html),
                 &err),
            2);
  EXPECT_NE(err.find("below --threshold 0.99"), std::string::npos) << err;
}

}  // namespace
}  // namespace papersim::test
