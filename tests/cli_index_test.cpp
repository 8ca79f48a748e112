// End-to-end tests of `papersim index` and `--index`: exactness against a
// float64 scikit-learn brute force (fit on one arxiv-daily sample, transform of
// both, after build + add; `check --index` likewise), the same lists as
// `related`, `check --index` against `duplicates --index` and `check --against`,
// damaged files as exit code 3, refused option combinations as exit code 2, and
// an `add` killed at any moment leaving a valid index.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "cli_support.hpp"

using namespace papersim::test;

namespace {

struct Ranked {
  long long doc;
  double score;
};
using Lists = std::map<long long, std::vector<Ranked>>;

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> f;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    f.push_back(line.substr(start, tab - start));
    if (tab == std::string::npos) return f;
    start = tab + 1;
  }
}

// Reference lines: doc, neighbour, score.
Lists read_reference(const std::string& path) {
  Lists l;
  for (const auto& line : lines(read_file(path))) {
    const auto f = fields(line);
    l[std::stoll(f[0])].push_back({std::stoll(f[1]), std::stod(f[2])});
  }
  return l;
}

// papersim --format tsv: doc, id, title, rank, neighbor_doc, neighbor_id, neighbor_title, score.
Lists read_tsv(const std::string& path) {
  Lists l;
  const auto all = lines(read_file(path));
  for (std::size_t i = 1; i < all.size(); ++i) {
    const auto f = fields(all[i]);
    if (f.size() != 8) {
      ADD_FAILURE() << "bad TSV line: " << all[i];
      continue;
    }
    l[std::stoll(f[0])].push_back({std::stoll(f[4]), std::stod(f[7])});
  }
  return l;
}

// Lists equal up to ties: same length, each rank's score within `tol`, and the
// same neighbours except where a score is within `tol` of the list's last score
// (equal-score neighbours at the cut may differ).
void expect_same_lists(const Lists& want, const Lists& got, long long rows, double tol) {
  int bad = 0;
  for (long long d = 0; d < rows && bad < 10; ++d) {
    const auto w = want.count(d) ? want.at(d) : std::vector<Ranked>{};
    const auto g = got.count(d) ? got.at(d) : std::vector<Ranked>{};
    if (w.size() != g.size()) {
      ADD_FAILURE() << "row " << d << ": " << g.size() << " neighbours, reference " << w.size();
      ++bad;
      continue;
    }
    if (w.empty()) continue;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (std::fabs(w[i].score - g[i].score) > tol) {
        ADD_FAILURE() << "row " << d << " rank " << i + 1 << ": score " << g[i].score
                      << ", reference " << w[i].score;
        ++bad;
      }
    }
    const double cut = w.back().score + tol;
    std::set<long long> ws, gs;
    for (const auto& r : w)
      if (r.score > cut) ws.insert(r.doc);
    for (const auto& r : g)
      if (r.score > cut) gs.insert(r.doc);
    if (ws != gs) {
      ADD_FAILURE() << "row " << d << ": neighbours above the tie zone differ";
      ++bad;
    }
  }
}

// One match of `papersim check`: submission, side, doc.
using MatchKey = std::tuple<long long, std::string, long long>;

// `check` JSON Lines: every (submission, side, doc) with its score as printed.
std::map<MatchKey, std::string> read_check(const std::string& text) {
  std::map<MatchKey, std::string> m;
  for (const auto& line : lines(text)) {
    const long long s = json_int(line, "doc");
    for (std::size_t at = line.find("{\"doc\":", line.find("\"matches\":["));
         at != std::string::npos; at = line.find("{\"doc\":", at + 1)) {
      const std::size_t score = line.find("\"score\":", at) + 8;
      const std::size_t side = line.find("\"side\":\"", score) + 8;
      const std::string side_name = line.substr(side, line.find('"', side) - side);
      m[{s, side_name, json_int(line, "doc", at)}] =
          line.substr(score, line.find(',', score) - score);
    }
  }
  return m;
}

