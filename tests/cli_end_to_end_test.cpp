// End-to-end tests of the papersim binary on the shared corpora and on bad arguments.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "cli_support.hpp"

namespace papersim::test {
namespace {

// Escaped JSON text of "key":"..." (enough to compare titles and ids for equality).
std::string json_str(const std::string& line, const std::string& key, size_t pos = 0) {
  const std::string k = "\"" + key + "\":\"";
  size_t at = line.find(k, pos);
  if (at == std::string::npos) return {};
  at += k.size();
  std::string out;
  for (size_t i = at; i < line.size(); ++i) {
    if (line[i] == '\\') {
      out.push_back(line[i]);
      out.push_back(line[++i]);
    } else if (line[i] == '"') {
      break;
    } else {
      out.push_back(line[i]);
    }
  }
  return out;
}

using PairSet = std::set<std::pair<long long, long long>>;

// doc -> title of every document, from `vectorize --out-docs`.
std::vector<std::string> doc_titles(const std::vector<std::string>& inputs, const TempDir& tmp,
                                    std::vector<std::string>* ids = nullptr) {
  const std::string docs = tmp / "docs.jsonl";
  auto r = run(quote(bin()) + " vectorize" + join_quoted(inputs) + " -q --out-docs " + quote(docs));
  EXPECT_EQ(r.exit_code, 0);
  std::vector<std::string> titles;
  for (const auto& l : lines(read_file(docs))) {
    EXPECT_EQ(json_int(l, "doc"), static_cast<long long>(titles.size()));
    titles.push_back(json_str(l, "title"));
    if (ids) ids->push_back(json_str(l, "id"));
  }
  return titles;
}

PairSet same_key_pairs(const std::vector<std::string>& keys) {
  std::map<std::string, std::vector<long long>> groups;
  for (size_t i = 0; i < keys.size(); ++i) groups[keys[i]].push_back(static_cast<long long>(i));
  PairSet out;
  for (const auto& kv : groups) {
    for (size_t a = 0; a < kv.second.size(); ++a) {
      for (size_t b = a + 1; b < kv.second.size(); ++b) out.insert({kv.second[a], kv.second[b]});
    }
  }
  return out;
}

PairSet reported_pairs(const std::string& jsonl, std::vector<double>* scores = nullptr) {
  PairSet out;
  long long prev_a = -1, prev_b = -1;
  for (const auto& l : lines(jsonl)) {
    long long a = json_int(l, "doc_a"), b = json_int(l, "doc_b");
    EXPECT_LT(a, b) << l;
    EXPECT_TRUE(a > prev_a || (a == prev_a && b > prev_b))
        << "pairs not sorted by (doc_a, doc_b): " << l;
    prev_a = a;
    prev_b = b;
    out.insert({a, b});
    if (scores) scores->push_back(json_num(l, "score"));
  }
  return out;
}

class SeedsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bin().empty()) GTEST_SKIP() << "PAPERSIM_BIN not set";
    files_ = seed_files();
    if (files_.empty())
      GTEST_SKIP() << "seed corpus not found: set PAPERSIM_DATA_DIR to ../shared/data";
  }
  std::vector<std::string> files_;
  TempDir tmp_;
};

TEST_F(SeedsTest, DefaultThresholdFindsExactlyTheSamePaperPairs) {
  const auto titles = doc_titles(files_, tmp_);
  ASSERT_EQ(titles.size(), 635u);
  const PairSet truth = same_key_pairs(titles);
  ASSERT_EQ(truth.size(), 37u);
  auto r = run(quote(bin()) + " duplicates" + join_quoted(files_) + " --backend cpu -q -o -");
  ASSERT_EQ(r.exit_code, 0);
  std::vector<double> scores;
  const PairSet found = reported_pairs(r.out, &scores);
  EXPECT_EQ(found, truth);
  for (double s : scores) {
    EXPECT_GE(s, 0.0);
    EXPECT_LE(s, 1.0 + 1e-6);
  }
}

TEST_F(SeedsTest, EachSamePaperIsItsPartnersTopNeighbour) {
  const auto titles = doc_titles(files_, tmp_);
  auto r = run(quote(bin()) + " related" + join_quoted(files_) + " -k 3 --backend cpu -q -o -");
  ASSERT_EQ(r.exit_code, 0);
  const auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), titles.size());
  for (const auto& [a, b] : same_key_pairs(titles)) {
    for (long long q : {a, b}) {
      const std::string& row = rows[q];
      ASSERT_EQ(json_int(row, "doc"), q);
      const size_t nb = row.find("\"neighbors\":[");
      ASSERT_NE(nb, std::string::npos);
      const long long top = json_int(row, "doc", nb);
      ASSERT_GE(top, 0) << row;
      EXPECT_EQ(titles[top], titles[q]) << "top-1 of doc " << q << " is not the same paper";
      EXPECT_NE(top, q) << "a document is its own neighbour";
    }
  }
}

