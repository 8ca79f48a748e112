// The HTML report: hostile input stays text, the inline JSON round-trips, the
// histogram counts and cluster diffs are right, and the JSONL loader rebuilds the
// same data. With PAPERSIM_REPORT_OUT set, the reports are also written there for
// the headless-Chromium test (tests/browser/report_browser_test.py).

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "papersim/error.hpp"
#include "papersim/report.hpp"

namespace fs = std::filesystem;
using papersim::Cluster;
using papersim::Document;
using papersim::Neighbor;
using papersim::ReportData;
using papersim::ScoredPair;

namespace {

// Payloads that would run script or add markup if any text reached the page unescaped.
// Each one, if it executed, would change document.title: the browser test checks it did not.
const std::vector<std::string> kHostile = {
    "</script><script>document.title='PWNED-script'</script>",
    "<img src=x onerror=\"document.title='PWNED-img'\">",
    "\"><svg onload=\"document.title='PWNED-svg'\">",
    "<!-- <script>document.title='PWNED-comment'</script> -->",
    "' onmouseover='document.title=1' x='",
    "</textarea></title></style><b>bold?</b>",
    "line\u2028separator\u2029 and <\\/script> and \\u003c",
};

std::string render(const ReportData& data, const papersim::ReportOptions& options = {}) {
  std::ostringstream out;
  papersim::write_report(data, out, options);
  return out.str();
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

std::string json_blob(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const auto begin = html.find(open);
  EXPECT_NE(begin, std::string::npos);
  const auto start = begin + open.size();
  const auto end = html.find("</script>", start);
  EXPECT_NE(end, std::string::npos);
  return html.substr(start, end - start);
}

Document make_doc(std::int64_t i, std::string title, std::string abstract) {
  Document d;
  d.doc = i;
  d.id = "paper-" + std::to_string(i);
  d.source = "corpus.jsonl:" + std::to_string(i + 1);
  d.title = std::move(title);
  d.text = d.title + "\n" + abstract;
  return d;
}

// A small corpus in which every hostile payload appears in a title, an abstract,
// an id and a source, inside a duplicate cluster and in the top-k lists.
ReportData hostile_data() {
  ReportData data;
  data.summary.title = "papersim report <hostile> & \"quoted\"";
  data.summary.command = "papersim report '<script>x</script>'";
  data.summary.inputs = {"in<put>.jsonl"};
  data.summary.read_stats.files = 1;
  data.summary.read_stats.records = 12;
  data.summary.read_stats.kept = 10;
  data.summary.read_stats.skipped["malformed <JSON>"] = 2;
  data.summary.read_stats.messages = {"in<put>.jsonl:3: malformed <JSON>"};
  data.summary.options = {{"k", "3"}, {"stop_words", "<english>"}};
  data.summary.backend = "cpu <test>";
  data.summary.timings = {{"read", 0.01}, {"similarity", 0.5}};
  const std::string base =
      "We study exact all-pairs cosine similarity of TF-IDF vectors for $\\mathcal{O}(n^2)$ "
      "pairs & show that a <dense> head block plus a sparse tail is fast on GPUs \xE2\x80\x94 "
      "including \xCE\xB1-\xCE\xB2 tests.";
  for (std::size_t i = 0; i < kHostile.size(); ++i) {
    auto d = make_doc(static_cast<std::int64_t>(i), "Hostile title " + kHostile[i],
                      base + " Payload: " + kHostile[i]);
    d.id = "id-" + kHostile[i];
    d.source = "src-" + kHostile[i];
    data.docs.push_back(d);
  }
  // Doc 7 revises doc 0's abstract; 8 copies doc 1; 9 is unrelated.
  auto revised = data.docs[0];
  revised.doc = 7;
  revised.id = "revised-of-0";
  revised.text =
      revised.title + "\n" +
      "We study exact all-pairs cosine similarity of TF-IDF vectors for $\\mathcal{O}(n^2)$ "
      "pairs & prove that a <dense> head block plus a sparse tail is very fast on GPUs "
      "\xE2\x80\x94 including \xCE\xB1-\xCE\xB2 tests. Payload: " +
      kHostile[0];
  data.docs.push_back(revised);
  auto copy = data.docs[1];
  copy.doc = 8;
  copy.id = "copy-of-1";
  data.docs.push_back(copy);
  data.docs.push_back(make_doc(9, "An unrelated paper on graphs", "Nothing in common at all."));

  data.threshold = 0.8f;
  data.pairs = {{0, 7, 0.93f}, {1, 8, 1.0f}, {0, 2, 0.81f}};
  Cluster c1;
  c1.id = 0;
  c1.representative = 0;
  c1.members = {{0, 1.0f}, {2, 0.81f}, {7, 0.93f}};
  Cluster c2;
  c2.id = 1;
  c2.representative = 1;
  c2.members = {{1, 1.0f}, {8, 1.0f}};
  data.clusters = {c1, c2};
  data.topk.resize(data.docs.size());
  for (std::size_t i = 0; i < data.docs.size(); ++i) {
    for (std::size_t j = 1; j <= 3; ++j) {
      const auto other = static_cast<std::int64_t>((i + j) % data.docs.size());
      data.topk[i].push_back({other, 0.5f - 0.1f * static_cast<float>(j)});
    }
  }
  data.topk[0][0] = {7, 0.93f};
  data.topk[7][0] = {0, 0.93f};
  data.topk[1][0] = {8, 1.0f};
  data.topk[8][0] = {1, 1.0f};
  data.topk[9].clear();  // A document without neighbours.
  return data;
}

void maybe_write(const std::string& name, const std::string& html) {
  const char* dir = std::getenv("PAPERSIM_REPORT_OUT");
  if (!dir || !*dir) return;
  fs::create_directories(dir);
  std::ofstream out(fs::path(dir) / name, std::ios::binary);
  out << html;
  ASSERT_TRUE(out.good()) << "cannot write " << (fs::path(dir) / name);
}

}  // namespace

TEST(ReportRender, HostileTextNeverBecomesMarkup) {
  const ReportData data = hostile_data();
  const std::string html = render(data);
  // Outside the JSON data block no payload may appear raw; inside it quotes are
  // inert (JSON escapes '"' and a single quote means nothing there) but < > are not.
  const std::string blob_text = json_blob(html);
  std::string markup = html;
  markup.erase(markup.find(blob_text), blob_text.size());
  for (const auto& payload : kHostile) {
    if (payload.find_first_of("<>\"'") != std::string::npos) {
      EXPECT_EQ(markup.find(payload), std::string::npos) << "raw payload in page: " << payload;
    }
    if (payload.find_first_of("<>") != std::string::npos) {
      EXPECT_EQ(html.find(payload), std::string::npos) << "raw payload in page: " << payload;
    }
  }
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<svg onload"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold?</b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=&quot;document.title=&#39;PWNED-img&#39;&quot;&gt;"),
            std::string::npos)
      << "the payload should be shown as text";
  // Exactly our two script elements and one style element exist.
  EXPECT_EQ(count(html, "<script"), 2u);
  EXPECT_EQ(count(html, "</script>"), 2u);
  EXPECT_EQ(count(html, "<style"), 1u);
  EXPECT_EQ(count(html.substr(0, html.find("</head>")), "<title>"), 1u);
  EXPECT_NE(html.find("<title>papersim report &lt;hostile&gt; &amp; &quot;quoted&quot;</title>"),
            std::string::npos);
  // The raw U+2028 may appear in HTML text but never inside the script data.
  const std::string blob = json_blob(html);
  EXPECT_EQ(blob.find('<'), std::string::npos);
  EXPECT_EQ(blob.find('>'), std::string::npos);
  EXPECT_EQ(blob.find("\xE2\x80\xA8"), std::string::npos);
  EXPECT_EQ(blob.find("\xE2\x80\xA9"), std::string::npos);
  // A Content-Security-Policy forbids any script but ours.
  EXPECT_NE(html.find("default-src 'none'; script-src 'sha256-"), std::string::npos);
}