std::string between(const std::string& s, const std::string& a, const std::string& b) {
  const std::size_t i = s.find(a);
  if (i == std::string::npos) return {};
  const std::size_t j = s.find(b, i + a.size());
  return s.substr(i + a.size(), j - i - a.size());
}

class IndexCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bin().empty()) GTEST_SKIP() << "PAPERSIM_BIN not set";
    seeds_ = seed_files();
    if (seeds_.size() < 4)
      GTEST_SKIP() << "seed corpus not found: set PAPERSIM_DATA_DIR to ../shared/data";
  }
  std::string papersim(const std::string& args) const { return quote(bin()) + " " + args; }
  std::vector<std::string> seeds_;
  TempDir dir_;
};

// The scikit-learn brute-force tests: papersim, a Python with scikit-learn and
// the arxiv-daily sample, or a skip that names what is missing.
class IndexExactness : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bin().empty()) GTEST_SKIP() << "PAPERSIM_BIN not set";
    const std::string python = env_or_empty("PAPERSIM_PYTHON");
    if (python.empty()) GTEST_SKIP() << "no Python with scikit-learn (PAPERSIM_PYTHON)";
    const std::string data = data_dir();
    xz_ = data + "/arxiv-daily/arxiv-daily.jsonl.xz";
    if (data.empty() || !std::filesystem::exists(xz_))
      GTEST_SKIP() << "arxiv-daily not found: set PAPERSIM_DATA_DIR to ../shared/data";
    reference_ = quote(python) + " " +
                 quote(env_or_empty("PAPERSIM_SOURCE_DIR") + "/tests/parity/index_reference.py");
  }
  std::string xz_;         // the arxiv-daily sample
  std::string reference_;  // command prefix running index_reference.py
};

}  // namespace

TEST_F(IndexExactness, BuildThenAddEqualsScikitLearnBruteForce) {
  TempDir t;
  constexpr int kA = 2000, kB = 500, kK = 10;
  ASSERT_EQ(run(reference_ + " split " + quote(xz_) + " --a " + std::to_string(kA) + " --b " +
                std::to_string(kB) + " --out-a " + quote(t / "a.jsonl") + " --out-b " +
                quote(t / "b.jsonl"))
                .exit_code,
            0);
  ASSERT_EQ(run(reference_ + " topk --a " + quote(t / "a.jsonl") + " --b " + quote(t / "b.jsonl") +
                " -k " + std::to_string(kK) + " --out-all " + quote(t / "all.tsv") +
                " --out-cross " + quote(t / "cross.tsv"))
                .exit_code,
            0);
  const std::string p = quote(bin());
  ASSERT_EQ(run(p + " index build " + quote(t / "a.jsonl") + " --preset sklearn -k " +
                std::to_string(kK) + " -o " + quote(t / "x.psx") + " -q")
                .exit_code,
            0);
  // Queries against the built index: B × A, reading the index's column blocks.
  ASSERT_EQ(run(p + " related " + quote(t / "b.jsonl") + " --index " + quote(t / "x.psx") + " -k " +
                    std::to_string(kK) + " --format tsv -o " + quote(t / "cross-ps.tsv"),
                t / "cross.err")
                .exit_code,
            0);
  expect_same_lists(read_reference(t / "cross.tsv"), read_tsv(t / "cross-ps.tsv"), kB, 1e-5);
  EXPECT_NE(read_file(t / "cross.err").find("the index's column blocks"), std::string::npos)
      << read_file(t / "cross.err");
  // Add B, then every stored list (A + B rows) against the brute force.
  const RunResult add =
      run(p + " index add " + quote(t / "x.psx") + " " + quote(t / "b.jsonl"), t / "add.err");
  ASSERT_EQ(add.exit_code, 0) << read_file(t / "add.err");
  const std::string summary = read_file(t / "add.err");
  EXPECT_NE(summary.find("outside the frozen vocabulary ignored"), std::string::npos) << summary;
  EXPECT_NE(summary.find("largest df change"), std::string::npos) << summary;
  ASSERT_EQ(run(p + " index related " + quote(t / "x.psx") + " --format tsv -q -o " +
                quote(t / "all-ps.tsv"))
                .exit_code,
            0);
  expect_same_lists(read_reference(t / "all.tsv"), read_tsv(t / "all-ps.tsv"), kA + kB, 1e-5);
  const RunResult info = run(p + " index info " + quote(t / "x.psx"));
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_NE(info.out.find("documents         2,500 (2,000 at build"), std::string::npos)
      << info.out;
  // The add rebuilt the build's partial block and wrote the new rows' blocks.
  EXPECT_NE(info.out.find("column blocks     2 blocks of 2048 rows"), std::string::npos)
      << info.out;
}

