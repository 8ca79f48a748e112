// Synthetic corpora: determinism, valid records, planted duplicates that match
// the ground truth, fitted length statistics, gzip output.

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "papersim/error.hpp"
#include "papersim/synth.hpp"
#include "synth/generate.hpp"
#include "synth/model.hpp"

namespace {

using papersim::PlantedPair;
using papersim::SynthOptions;

std::string generate(const SynthOptions& o, std::vector<PlantedPair>* truth = nullptr) {
  std::string out;
  papersim::synthesize(
      o, [&](std::string_view s) { out.append(s); },
      [&](const PlantedPair& p) {
        if (truth) truth->push_back(p);
      });
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A strict parser for the one record shape the generator writes:
// {"id": "...", "title": "...", "abstract": "..."}. Returns false on any deviation.
struct Record {
  std::string id, title, abstract;
};
bool parse_string(const std::string& s, std::size_t& i, std::string& out) {
  if (i >= s.size() || s[i] != '"') return false;
  ++i;
  out.clear();
  while (i < s.size() && s[i] != '"') {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20) return false;  // raw control characters are invalid JSON
    if (c == '\\') {
      if (++i >= s.size()) return false;
      const char e = s[i];
      if (e == 'u') {
        if (i + 4 >= s.size()) return false;
        for (int k = 1; k <= 4; ++k)
          if (!std::isxdigit(static_cast<unsigned char>(s[i + k]))) return false;
        out += '?';
        i += 5;
        continue;
      }
      if (std::string("\"\\/bfnrt").find(e) == std::string::npos) return false;
      out += e;
      ++i;
      continue;
    }
    out += s[i++];
  }
  if (i >= s.size()) return false;
  ++i;
  return true;
}
bool parse_record(const std::string& s, Record& r) {
  std::size_t i = 0;
  auto lit = [&](const char* t) {
    const std::size_t n = std::char_traits<char>::length(t);
    if (s.compare(i, n, t) != 0) return false;
    i += n;
    return true;
  };
  std::string key;
  if (!lit("{")) return false;
  if (!parse_string(s, i, key) || key != "id" || !lit(": ") || !parse_string(s, i, r.id))
    return false;
  if (!lit(", ") || !parse_string(s, i, key) || key != "title" || !lit(": ") ||
      !parse_string(s, i, r.title))
    return false;
  if (!lit(", ") || !parse_string(s, i, key) || key != "abstract" || !lit(": ") ||
      !parse_string(s, i, r.abstract))
    return false;
  return lit("}") && i == s.size();
}

// Lowercased words, as scikit-learn's default token pattern sees them.
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> w;
  std::string cur;
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      w.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) w.push_back(cur);
  return w;
}

std::size_t levenshtein(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string read_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Inflate a whole .gz file, requiring exactly one gzip member that ends at the
// end of the file: readers that stop after the first member must see everything.
std::string gunzip_single_member(const std::string& gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[1 << 16];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END) << "inflate: " << rc;
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc == Z_OK);
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(zs.avail_in, 0u) << "data after the first gzip member";
  inflateEnd(&zs);
  return out;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

// Value of the piecewise-linear quantile function at probability p.
double quantile_of(const std::vector<double>& q, double p) {
  const double x = p * static_cast<double>(q.size() - 1);
  const auto i = static_cast<std::size_t>(x);
  if (i + 1 >= q.size()) return q.back();
  return q[i] + (x - static_cast<double>(i)) * (q[i + 1] - q[i]);
}

TEST(SynthGenerator, SameSeedSameBytesForAnyThreadCount) {
  SynthOptions o;
  o.docs = 4500;  // several chunks, the last one partial
  o.seed = 7;
  o.threads = 1;
  const std::string one = generate(o);
  o.threads = 2;
  const std::string two = generate(o);
  o.threads = 5;
  const std::string five = generate(o);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, five);
  o.seed = 8;
  EXPECT_NE(one, generate(o));
}