TEST_F(SeedsTest, CsvAndTsvCarryTheSamePairs) {
  auto j = run(quote(bin()) + " duplicates" + join_quoted(files_) + " --backend cpu -q -o -");
  auto c = run(quote(bin()) + " duplicates" + join_quoted(files_) +
               " --backend cpu -q --format csv -o -");
  auto t = run(quote(bin()) + " duplicates" + join_quoted(files_) +
               " --backend cpu -q --format tsv -o -");
  ASSERT_EQ(j.exit_code, 0);
  ASSERT_EQ(c.exit_code, 0);
  ASSERT_EQ(t.exit_code, 0);
  const auto n = lines(j.out).size();
  // CSV may quote titles with commas but never splits a record over lines (titles have none).
  EXPECT_EQ(lines(c.out).size(), n + 1);
  EXPECT_EQ(lines(t.out).size(), n + 1);
  EXPECT_EQ(lines(c.out)[0], "doc_a,id_a,title_a,doc_b,id_b,title_b,score");
}

TEST_F(SeedsTest, ClustersAreComponentsWithRepresentative) {
  const std::string clusters = tmp_ / "clusters.jsonl";
  auto r = run(quote(bin()) + " duplicates" + join_quoted(files_) +
               " --backend cpu -q -o /dev/null --clusters " + quote(clusters));
  ASSERT_EQ(r.exit_code, 0);
  const auto rows = lines(read_file(clusters));
  // 31 titles occur two or three times: 31 clusters.
  EXPECT_EQ(rows.size(), 31u);
  long long prev_size = 1 << 30;
  for (const auto& l : rows) {
    const long long size = json_int(l, "size");
    EXPECT_GE(size, 2);
    EXPECT_LE(size, prev_size) << "clusters not largest first";
    prev_size = size;
    EXPECT_NE(l.find("\"representative\":"), std::string::npos);
    EXPECT_NE(l.find("\"score_to_representative\":"), std::string::npos);
  }
}

TEST_F(SeedsTest, AgainstReportsOnlyQueryToReferencePairs) {
  // File 001 (listing) against file 003 (poster): the revised-abstract paper is in both.
  std::string q, ref;
  for (const auto& f : files_) {
    if (f.find("/001_") != std::string::npos) q = f;
    if (f.find("/003_") != std::string::npos) ref = f;
  }
  ASSERT_FALSE(q.empty());
  ASSERT_FALSE(ref.empty());
  auto r = run(quote(bin()) + " duplicates " + quote(q) + " --against " + quote(ref) +
               " --backend cpu -q -o -");
  ASSERT_EQ(r.exit_code, 0);
  bool found = false;
  for (const auto& l : lines(r.out)) {
    EXPECT_NE(json_str(l, "id_a").find("001_"), std::string::npos) << l;
    EXPECT_NE(json_str(l, "id_b").find("003_"), std::string::npos) << l;
    if (json_str(l, "title_a") == "Self-Supervised Dataset Distillation for Transfer Learning")
      found = true;
  }
  EXPECT_TRUE(found) << "revised-abstract pair not found across files";
  auto rel = run(quote(bin()) + " related " + quote(q) + " --against " + quote(ref) +
                 " -k 2 --backend cpu -q -o -");
  ASSERT_EQ(rel.exit_code, 0);
  for (const auto& l : lines(rel.out)) {
    EXPECT_NE(json_str(l, "id").find("001_"), std::string::npos);
    const size_t nb = l.find("\"neighbors\":[");
    if (l.find("\"id\":", nb) != std::string::npos) {
      EXPECT_NE(json_str(l, "id", nb).find("003_"), std::string::npos) << l;
    }
  }
}

TEST(ArxivDaily, RowsSharingAnIdAreFoundAsDuplicates) {
  if (bin().empty()) GTEST_SKIP() << "PAPERSIM_BIN not set";
  const std::string d = data_dir();
  const std::string xz = d + "/arxiv-daily/arxiv-daily.jsonl.xz";
  if (d.empty() || !std::filesystem::exists(xz)) {
    GTEST_SKIP() << "arxiv-daily not found: set PAPERSIM_DATA_DIR to ../shared/data";
  }
  TempDir tmp;
  // A CI-sized sample: the first 20,000 listing rows (the full corpus runs in bench/).
  const std::string sample = tmp / "sample.jsonl";
  ASSERT_EQ(run("xz -dc " + quote(xz) + " | head -n 20000 > " + quote(sample)).exit_code, 0);
  std::vector<std::string> ids;
  doc_titles({sample}, tmp, &ids);
  ASSERT_EQ(ids.size(), 20000u);
  const PairSet truth = same_key_pairs(ids);
  ASSERT_GT(truth.size(), 100u);
  auto r = run(quote(bin()) + " duplicates " + quote(sample) + " --backend cpu -q -o -");
  ASSERT_EQ(r.exit_code, 0);
  const PairSet found = reported_pairs(r.out);
  size_t hit = 0;
  for (const auto& p : truth) hit += found.count(p);
  const double recall = static_cast<double>(hit) / truth.size();
  std::printf("arxiv-daily sample: %zu same-id pairs, %zu found (recall %.4f), %zu reported\n",
              truth.size(), hit, recall, found.size());
  EXPECT_GE(recall, 0.99);
}