TEST_F(IndexExactness, CheckAgainstAnIndexEqualsScikitLearnBruteForce) {
  // `check B --index A.psx` is the float64 brute force of TfidfVectorizer fitted
  // on A alone and applied to B: B x B and B x A, every match >= t, scores within
  // 1e-5 (a match within 1e-5 of t may be on either side of it).
  TempDir t;
  const std::string a = quote(t / "a.jsonl"), b = quote(t / "b.jsonl");
  ASSERT_EQ(
      run(reference_ + " split " + quote(xz_) + " --a 2000 --b 500 --out-a " + a + " --out-b " + b)
          .exit_code,
      0);
  ASSERT_EQ(
      run(reference_ + " check --a " + a + " --b " + b + " -t 0.3 --out " + quote(t / "m.tsv"))
          .exit_code,
      0);
  const std::string p = quote(bin());
  ASSERT_EQ(
      run(p + " index build " + a + " --preset sklearn -q -o " + quote(t / "a.psx")).exit_code, 0);
  const RunResult c = run(p + " check " + b + " --index " + quote(t / "a.psx") +
                              " -t 0.3 -o - --report " + quote(t / "c.html"),
                          t / "check.err");
  ASSERT_EQ(c.exit_code, 0) << read_file(t / "check.err");
  const std::string summary = read_file(t / "check.err");
  EXPECT_NE(summary.find("outside the frozen vocabulary ignored"), std::string::npos) << summary;
  EXPECT_NE(read_file(t / "c.html").find("no text comparison: a saved index"), std::string::npos);

  constexpr double kTol = 1e-5, kT = 0.3;
  const auto got = read_check(c.out);
  std::map<MatchKey, double> want;
  for (const auto& line : lines(read_file(t / "m.tsv"))) {
    const auto f = fields(line);
    want[{std::stoll(f[0]), f[1], std::stoll(f[2])}] = std::stod(f[3]);
  }
  int bad = 0, sides[2] = {0, 0};
  for (const auto& [key, score] : want) {
    sides[std::get<1>(key) == "published"] += 1;
    const auto g = got.find(key);
    if (g == got.end()) {
      if (score >= kT + kTol && ++bad < 10)
        ADD_FAILURE() << "missing match " << std::get<0>(key) << " " << std::get<1>(key) << " "
                      << std::get<2>(key) << " (reference " << score << ")";
      continue;
    }
    if (std::fabs(std::stod(g->second) - score) > kTol && ++bad < 10)
      ADD_FAILURE() << "score " << g->second << ", reference " << score;
  }
  for (const auto& [key, score] : got) {
    if (!want.count(key) && std::stod(score) >= kT + kTol && ++bad < 10)
      ADD_FAILURE() << "extra match " << std::get<0>(key) << " " << std::get<1>(key) << " "
                    << std::get<2>(key) << " (" << score << ")";
  }
  EXPECT_EQ(bad, 0);
  // The sample must exercise both sides for the comparison to mean anything.
  EXPECT_GT(sides[0], 100);
  EXPECT_GT(sides[1], 100);
}