TEST(SynthGenerator, GzipBytesIndependentOfThreadsAndReadable) {
  SynthOptions o;
  o.docs = 3000;
  o.seed = 3;
  o.threads = 1;
  const std::string plain = generate(o);
  const std::string a = temp_path("synth_t1.jsonl.gz"), b = temp_path("synth_t3.jsonl.gz");
  const std::string ta = temp_path("synth_t1.truth.jsonl"),
                    tb = temp_path("synth_t3.truth.jsonl.gz");
  const auto stats = papersim::synthesize_to_file(o, a, ta);
  o.threads = 3;
  papersim::synthesize_to_file(o, b, tb);
  const std::string gz_a = read_binary(a), gz_b = read_binary(b);
  EXPECT_EQ(gz_a, gz_b);
  EXPECT_EQ(stats.out_bytes, gz_a.size());
  EXPECT_LT(gz_a.size(), plain.size() / 2);
  EXPECT_EQ(gunzip_single_member(gz_a), plain);
  EXPECT_EQ(stats.json_bytes, plain.size());
  // zlib's own gz reader agrees, and the gzipped truth equals the plain one.
  gzFile f = gzopen(a.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string via_gzread;
  char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) via_gzread.append(buf, n);
  gzclose(f);
  EXPECT_EQ(via_gzread, plain);
  EXPECT_EQ(gunzip_single_member(read_binary(tb)), read_binary(ta));
  EXPECT_FALSE(read_binary(ta).empty());
}

TEST(SynthGenerator, EmptyCorpusIsAValidGzipFile) {
  SynthOptions o;
  o.docs = 0;
  const std::string path = temp_path("synth_empty.jsonl.gz");
  papersim::synthesize_to_file(o, path);
  EXPECT_EQ(gunzip_single_member(read_binary(path)), "");
}

TEST(SynthGenerator, RecordsAreValidJsonWithSequentialIds) {
  SynthOptions o;
  o.docs = 2000;
  o.seed = 11;
  o.id_prefix = "x\"y-";  // a prefix that needs escaping stays valid JSON
  const auto lines = lines_of(generate(o));
  ASSERT_EQ(lines.size(), 2000u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Record r;
    ASSERT_TRUE(parse_record(lines[i], r)) << "line " << i + 1 << ": " << lines[i];
    char expect[32];
    std::snprintf(expect, sizeof expect, "x\"y-%07zu", i);
    EXPECT_EQ(r.id, expect);
    EXPECT_FALSE(r.title.empty());
    EXPECT_FALSE(r.abstract.empty());
    EXPECT_EQ(r.abstract.back(), '.');
  }
  // synth_document regenerates any single record identically.
  for (std::int64_t d : {0, 1, 999, 1999}) {
    const auto doc = papersim::synth_document(o, d);
    EXPECT_EQ(papersim::synth_json_line(doc), lines[static_cast<std::size_t>(d)] + "\n");
  }
}