TEST(ReportRender, InlineJsonRoundTrips) {
  const ReportData data = hostile_data();
  const std::string blob = json_blob(render(data));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_FALSE(parser.parse(blob).get(root)) << "inline JSON does not parse";
  simdjson::dom::array docs = root["docs"].get_array();
  ASSERT_EQ(docs.size(), data.docs.size());
  std::size_t i = 0;
  for (simdjson::dom::element d : docs) {
    simdjson::dom::array row = d.get_array();
    EXPECT_EQ(std::string(std::string_view(row.at(0))), data.docs[i].id);
    EXPECT_EQ(std::string(std::string_view(row.at(1))), data.docs[i].title);
    EXPECT_EQ(std::string(std::string_view(row.at(2))), data.docs[i].source);
    ++i;
  }
  const std::int64_t scale = root["scale"].get_int64();
  simdjson::dom::array nb = root["nb"].get_array();
  ASSERT_EQ(nb.size(), data.topk.size());
  i = 0;
  for (simdjson::dom::element list : nb) {
    simdjson::dom::array flat = list.get_array();
    ASSERT_EQ(flat.size(), 2 * data.topk[i].size());
    for (std::size_t j = 0; j < data.topk[i].size(); ++j) {
      EXPECT_EQ(std::int64_t(flat.at(2 * j)), data.topk[i][j].doc);
      EXPECT_NEAR(double(std::int64_t(flat.at(2 * j + 1))) / scale, data.topk[i][j].score,
                  0.5 / scale);
    }
    ++i;
  }
  simdjson::dom::array best = root["best"].get_array();
  ASSERT_EQ(best.size(), data.docs.size());
  EXPECT_EQ(std::int64_t(best.at(9)), -1) << "no neighbour is -1";
  EXPECT_EQ(std::int64_t(best.at(1)), scale);
}