TEST_F(IndexCli, StoredListsEqualRelatedAndCsvTsvWork) {
  const std::string idx = quote(dir_ / "s.psx");
  ASSERT_EQ(run(papersim("index build" + join_quoted(seeds_) + " -k 7 -q -o " + idx)).exit_code, 0);
  for (const std::string fmt : {"jsonl", "csv", "tsv"}) {
    ASSERT_EQ(run(papersim("index related " + idx + " --format " + fmt + " -q -o " +
                           quote(dir_ / ("a." + fmt))))
                  .exit_code,
              0);
    ASSERT_EQ(run(papersim("related" + join_quoted(seeds_) + " -k 7 --format " + fmt + " -q -o " +
                           quote(dir_ / ("b." + fmt))))
                  .exit_code,
              0);
    const std::string a = read_file(dir_ / ("a." + fmt));
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, read_file(dir_ / ("b." + fmt))) << fmt;
  }
  // Queries that are the indexed documents themselves find themselves first.
  const RunResult q =
      run(papersim("related " + quote(seeds_[0]) + " --index " + idx + " -k 1 -q -o -"));
  ASSERT_EQ(q.exit_code, 0);
  for (const auto& line : lines(q.out)) EXPECT_NE(line.find("\"score\":1}"), std::string::npos);
}

TEST_F(IndexCli, VectorizeWithAnIndexUsesItsFrozenModel) {
  // The indexed documents vectorized with the index's model are the index's own
  // rows: the same matrix and vocabulary as fitting on them.
  const std::string idx = quote(dir_ / "v.psx");
  ASSERT_EQ(run(papersim("index build" + join_quoted(seeds_) + " -q -o " + idx)).exit_code, 0);
  ASSERT_EQ(run(papersim("vectorize" + join_quoted(seeds_) + " --index " + idx + " -q" +
                         " --out-matrix " + quote(dir_ / "a.mtx") + " --out-vocab " +
                         quote(dir_ / "a.vocab") + " --out-docs " + quote(dir_ / "a.docs")))
                .exit_code,
            0);
  ASSERT_EQ(run(papersim("vectorize" + join_quoted(seeds_) + " -q --out-matrix " +
                         quote(dir_ / "b.mtx") + " --out-vocab " + quote(dir_ / "b.vocab") +
                         " --out-docs " + quote(dir_ / "b.docs")))
                .exit_code,
            0);
  for (const std::string f : {"mtx", "vocab", "docs"}) {
    const std::string a = read_file(dir_ / ("a." + f));
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_EQ(a, read_file(dir_ / ("b." + f))) << f;
  }
  // A subset keeps the index's columns: the header names its vocabulary size.
  const std::string log = dir_ / "c.err";
  const RunResult one = run(papersim("vectorize " + quote(seeds_[0]) + " --index " + idx +
                                     " --out-matrix " + quote(dir_ / "c.mtx")),
                            log);
  ASSERT_EQ(one.exit_code, 0);
  EXPECT_NE(read_file(log).find("vectorized with the model of"), std::string::npos)
      << read_file(log);
  const auto ma = lines(read_file(dir_ / "a.mtx")), mc = lines(read_file(dir_ / "c.mtx"));
  auto header = [](const std::vector<std::string>& l) {
    for (const auto& line : l)
      if (!line.empty() && line[0] != '%') return line.substr(line.find(' '));
    return std::string();
  };
  EXPECT_EQ(header(ma).substr(0, header(ma).rfind(' ')),
            header(mc).substr(0, header(mc).rfind(' ')));
  // The model is the index's: TF-IDF options are refused before any input is read.
  EXPECT_EQ(run(papersim("vectorize " + quote(dir_ / "none.jsonl") + " --index " + idx +
                         " --min-df 2 --out-matrix " + quote(dir_ / "d.mtx")))
                .exit_code,
            2);
  EXPECT_EQ(
      run(papersim("vectorize " + quote(seeds_[0]) + " --index " + idx + " --out-matrix " + idx))
          .exit_code,
      2);
}