TEST(SynthGenerator, PlantedDuplicatesAreEditedCopiesListedInTheTruth) {
  SynthOptions o;
  o.docs = 8000;
  o.seed = 5;
  o.dup_fraction = 0.05;
  std::vector<PlantedPair> truth;
  const auto lines = lines_of(generate(o, &truth));
  ASSERT_EQ(lines.size(), 8000u);
  EXPECT_EQ(truth.size(), papersim::synth_planted_pairs(o).size());

  std::vector<Record> recs(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) ASSERT_TRUE(parse_record(lines[i], recs[i]));

  std::int64_t copies = 0;
  std::set<std::int64_t> copy_docs;
  double rate_sum = 0.0, realized_sum = 0.0;
  for (std::size_t k = 0; k < truth.size(); ++k) {
    const PlantedPair& p = truth[k];
    ASSERT_LT(p.doc_a, p.doc_b);
    if (k) {
      const PlantedPair& q = truth[k - 1];
      EXPECT_TRUE(q.doc_a < p.doc_a || (q.doc_a == p.doc_a && q.doc_b < p.doc_b)) << "sorted";
    }
    const auto a = words_of(recs[p.doc_a].abstract), b = words_of(recs[p.doc_b].abstract);
    const std::size_t lev = levenshtein(a, b);
    // Every edit is one Levenshtein step, so the texts are at most `edits` apart;
    // they really differ unless no edit was drawn.
    EXPECT_LE(lev, static_cast<std::size_t>(p.edits)) << p.doc_a << " " << p.doc_b;
    if (p.edits >= 4) EXPECT_GT(lev, 0u);
    EXPECT_GE(p.edit_rate, p.siblings ? 2 * o.edit_rate_min : o.edit_rate_min);
    EXPECT_LE(p.edit_rate, p.siblings ? 2 * o.edit_rate_max : o.edit_rate_max);
    if (!p.title_changed) {
      EXPECT_EQ(recs[p.doc_a].title, recs[p.doc_b].title);
    }
    if (!p.siblings) {
      ++copies;
      EXPECT_EQ(p.source, p.doc_a);
      EXPECT_TRUE(copy_docs.insert(p.doc_b).second) << "a copy has one source";
      rate_sum += p.edit_rate * static_cast<double>(a.size());
      realized_sum += static_cast<double>(p.edits);
      // The copy is far closer to its source than to an unrelated document.
      const std::int64_t other = (p.doc_a + 1) % o.docs;
      const auto c = words_of(recs[other].abstract);
      if (copy_docs.count(other) == 0 && other != p.doc_b) EXPECT_GT(levenshtein(a, c), 2 * lev);
    } else {
      EXPECT_NE(p.source, p.doc_a);
    }
  }
  // The copy fraction and the realized edit count follow the options.
  const double fraction = static_cast<double>(copies) / static_cast<double>(o.docs);
  EXPECT_NEAR(fraction, o.dup_fraction, 4 * std::sqrt(o.dup_fraction / o.docs));
  EXPECT_NEAR(realized_sum / rate_sum, 1.0, 0.05);
  // Sources are originals: no copy is the source of another copy.
  for (const auto& p : truth) EXPECT_EQ(copy_docs.count(p.source), 0u);
  // Every document not in the truth as a copy is not a copy.
  for (std::int64_t d = 0; d < o.docs; ++d)
    EXPECT_EQ(papersim::synth::copy_source(o, d) >= 0, copy_docs.count(d) == 1) << d;
}

TEST(SynthGenerator, NoDuplicatesWhenFractionIsZero) {
  SynthOptions o;
  o.docs = 3000;
  o.dup_fraction = 0.0;
  std::vector<PlantedPair> truth;
  generate(o, &truth);
  EXPECT_TRUE(truth.empty());
}

TEST(SynthGenerator, LengthsFollowTheFittedDistribution) {
  SynthOptions o;
  o.docs = 4000;
  o.seed = 9;
  o.dup_fraction = 0.0;  // copies change lengths by their edits
  const auto lines = lines_of(generate(o));
  std::vector<double> abs_len, title_len;
  for (const auto& line : lines) {
    Record r;
    ASSERT_TRUE(parse_record(line, r));
    abs_len.push_back(static_cast<double>(words_of(r.abstract).size()));
    title_len.push_back(static_cast<double>(words_of(r.title).size()));
  }
  auto check = [](std::vector<double> v, const std::vector<double>& table, double tol) {
    std::sort(v.begin(), v.end());
    for (double p : {0.1, 0.25, 0.5, 0.75, 0.9}) {
      const double got = v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
      EXPECT_NEAR(got, quantile_of(table, p), tol) << "quantile " << p;
    }
    double mean = 0.0, table_mean = 0.0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    for (int i = 0; i < 10000; ++i) table_mean += quantile_of(table, (i + 0.5) / 10000.0);
    table_mean /= 10000.0;
    EXPECT_NEAR(mean, table_mean, 0.02 * table_mean);
  };
  check(abs_len, papersim::synth::abstract_length_quantiles(), 4.0);
  check(title_len, papersim::synth::title_length_quantiles(), 1.0);
}