// Bad arguments: a clear message and the documented exit code.
class BadArgs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bin().empty()) GTEST_SKIP() << "PAPERSIM_BIN not set";
    input_ = tmp_ / "in.jsonl";
    std::ofstream(input_) << "{\"id\":\"a\",\"title\":\"Sparse matrices\",\"abstract\":\"We "
                             "multiply sparse matrices.\"}\n"
                          << "{\"id\":\"b\",\"title\":\"Dense matrices\",\"abstract\":\"We "
                             "multiply dense matrices.\"}\n";
  }
  int code(const std::string& args, std::string* err = nullptr) {
    const std::string errfile = tmp_ / "err.txt";
    int c = run(quote(bin()) + " " + args, errfile).exit_code;
    if (err) *err = read_file(errfile);
    return c;
  }
  TempDir tmp_;
  std::string input_;
};

TEST_F(BadArgs, ExitCodesAndMessages) {
  std::string err;
  EXPECT_EQ(code("related " + quote(input_) + " -k 0", &err), 2);
  EXPECT_NE(err.find("must be >= 1"), std::string::npos) << err;
  EXPECT_EQ(code("duplicates " + quote(input_) + " --threshold 1.5", &err), 2);
  EXPECT_NE(err.find("[0, 1]"), std::string::npos) << err;
  EXPECT_EQ(code("duplicates " + quote(input_) + " --threshold -0.1"), 2);
  EXPECT_EQ(code("related " + quote(input_) + " --backend tpu", &err), 2);
  EXPECT_NE(err.find("unknown backend"), std::string::npos) << err;
  EXPECT_EQ(code("related " + quote(tmp_ / "missing.jsonl"), &err), 3);
  EXPECT_NE(err.find("missing.jsonl"), std::string::npos) << err;
  const std::string empty = tmp_ / "empty.jsonl";
  std::ofstream(empty).close();
  EXPECT_EQ(code("duplicates " + quote(empty), &err), 2);
  EXPECT_NE(err.find("empty corpus"), std::string::npos) << err;
  EXPECT_EQ(code("related " + quote(input_) + " --bogus-option"), 2);
  EXPECT_EQ(code("frobnicate"), 2);
}

TEST_F(BadArgs, CudaWithoutDeviceIsAnError) {
  auto info = run(quote(bin()) + " info");
  ASSERT_EQ(info.exit_code, 0);
  if (info.out.find("visible GPUs: 0") == std::string::npos) GTEST_SKIP() << "a GPU is visible";
  std::string err;
  EXPECT_EQ(code("related " + quote(input_) + " --backend cuda", &err), 4);
  EXPECT_NE(err.find("cuda"), std::string::npos) << err;
}

// Options are checked before any input is read: with a missing input the
// option error (exit 2 or 4) wins over the input error (exit 3).
TEST_F(BadArgs, OptionsAreCheckedBeforeAnyInputIsRead) {
  const std::string missing = quote(tmp_ / "missing.jsonl");
  std::string err;
  EXPECT_EQ(code("duplicates " + missing + " --stem klingon -o /dev/null", &err), 2);
  EXPECT_NE(err.find("klingon"), std::string::npos) << err;
  EXPECT_EQ(code("related " + missing + " --ngram-range 2,1 -o /dev/null", &err), 2) << err;
  EXPECT_EQ(code("report " + missing + " --pairs p.jsonl -o /dev/null", &err), 2);
  EXPECT_NE(err.find("--pairs and --related"), std::string::npos) << err;
  auto info = run(quote(bin()) + " info");
  ASSERT_EQ(info.exit_code, 0);
  if (info.out.find("visible GPUs: 0") != std::string::npos) {
    EXPECT_EQ(code("related " + missing + " --backend cuda -o /dev/null", &err), 4);
    EXPECT_NE(err.find("cuda"), std::string::npos) << err;
  }
}

TEST_F(BadArgs, StrictStopsAtBadRecordDefaultSkipsAndCounts) {
  const std::string bad = tmp_ / "bad.jsonl";
  std::ofstream(bad) << "{\"id\":\"a\",\"title\":\"T\",\"abstract\":\"good text here\"}\n"
                     << "{\"id\":\"b\",\"title\":\"T\",\"abstract\":\"broken\n"
                     << "{\"id\":\"c\",\"title\":\"U\",\"abstract\":\"more good text\"}\n";
  std::string err;
  EXPECT_EQ(code("duplicates " + quote(bad) + " --strict -o /dev/null", &err), 3);
  EXPECT_NE(err.find("bad.jsonl:2"), std::string::npos) << err;
  EXPECT_EQ(code("duplicates " + quote(bad) + " -o /dev/null", &err), 0);
  EXPECT_NE(err.find("bad.jsonl:2"), std::string::npos) << err;
  EXPECT_NE(err.find("skipped records   1"), std::string::npos) << err;
}

TEST_F(BadArgs, StdoutAndStdinWork) {
  auto r =
      run("cat " + quote(input_) + " | " + quote(bin()) + " related - -k 1 -q --backend cpu -o -");
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_EQ(lines(r.out).size(), 2u);
  EXPECT_NE(r.out.find("\"neighbors\":[{\"doc\":1"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace papersim::test