TEST_F(IndexCli, DuplicatesAgainstAnIndexMatchAgainst) {
  // Built with the abstracts preset on the references, --index uses that frozen
  // model; --against fits on the union, so only the pair sets are compared at a
  // threshold where the same-paper pairs are far from it.
  std::vector<std::string> refs(seeds_.begin() + 1, seeds_.end());
  const std::string idx = quote(dir_ / "r.psx");
  ASSERT_EQ(run(papersim("index build" + join_quoted(refs) + " -q -o " + idx)).exit_code, 0);
  std::string against;  // --against takes one file per occurrence
  for (const auto& r : refs) against += " --against " + quote(r);
  const RunResult a = run(papersim("duplicates " + quote(seeds_[0]) + " --index " + idx +
                                   " -q --clusters " + quote(dir_ / "c.jsonl") + " -o -"));
  const RunResult b = run(papersim("duplicates " + quote(seeds_[0]) + against + " -q -o -"));
  ASSERT_EQ(a.exit_code, 0);
  ASSERT_EQ(b.exit_code, 0);
  const auto pa = lines(a.out), pb = lines(b.out);
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(json_int(pa[i], "doc_a"), json_int(pb[i], "doc_a"));
    EXPECT_EQ(between(pa[i], "\"id_b\":", ",\"title_b\""),
              between(pb[i], "\"id_b\":", ",\"title_b\""));
  }
  EXPECT_FALSE(lines(read_file(dir_ / "c.jsonl")).empty());
}

TEST_F(IndexCli, CheckAgainstAnIndexMatchesDuplicatesAndAgainst) {
  // Two daily listings as submissions, the other listings indexed. The published
  // side of `check --index` is `duplicates --index` at the same threshold, score
  // for score as printed (one join); against `check --against` (a model fitted on
  // the union, so scores differ slightly) the flagged submissions and their
  // matches (by id and side) are the same at the default threshold, where the
  // matches are cross-listed copies far above it.
  const std::vector<std::string> subs(seeds_.begin(), seeds_.begin() + 2);
  const std::vector<std::string> refs(seeds_.begin() + 2, seeds_.end());
  const std::string idx = quote(dir_ / "r.psx");
  ASSERT_EQ(run(papersim("index build" + join_quoted(refs) + " -q -o " + idx)).exit_code, 0);
  const RunResult c =
      run(papersim("check" + join_quoted(subs) + " --index " + idx + " -o -"), dir_ / "check.err");
  ASSERT_EQ(c.exit_code, 0) << read_file(dir_ / "check.err");
  const auto got = read_check(c.out);
  const RunResult d =
      run(papersim("duplicates" + join_quoted(subs) + " --index " + idx + " -t 0.45 -q -o -"));
  ASSERT_EQ(d.exit_code, 0);
  std::map<MatchKey, std::string> published;
  for (const auto& [key, score] : got)
    if (std::get<1>(key) == "published") published[key] = score;
  std::map<MatchKey, std::string> pairs;
  for (const auto& line : lines(d.out)) {
    const std::size_t at = line.find("\"score\":") + 8;
    pairs[{json_int(line, "doc_a"), "published", json_int(line, "doc_b")}] =
        line.substr(at, line.find('}', at) - at);
  }
  EXPECT_FALSE(pairs.empty());
  EXPECT_EQ(published, pairs);
  EXPECT_GT(got.size(), published.size()) << "no submission pairs: the test proves less";
  const std::string summary = read_file(dir_ / "check.err");
  EXPECT_NE(summary.find("outside the frozen vocabulary ignored"), std::string::npos) << summary;
  EXPECT_NE(summary.find("submissions have a match"), std::string::npos) << summary;

  std::string against;
  for (const auto& r : refs) against += " --against " + quote(r);
  const RunResult e = run(papersim("check" + join_quoted(subs) + against + " -q -o -"));
  ASSERT_EQ(e.exit_code, 0);
  // (submission id, [(match id, side)]) of every flagged submission.
  const auto by_id = [](const std::string& text) {
    std::map<std::string, std::set<std::string>> m;
    for (const auto& line : lines(text)) {
      auto& s = m[between(line, "\"id\":", ",\"source\"")];
      for (std::size_t at = line.find("{\"doc\":", line.find("\"matches\":["));
           at != std::string::npos; at = line.find("{\"doc\":", at + 1))
        s.insert(between(line.substr(at), "\"id\":", ",\"source\"") +
                 between(line.substr(at), "\"side\":", "}"));
    }
    return m;
  };
  const auto ia = by_id(c.out), ib = by_id(e.out);
  EXPECT_FALSE(ia.empty());
  EXPECT_EQ(ia, ib);
}