TEST(ReportRender, HistogramCountsEveryDocumentOnce) {
  ReportData data;
  for (int i = 0; i < 10; ++i) data.docs.push_back(make_doc(i, "t" + std::to_string(i), "x"));
  data.best_scores = {0.05f, 0.05f, 0.05f, 0.5f, 0.99f, 1.0f, 1.0f, 0.8f, -1.0f, 0.79f};
  data.threshold = 0.8f;
  papersim::ReportOptions opt;
  opt.histogram_bins = 10;
  const std::string html = render(data, opt);
  // Bar tooltips carry the counts; the linear and log groups both have them.
  EXPECT_EQ(count(html,
                  "<title>0.00\xE2\x80\x93"
                  "0.10: 3 documents</title>"),
            2u);
  EXPECT_EQ(count(html,
                  "<title>0.50\xE2\x80\x93"
                  "0.60: 1 documents</title>"),
            2u);
  EXPECT_EQ(count(html,
                  "<title>0.70\xE2\x80\x93"
                  "0.80: 1 documents</title>"),
            2u);
  EXPECT_EQ(count(html,
                  "<title>0.80\xE2\x80\x93"
                  "0.90: 1 documents</title>"),
            2u);
  EXPECT_EQ(count(html,
                  "<title>0.90\xE2\x80\x93"
                  "1.00: 3 documents</title>"),
            2u)
      << "1.0 is in the last bin";
  EXPECT_EQ(count(html, "documents</title>"), 10u);
  EXPECT_NE(html.find("threshold 0.80: 4 documents at or above"), std::string::npos);
  EXPECT_NE(html.find("1 documents have no neighbour"), std::string::npos);
}