TEST(SynthModel, WordsAreDistinctTokens) {
  std::set<std::string> seen;
  for (std::uint64_t r = 0; r < 200000; ++r) {
    const std::string w = papersim::synth::word(r);
    ASSERT_GE(w.size(), 2u);
    for (char c : w) ASSERT_TRUE(c >= 'a' && c <= 'z') << w;
    ASSERT_TRUE(seen.insert(w).second) << "rank " << r << " repeats " << w;
  }
  EXPECT_NE(papersim::synth::word(1ull << 40), papersim::synth::word((1ull << 40) - 1));
  std::string cap;
  papersim::synth::append_word(cap, 12345, true);
  EXPECT_TRUE(std::isupper(static_cast<unsigned char>(cap[0])));
}

TEST(SynthModel, RankSamplesFollowTheLaw) {
  const auto& model = papersim::synth::default_model();
  papersim::synth::Rng rng(42);
  const int n = 400000;
  int below10 = 0, below_knee = 0;
  const auto knee = static_cast<std::uint64_t>(model.params().knee);
  for (int i = 0; i < n; ++i) {
    const std::uint64_t r = model.sample_rank(rng);
    below10 += r < 10;
    below_knee += r < knee;
  }
  const double p10 = model.cdf(10), pk = model.cdf(knee);
  EXPECT_NEAR(below10 / static_cast<double>(n), p10, 4 * std::sqrt(p10 * (1 - p10) / n));
  EXPECT_NEAR(below_knee / static_cast<double>(n), pk, 4 * std::sqrt(pk * (1 - pk) / n));
  // The fitted law gives arXiv's shares: top 100 ranks ~38% of tokens, top 1000 ~72%.
  EXPECT_NEAR(model.cdf(100), 0.38, 0.03);
  EXPECT_NEAR(model.cdf(1000), 0.72, 0.03);
}

TEST(SynthModel, TopicWordsPermuteEachWindow) {
  const auto& model = papersim::synth::default_model();
  const auto& p = model.params();
  const auto lo = static_cast<std::uint64_t>(p.topic_start);
  const std::uint64_t hi = std::min<std::uint64_t>(lo << p.window_bits, p.topic_end);
  for (int t : {0, 7, p.topics - 1}) {
    std::set<std::uint64_t> image;
    for (std::uint64_t r = lo; r < hi; ++r) {
      const std::uint64_t w = model.topic_word(r, t);
      ASSERT_GE(w, lo);
      ASSERT_LT(w, hi);
      image.insert(w);
    }
    EXPECT_EQ(image.size(), hi - lo) << "topic " << t;
  }
  EXPECT_EQ(model.topic_word(3, 5), 3u);  // generic words are shared
  EXPECT_NE(model.topic_word(lo + 1, 1), model.topic_word(lo + 1, 2));
}

TEST(SynthOptionsValidation, BadValuesAreUsageErrors) {
  auto expect_bad = [](SynthOptions o) {
    EXPECT_THROW(papersim::synthesize(o, [](std::string_view) {}), papersim::UsageError);
  };
  SynthOptions o;
  o.docs = 10;
  o.docs = -1;
  expect_bad(o);
  o = SynthOptions{};
  o.dup_fraction = 1.0;
  expect_bad(o);
  o = SynthOptions{};
  o.edit_rate_min = 0.3;
  o.edit_rate_max = 0.2;
  expect_bad(o);
  o = SynthOptions{};
  o.title_edit_prob = 0.8;
  o.title_new_prob = 0.5;
  expect_bad(o);
  o = SynthOptions{};
  o.gzip_level = 10;
  expect_bad(o);
  o = SynthOptions{};
  o.docs = 5;
  EXPECT_THROW(papersim::synth_document(o, 5), papersim::UsageError);
}

TEST(SynthOutput, UnwritablePathNamesTheFile) {
  SynthOptions o;
  o.docs = 5;
  try {
    papersim::synthesize_to_file(o, "/nonexistent-dir/out.jsonl");
    FAIL() << "expected an error";
  } catch (const papersim::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/out.jsonl"), std::string::npos);
  }
}

}  // namespace