TEST_F(IndexCli, CheckWithIndexRefusesBeforeReading) {
  const std::string good = dir_ / "s.psx";
  ASSERT_EQ(run(papersim("index build " + quote(seeds_[1]) + " -q -o " + quote(good))).exit_code,
            0);
  const std::string before = read_file(good);
  // A submissions file that does not exist: a usage error is found first.
  const std::string missing = quote(dir_ / "no-such-submissions.jsonl");
  const std::string ix = " --index " + quote(good);
  for (const std::string args :
       {"check " + missing + ix + " --against " + quote(seeds_[2]),
        "check " + missing + ix + " --stop-words english", "check " + missing + ix + " --min-df 2",
        "check " + missing + ix + " --collapse-ids", "related " + missing + ix + " --collapse-ids",
        "check " + missing + ix + " -t 0", "check " + quote(seeds_[0]) + ix + " -o " + quote(good),
        "check " + quote(seeds_[0]) + ix + " -o - --report " + quote(good)}) {
    EXPECT_EQ(run(papersim(args)).exit_code, 2) << args;
  }
  EXPECT_EQ(read_file(good), before) << "a refused run changed the index";
  // A missing index is a missing input.
  EXPECT_EQ(
      run(papersim("check " + quote(seeds_[0]) + " --index " + quote(dir_ / "none.psx"))).exit_code,
      3);
  // A failed run leaves an earlier output alone.
  const std::string out = dir_.write("out.jsonl", "earlier\n");
  EXPECT_EQ(run(papersim("check " + missing + ix + " -o " + quote(out))).exit_code, 3);
  EXPECT_EQ(read_file(out), "earlier\n");
}