TEST(ReportRender, HistogramStartsLogarithmicWhenOneBinDominates) {
  ReportData data;
  for (int i = 0; i < 40; ++i) data.docs.push_back(make_doc(i, "t", "x"));
  data.best_scores.assign(40, 1.0f);
  for (int i = 0; i < 6; ++i) data.best_scores[i] = 0.2f;
  EXPECT_NE(render(data).find("id=\"logscale\" checked"), std::string::npos) << "34 vs 6";
  for (int i = 0; i < 10; ++i) data.best_scores[i] = 0.2f;
  EXPECT_EQ(render(data).find("id=\"logscale\" checked"), std::string::npos) << "30 vs 10";
}

TEST(ReportRender, ClusterDiffMarksChangedWords) {
  const ReportData data = hostile_data();
  const std::string html = render(data);
  // Largest cluster first, with its members' ids and sources.
  const auto c0 = html.find("id=\"cluster-0\"");
  const auto c1 = html.find("id=\"cluster-1\"");
  ASSERT_NE(c0, std::string::npos);
  ASSERT_NE(c1, std::string::npos);
  EXPECT_LT(c0, c1);
  EXPECT_NE(html.find("<code>revised-of-0</code>", c0), std::string::npos);
  // Doc 7 vs representative 0: "show" -> "prove", "fast" -> "very fast".
  EXPECT_NE(html.find("<del>show</del>"), std::string::npos);
  EXPECT_NE(html.find("<ins>prove</ins>"), std::string::npos);
  EXPECT_NE(html.find("<ins>very</ins>"), std::string::npos);
  EXPECT_NE(html.find("1 words removed, 2 added"), std::string::npos);
  // Doc 8 copies doc 1 exactly.
  EXPECT_NE(html.find("identical text", c1), std::string::npos);
}

TEST(ReportRender, DiffBudgetFallsBackToPlainSideBySide) {
  ReportData data;
  std::string a, b;
  for (int i = 0; i < 300; ++i) {
    a += "a" + std::to_string(i) + " ";
    b += "b" + std::to_string(i) + " ";
  }
  data.docs = {make_doc(0, "T", a), make_doc(1, "T", b)};
  data.threshold = 0.5f;
  data.pairs = {{0, 1, 0.9f}};
  Cluster c;
  c.representative = 0;
  c.members = {{0, 1.0f}, {1, 0.9f}};
  data.clusters = {c};
  papersim::ReportOptions opt;
  opt.max_diff_edits = 50;
  const std::string html = render(data, opt);
  EXPECT_NE(html.find("too different to align word by word"), std::string::npos);
  EXPECT_NE(html.find("b299"), std::string::npos);
  opt.max_diff_words = 10;
  opt.max_diff_edits = 100;
  const std::string cut = render(data, opt);
  EXPECT_NE(cut.find("compared the first 10 words"), std::string::npos);
  EXPECT_EQ(cut.find("b299"), std::string::npos);
}

TEST(ReportRender, EmptyAndPartialReportsRender) {
  ReportData empty;
  const std::string html = render(empty);
  EXPECT_NE(html.find("\"docs\":[]"), std::string::npos);
  EXPECT_NE(html.find("No duplicate threshold was given"), std::string::npos);
  ReportData pairs_only = hostile_data();
  pairs_only.topk.clear();
  const std::string p = render(pairs_only);
  EXPECT_NE(p.find("\"nb\":null"), std::string::npos);
  // Best scores then come from the pairs: doc 1 and its copy 8 score 1.0, doc 9 has none.
  EXPECT_NE(p.find("\"best\":[9300,10000,8100,-1,-1,-1,-1,9300,10000,-1]"), std::string::npos);
}

TEST(ReportRender, RejectsInconsistentData) {
  ReportData data;
  data.docs = {make_doc(0, "a", "x"), make_doc(1, "b", "y")};
  data.pairs = {{0, 5, 0.9f}};
  EXPECT_THROW(render(data), papersim::Error);
  data.pairs.clear();
  data.topk.resize(3);
  EXPECT_THROW(render(data), papersim::Error);
}