TEST_F(IndexCli, DamagedIndexIsExitCodeThree) {
  const std::string good = dir_ / "s.psx";
  ASSERT_EQ(
      run(papersim("index build" + join_quoted(seeds_) + " -k 3 -q -o " + quote(good))).exit_code,
      0);
  const std::string bytes = read_file(good);
  struct Case {
    std::string name, content, message;
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  std::string version = bytes;
  version[8] = 9;
  const std::vector<Case> cases = {
      {"truncated", bytes.substr(0, bytes.size() - 100), "truncated"},
      {"flipped", flipped, "corrupt index"},
      {"version", version, "version 9"},
      {"text", "hello\n", "not a papersim index"},
  };
  for (const auto& c : cases) {
    const std::string p = dir_.write(c.name + ".psx", c.content);
    for (const std::string cmd : {"index info " + quote(p), "index related " + quote(p) + " -o -",
                                  "related " + quote(seeds_[0]) + " --index " + quote(p),
                                  "duplicates " + quote(seeds_[0]) + " --index " + quote(p),
                                  "check " + quote(seeds_[0]) + " --index " + quote(p),
                                  "index add " + quote(p) + " " + quote(seeds_[0])}) {
      const RunResult r = run(papersim(cmd), dir_ / "err");
      EXPECT_EQ(r.exit_code, 3) << c.name << ": " << cmd;
      EXPECT_NE(read_file(dir_ / "err").find(c.message), std::string::npos)
          << c.name << ": " << read_file(dir_ / "err");
    }
  }
  // Options are checked before anything is read.
  EXPECT_EQ(run(papersim("related " + quote(seeds_[0]) + " --index " + quote(good) +
                         " --stop-words english"))
                .exit_code,
            2);
  EXPECT_EQ(run(papersim("related " + quote(seeds_[0]) + " --index " + quote(good) + " --against " +
                         quote(seeds_[1])))
                .exit_code,
            2);
  EXPECT_EQ(run(papersim("related " + quote(seeds_[0]) + " --index " + quote(dir_ / "none.psx")))
                .exit_code,
            3);
  EXPECT_EQ(
      run(papersim("index build " + quote(seeds_[0]) + " -o " + quote(dir_ / "no-such-dir/x.psx")))
          .exit_code,
      3);
}

TEST_F(IndexCli, DamagedColumnBlocksFailTheRunsThatReadThem) {
  // The column blocks are checked when a run first reads them: a run with few
  // queries (the dense-queries kernel reads the rows alone) gives the good
  // index's output; one whose pass reads the blocks, `index info` and
  // `index add` stop with exit 3 naming the damaged section, and leave the
  // output and the index as they were.
  const std::string good = dir_ / "g.psx";
  ASSERT_EQ(run(papersim("index build" + join_quoted(seeds_) + " -q -o " + quote(good))).exit_code,
            0);
  // The section's offset as `index info` lists it.
  const RunResult info = run(papersim("index info " + quote(good)));
  ASSERT_EQ(info.exit_code, 0);
  const std::size_t at = info.out.find("block values");
  ASSERT_NE(at, std::string::npos) << info.out;
  const std::size_t offset = std::stoull(info.out.substr(info.out.find("offset", at) + 6));
  std::string bytes = read_file(good);
  ASSERT_LT(offset + 1, bytes.size());
  bytes[offset + 1] ^= 0x04;
  const std::string bad = dir_.write("bad.psx", bytes);
  const std::string queries = quote(seeds_[0]);
  ASSERT_EQ(run(papersim("related " + queries + " --index " + quote(good) + " -q -o " +
                         quote(dir_ / "want.jsonl")))
                .exit_code,
            0);
  const RunResult dense = run(papersim("related " + queries + " --index " + quote(bad) + " -o " +
                                       quote(dir_ / "got.jsonl")),
                              dir_ / "err");
  EXPECT_EQ(dense.exit_code, 0) << read_file(dir_ / "err");
  EXPECT_NE(read_file(dir_ / "err").find("dense queries"), std::string::npos)
      << read_file(dir_ / "err");
  EXPECT_EQ(read_file(dir_ / "got.jsonl"), read_file(dir_ / "want.jsonl"));
  for (const std::string cmd :
       {"related " + queries + " --index " + quote(bad) + " --head-dim 8 -o " +
            quote(dir_ / "tiles.jsonl"),
        "index info " + quote(bad), "index add " + quote(bad) + " " + quote(seeds_[1])}) {
    const RunResult r = run(papersim(cmd), dir_ / "err");
    EXPECT_EQ(r.exit_code, 3) << cmd;
    const std::string err = read_file(dir_ / "err");
    EXPECT_NE(err.find("checksum mismatch in section 'block values'"), std::string::npos) << err;
    EXPECT_NE(err.find(bad), std::string::npos) << err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "tiles.jsonl")) << "no output from a failed run";
  EXPECT_EQ(read_file(bad), bytes) << "a failed add leaves the index as it was";
}

TEST_F(IndexCli, KilledAddLeavesAValidIndex) {
  // `add` killed (SIGKILL: no clean-up runs) at several moments, among them
  // while its new file is being written: afterwards the index is always valid
  // and either exactly the old one or the complete new one.
  const std::string corpus = dir_ / "synth.jsonl";
  ASSERT_EQ(run(papersim("synth --docs 6000 --seed 3 -q -o " + quote(corpus))).exit_code, 0);
  const std::string more = dir_ / "more.jsonl";
  ASSERT_EQ(run(papersim("synth --docs 1500 --seed 4 -q -o " + quote(more))).exit_code, 0);
  const std::string idx = dir_ / "x.psx";
  ASSERT_EQ(run(papersim("index build " + quote(corpus) + " -k 10 -q -o " + quote(idx))).exit_code,
            0);
  const std::string before = read_file(idx);
  const std::string sub = dir_ / "kill";
  std::filesystem::create_directory(sub);
  const std::string copy = sub + "/k.psx";
  const auto temp_exists = [&] {
    for (const auto& e : std::filesystem::directory_iterator(sub))
      if (e.path().filename().string().rfind(".k.psx.tmp.", 0) == 0) return true;
    return false;
  };
  int old_seen = 0, new_seen = 0, mid_write = 0;
  // -1: kill as soon as the temporary file appears (during the write).
  for (int delay_ms : {-1, -1, -1, 30, 300, 800, -1, -1}) {
    for (const auto& e : std::filesystem::directory_iterator(sub))
      std::filesystem::remove(e.path());
    std::ofstream(copy, std::ios::binary) << before;
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl(bin().c_str(), bin().c_str(), "index", "add", copy.c_str(), more.c_str(), "-q",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    bool exited = false;
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
      if (delay_ms >= 0 ? ms >= delay_ms : temp_exists()) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!exited) {
      mid_write += temp_exists() ? 1 : 0;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    const RunResult info = run(papersim("index info " + quote(copy)));
    ASSERT_EQ(info.exit_code, 0) << "index invalid after a kill (delay " << delay_ms << " ms)";
    if (read_file(copy) == before) {
      ++old_seen;
    } else {
      EXPECT_NE(info.out.find("documents         7,500"), std::string::npos) << info.out;
      ++new_seen;
    }
  }
  EXPECT_GT(old_seen, 0) << "every add finished before its kill: the test proves nothing";
  std::printf(
      "kills: %d left the old index (%d while the new file was being written), %d after "
      "the new one was in place\n",
      old_seen, mid_write, new_seen);
}

namespace {

// "engine memory     858.58 KiB (...)" of a summary, in bytes (-1 when absent).
double engine_memory(const std::string& err) {
  const std::size_t at = err.find("engine memory");
  if (at == std::string::npos) return -1;
  std::istringstream in(err.substr(at + 13));
  double v = 0;
  std::string unit;
  in >> v >> unit;
  const std::map<std::string, double> scale{
      {"B", 1}, {"KiB", 1024.0}, {"MiB", 1024.0 * 1024}, {"GiB", 1024.0 * 1024 * 1024}};
  return scale.count(unit) ? v * scale.at(unit) : -1;
}

}  // namespace

TEST(IndexOutOfCore, ReferencesLargerThanTheBudgetStreamThroughIt) {
  if (bin().empty()) GTEST_SKIP() << "PAPERSIM_BIN not set";
  // A saved index of 20,000 synthetic abstracts (its vectors alone several
  // times the budget), queried block by block in a 3 MiB engine budget: the
  // same output as without a budget, the engine within it; a budget below the
  // smallest tiles is a usage error that leaves an earlier output alone.
  TempDir t;
  std::string err;
  const std::string refs = quote(t / "refs.jsonl"), queries = quote(t / "q.jsonl");
  const std::string idx = quote(t / "r.psx");
  ASSERT_EQ(run_papersim("synth --docs 20000 --seed 21 -q -o " + refs, t), 0);
  ASSERT_EQ(run_papersim("synth --docs 300 --seed 22 -q -o " + queries, t), 0);
  ASSERT_EQ(run_papersim("index build " + refs + " -q -o " + idx, t), 0);
  constexpr double kBudget = 3.0 * 1024 * 1024;
  EXPECT_GT(static_cast<double>(std::filesystem::file_size(t / "r.psx")), 3 * kBudget);
  for (const std::string side : {" --index " + idx, " --against " + refs}) {
    const std::string common = "related " + queries + side + " -k 10 --backend cpu ";
    ASSERT_EQ(run_papersim(common + "-o " + quote(t / "a.jsonl"), t, &err), 0) << err;
    ASSERT_EQ(run_papersim(common + "--memory-budget 3M -o " + quote(t / "b.jsonl"), t, &err), 0)
        << err;
    const double used = engine_memory(err);
    EXPECT_GT(used, 0) << err;
    EXPECT_LE(used, kBudget) << err;
    const std::string a = read_file(t / "a.jsonl");
    EXPECT_EQ(lines(a).size(), 300u) << side;
    EXPECT_EQ(a, read_file(t / "b.jsonl")) << side;
  }
  const std::string out = t.write("out.jsonl", "earlier\n");
  EXPECT_EQ(run_papersim("related " + queries + " --index " + idx +
                             " -k 10 --backend cpu --memory-budget 64K -o " + quote(out),
                         t, &err),
            2);
  EXPECT_NE(err.find("--memory-budget"), std::string::npos) << err;
  EXPECT_EQ(read_file(out), "earlier\n");
}