// The triage view (papersim check): first on the page, in the order given, each document
// beside its best match with the diff; the summary counts submissions apart.
TEST(ReportRender, TriageViewListsSubmissionsInOrderWithTheirBestMatch) {
  ReportData data;
  data.docs = {make_doc(0, "Sub zero", "alpha beta gamma delta"),
               make_doc(1, "Sub one", "one two three four"),
               make_doc(2, "Sub two", "unrelated words only here"),
               make_doc(3, "Pub three", "alpha beta gamma epsilon"),
               make_doc(4, "Pub four", "one two three four")};
  data.queries = 3;
  data.threshold = 0.5f;
  data.pairs = {{0, 3, 0.75f}, {1, 4, 1.0f}};
  data.triage = {{1, 4, 1.0f, 1, true}, {0, 3, 0.75f, 1, true}};
  papersim::ReportOptions opt;
  opt.max_diff_clusters = 1;  // the second submission is listed, not diffed
  const std::string html = render(data, opt);
  const auto section = html.find("<section id=\"triage\"><h2>Submissions to look at (2)</h2>");
  ASSERT_NE(section, std::string::npos);
  EXPECT_LT(section, html.find("<section id=\"summary\">"));
  EXPECT_LT(html.find("Sub one", section), html.find("Sub zero", section));
  EXPECT_NE(html.find("id=\"triage-1\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"triage-0\""), std::string::npos) << "beyond max_diff_clusters";
  EXPECT_NE(html.find("1 more submissions are listed"), std::string::npos);
  EXPECT_NE(html.find("vs best match #4"), std::string::npos);
  EXPECT_NE(html.find("<div class=\"big\">3</div><div>submissions"), std::string::npos);
  EXPECT_NE(html.find("<div class=\"big\">2</div><div>published papers"), std::string::npos);
  EXPECT_NE(html.find("Submissions with a match</th><td>2 of 3"), std::string::npos);
  data.triage.push_back({2, 7, 0.6f, 1, false});
  EXPECT_THROW(render(data), papersim::Error);
}

TEST(ReportRender, DocumentsWithoutTextAreNotDiffed) {
  // check --index: published papers come from a saved index, which stores no text;
  // two of them are not "identical", and none is shown as all words removed.
  ReportData data;
  data.docs = {make_doc(0, "Sub zero", "alpha beta gamma delta"), make_doc(1, "Pub one", ""),
               make_doc(2, "Pub one again", "")};  // (make_doc adds the title: cleared below)
  data.docs[1].text.clear();
  data.docs[2].text.clear();
  data.queries = 1;
  data.threshold = 0.5f;
  data.pairs = {{0, 1, 0.9f}, {0, 2, 0.9f}, {1, 2, 1.0f}};
  papersim::Cluster c;
  c.id = 0;
  c.representative = 1;  // a published paper: both diffs lack a text
  c.members = {{0, 0.9f}, {1, 1.0f}, {2, 1.0f}};
  data.clusters = {c};
  data.triage = {{0, 1, 0.9f, 2, true}};
  const std::string html = render(data);
  EXPECT_GE(count(html, "no text comparison: a saved index"), 2u);
  EXPECT_EQ(html.find("identical text"), std::string::npos);
  EXPECT_EQ(html.find("words removed"), std::string::npos);
  EXPECT_EQ(html.find("<del>alpha"), std::string::npos);
}

TEST(ReportRender, ClustersBeyondTheCapGoToTheDataBlob) {
  papersim::ReportOptions opt;
  opt.max_diff_clusters = 1;
  const std::string html = render(hostile_data(), opt);
  EXPECT_NE(html.find("id=\"cluster-0\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"cluster-1\""), std::string::npos) << "cluster 1 is left to the script";
  EXPECT_NE(html.find("1 smaller clusters"), std::string::npos);
  EXPECT_NE(json_blob(html).find("\"cl\":[[1,1,1,-1,8,10000]]"), std::string::npos);
  opt.max_diff_clusters = 0;
  EXPECT_NE(json_blob(render(hostile_data(), opt))
                .find("\"cl\":[[0,0,0,-1,2,8100,7,9300],[1,1,1,-1,8,10000]]"),
            std::string::npos);
  EXPECT_NE(json_blob(render(hostile_data())).find("\"cl\":[]"), std::string::npos);
}

TEST(ReportRender, WritesReportsForTheBrowserTest) {
  if (!std::getenv("PAPERSIM_REPORT_OUT")) GTEST_SKIP() << "PAPERSIM_REPORT_OUT not set";
  maybe_write("hostile.html", render(hostile_data()));
  // The same data with every cluster listed by the script instead of as markup.
  papersim::ReportOptions lazy;
  lazy.max_diff_clusters = 0;
  maybe_write("hostile-lazy.html", render(hostile_data(), lazy));
}

// ------------------------------------------------------------------ loader

namespace {

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("papersim_report_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  fs::path path_;
};

ReportData five_docs() {
  ReportData data;
  for (int i = 0; i < 5; ++i) data.docs.push_back(make_doc(i, "Title " + std::to_string(i), "x"));
  return data;
}

}  // namespace

TEST(ReportLoad, RebuildsPairsClustersAndTopk) {
  TempDir dir;
  const auto pairs = dir.write(
      "pairs.jsonl",
      "{\"doc_a\":0,\"id_a\":\"paper-0\",\"title_a\":\"t\",\"doc_b\":3,\"id_b\":\"paper-3\","
      "\"title_b\":\"t\",\"score\":0.9}\n"
      "\n"
      "{\"doc_a\":3,\"id_a\":\"paper-3\",\"doc_b\":4,\"id_b\":\"paper-4\",\"score\":0.85}\n"
      "{\"doc_a\":1,\"id_a\":\"paper-1\",\"doc_b\":2,\"id_b\":\"paper-2\",\"score\":1}\n");
  const auto related = dir.write(
      "related.jsonl",
      "{\"doc\":0,\"id\":\"paper-0\",\"title\":\"t\",\"neighbors\":[{\"doc\":3,\"id\":\"paper-3\","
      "\"title\":\"t\",\"score\":0.9},{\"doc\":4,\"id\":\"paper-4\",\"score\":0.2}]}\n"
      "{\"doc\":2,\"id\":\"paper-2\",\"neighbors\":[{\"doc\":1,\"id\":\"paper-1\",\"score\":1.0}]}"
      "\n"
      "{\"doc\":4,\"id\":\"paper-4\",\"neighbors\":[]}\n");
  ReportData data = five_docs();
  papersim::load_report_inputs(pairs, related, &data);
  ASSERT_EQ(data.pairs.size(), 3u);
  EXPECT_EQ(data.pairs[0].a, 0);
  EXPECT_EQ(data.pairs[1].a, 1);
  EXPECT_FLOAT_EQ(data.threshold, 0.85f);
  ASSERT_EQ(data.clusters.size(), 2u);
  // {0,3,4}: edge sums 0.9, 1.75, 0.85 -> representative 3; 0 and 4 are direct neighbours of 3.
  EXPECT_EQ(data.clusters[0].id, 0);
  EXPECT_EQ(data.clusters[0].representative, 3);
  ASSERT_EQ(data.clusters[0].members.size(), 3u);
  EXPECT_EQ(data.clusters[0].members[0].doc, 0);
  EXPECT_FLOAT_EQ(data.clusters[0].members[0].score_to_representative, 0.9f);
  EXPECT_FLOAT_EQ(data.clusters[0].members[2].score_to_representative, 0.85f);
  EXPECT_EQ(data.clusters[1].id, 1);
  EXPECT_EQ(data.clusters[1].representative, 1) << "tie broken by lower doc";
  ASSERT_EQ(data.topk.size(), 5u);
  ASSERT_EQ(data.topk[0].size(), 2u);
  EXPECT_EQ(data.topk[0][1].doc, 4);
  EXPECT_TRUE(data.topk[1].empty());
  ASSERT_EQ(data.best_scores.size(), 5u);
  EXPECT_FLOAT_EQ(data.best_scores[0], 0.9f);
  EXPECT_FLOAT_EQ(data.best_scores[4], -1.0f);
  EXPECT_NO_THROW(render(data));
}

TEST(ReportLoad, ExactScoreToRepresentativeFromTheMatrix) {
  TempDir dir;
  // Docs 0-1 and 1-2 are pairs, 0-2 is not: the score 0 -> representative 1 is an edge,
  // but with the matrix every member's score is recomputed.
  const auto pairs = dir.write("pairs.jsonl",
                               "{\"doc_a\":0,\"doc_b\":1,\"score\":0.8}\n"
                               "{\"doc_a\":1,\"doc_b\":2,\"score\":0.8}\n");
  papersim::CsrMatrix x;
  x.rows = 5;
  x.cols = 2;
  x.indptr = {0, 1, 3, 4, 4, 4};
  x.indices = {0, 0, 1, 1};
  x.data = {1.0f, 0.6f, 0.8f, 1.0f};
  ReportData data = five_docs();
  papersim::load_report_inputs(pairs, "", &data, &x);
  ASSERT_EQ(data.clusters.size(), 1u);
  EXPECT_EQ(data.clusters[0].representative, 1);
  EXPECT_FLOAT_EQ(data.clusters[0].members[0].score_to_representative, 0.6f);
  EXPECT_FLOAT_EQ(data.clusters[0].members[2].score_to_representative, 0.8f);
  EXPECT_TRUE(data.topk.empty());
  EXPECT_TRUE(data.best_scores.empty());
}

TEST(ReportLoad, BadLinesNameFileAndLine) {
  TempDir dir;
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"{\"doc_a\":0,\"doc_b\":1,\"score\":0.9}\n{\"doc_a\":0,", ":2: malformed JSON"},
      {"{\"doc_a\":0,\"doc_b\":9,\"score\":0.9}\n", ":1: \"doc_b\" 9 is out of range"},
      {"{\"doc_a\":0,\"id_a\":\"other\",\"doc_b\":1,\"score\":0.9}\n",
       "has id \"other\" here but \"paper-0\""},
      {"{\"doc_a\":1,\"doc_b\":0,\"score\":0.9}\n", ":1: expected doc_a < doc_b"},
      {"{\"doc_a\":0,\"doc_b\":1,\"score\":1.5}\n", "outside [0, 1]"},
      {"{\"doc_a\":0,\"doc_b\":1}\n", "missing or non-numeric \"score\""},
      {"[1,2]\n", ":1: expected a JSON object"},
  };
  for (const auto& c : cases) {
    const auto path = dir.write("bad.jsonl", c.text);
    ReportData data = five_docs();
    try {
      papersim::load_report_inputs(path, "", &data);
      ADD_FAILURE() << "no error for " << c.text;
    } catch (const papersim::InputError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(path, 0), 0u) << what;
      EXPECT_NE(what.find(c.message), std::string::npos) << what;
    }
  }
  ReportData data = five_docs();
  const auto related =
      dir.write("related.jsonl", "{\"doc\":1,\"neighbors\":[{\"doc\":1,\"score\":1}]}\n");
  EXPECT_THROW(papersim::load_report_inputs("", related, &data), papersim::InputError);
  EXPECT_THROW(papersim::load_report_inputs(dir.write("x", "") + ".missing", "", &data),
               papersim::InputError);
}

// ------------------------------------------------------------------- scale

// Not a test: writes a synthetic report of PAPERSIM_REPORT_DOCS documents (default
// 100,000) with k = 10 to PAPERSIM_REPORT_OUT and prints its size and write time.
// Run with --gtest_also_run_disabled_tests --gtest_filter='*Large*'.
TEST(ReportScale, DISABLED_LargeSyntheticReport) {
  const char* n_env = std::getenv("PAPERSIM_REPORT_DOCS");
  const std::int64_t n = n_env ? std::atoll(n_env) : 100000;
  const std::int64_t k = 10;
  std::mt19937_64 rng(7);
  std::vector<std::string> vocab;
  for (int i = 0; i < 5000; ++i) {
    std::string w;
    const int len = 3 + static_cast<int>(rng() % 8);
    for (int c = 0; c < len; ++c) w.push_back(static_cast<char>('a' + rng() % 26));
    vocab.push_back(w);
  }
  auto words = [&](int count) {
    std::string s;
    for (int i = 0; i < count; ++i) {
      if (i) s.push_back(' ');
      s += vocab[rng() % vocab.size()];
    }
    return s;
  };
  ReportData data;
  data.docs.reserve(static_cast<std::size_t>(n));
  // Real abstracts: ~10-word titles, ~150-200-word abstracts; 5% of documents are
  // copies (half exact, half with a few edited words) of an earlier one.
  for (std::int64_t i = 0; i < n; ++i) {
    Document d;
    d.doc = i;
    d.id = "2503." + std::to_string(10000 + i);
    d.source = "synthetic.jsonl:" + std::to_string(i + 1);
    if (i > 0 && rng() % 20 == 0) {
      const auto& orig = data.docs[rng() % static_cast<std::uint64_t>(i)];
      d.title = orig.title;
      d.text = orig.text;
      if (rng() % 2) d.text += " " + words(8);
      data.threshold = 0.8f;
      data.pairs.push_back({orig.doc, i, 0.9f + 0.1f * static_cast<float>(rng() % 100) / 100.0f});
    } else {
      d.title = words(10);
      d.text = d.title + "\n" + words(150 + static_cast<int>(rng() % 60));
    }
    data.docs.push_back(std::move(d));
  }
  // Pairs are (orig, copy); chains make larger clusters, so group them by root.
  std::vector<std::int64_t> root(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) root[i] = i;
  for (const auto& p : data.pairs) root[p.b] = root[p.a];
  std::vector<std::vector<std::int64_t>> groups(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) groups[root[i]].push_back(i);
  for (std::int64_t i = 0; i < n; ++i) {
    if (groups[i].size() < 2) continue;
    Cluster c;
    c.id = i;
    c.representative = i;
    for (auto m : groups[i]) c.members.push_back({m, m == i ? 1.0f : 0.95f});
    data.clusters.push_back(std::move(c));
  }
  std::stable_sort(
      data.clusters.begin(), data.clusters.end(),
      [](const Cluster& a, const Cluster& b) { return a.members.size() > b.members.size(); });
  data.topk.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    float s = 0.15f + 0.4f * static_cast<float>(rng() % 1000) / 1000.0f;
    for (std::int64_t j = 0; j < k; ++j) {
      data.topk[i].push_back({static_cast<std::int64_t>(rng() % n), s});
      s *= 0.97f;
    }
  }
  for (const auto& p : data.pairs) {
    data.topk[p.a][0] = {p.b, p.score};
    data.topk[p.b][0] = {p.a, p.score};
  }
  data.summary.title = "papersim report (synthetic, " + std::to_string(n) + " documents)";
  const char* dir = std::getenv("PAPERSIM_REPORT_OUT");
  const fs::path out_path = fs::path(dir && *dir ? dir : ".") / "large.html";
  fs::create_directories(out_path.parent_path());
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::ofstream out(out_path, std::ios::binary);
    papersim::write_report(data, out);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("large report: %lld docs, k=%lld, %zu pairs, %zu clusters -> %s: %.1f MB in %.2f s\n",
              static_cast<long long>(n), static_cast<long long>(k), data.pairs.size(),
              data.clusters.size(), out_path.c_str(),
              static_cast<double>(fs::file_size(out_path)) / 1e6, seconds);
}
