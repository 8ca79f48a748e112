// Parity with scikit-learn's TfidfVectorizer on real text: for several option
// sets, on the seeds pages and on the first rows of arxiv-daily, papersim must
// produce the same vocabulary, the same sparsity pattern and every value within
// 1e-6. The reference comes from tests/parity/sklearn_reference.py run with
// PAPERSIM_PYTHON; the test skips when that Python or the data is missing.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/util.hpp"
#include "papersim/tfidf.hpp"

namespace fs = std::filesystem;
using papersim::CsrMatrix;
using papersim::DfBound;
using papersim::Norm;
using papersim::StripAccents;
using papersim::TfidfModel;
using papersim::TfidfOptions;

namespace {

constexpr int kArxivRows = 3000;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Length-prefixed texts, the format sklearn_reference.py reads and writes.
void write_texts(const fs::path& p, const std::vector<std::string>& texts) {
  std::ofstream out(p, std::ios::binary);
  for (const auto& t : texts) out << t.size() << '\n' << t << '\n';
}

std::vector<std::string> read_texts(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::string> texts;
  std::string header;
  while (std::getline(in, header)) {
    std::string t(std::stoull(header), '\0');
    in.read(t.data(), static_cast<std::streamsize>(t.size()));
    in.get();
    texts.push_back(std::move(t));
  }
  return texts;
}

// Runs a shell command; returns its combined output when it fails.
bool run(const std::string& command, const fs::path& log, std::string* failure) {
  const int rc = std::system((command + " > '" + log.string() + "' 2>&1").c_str());
  if (rc == 0) return true;
  *failure = "command failed (" + std::to_string(rc) + "): " + command + "\n" + read_file(log);
  return false;
}

struct OptionSet {
  std::string name;
  TfidfOptions options;
  std::string json;  // The same options as TfidfVectorizer keyword arguments.
};

// Largest n <= target such that the n-th and (n+1)-th highest corpus counts
// differ, so max_features has no tie to break (scikit-learn's is unspecified).
std::int64_t untied_max_features(const std::vector<std::string>& texts, std::int64_t target) {
  TfidfOptions counts;
  counts.use_idf = false;
  counts.norm = Norm::kNone;
  const CsrMatrix x = papersim::fit_transform(texts, counts, nullptr);
  std::vector<double> tf(x.cols, 0.0);
  for (std::int64_t k = 0; k < x.nnz(); ++k) tf[x.indices[k]] += x.data[k];
  std::sort(tf.rbegin(), tf.rend());
  for (std::int64_t n = std::min<std::int64_t>(target, x.cols - 1); n > 1; --n)
    if (tf[n - 1] != tf[n]) return n;
  return 1;
}

std::vector<OptionSet> option_sets(const std::vector<std::string>& texts) {
  std::vector<OptionSet> sets;
  const auto add = [&](std::string name, std::string json, auto tweak) {
    TfidfOptions o;
    tweak(o);
    o.threads = 1 + static_cast<int>(sets.size() % 3);  // 1, 2 and 3 workers: every merge path.
    sets.push_back({std::move(name), std::move(o), std::move(json)});
  };
  add("defaults", "{}", [](TfidfOptions&) {});
  add("english_sublinear", R"({"stop_words": "english", "sublinear_tf": true})",
      [](TfidfOptions& o) {
        o.stop_words = papersim::english_stop_words();
        o.sublinear_tf = true;
      });
  add("ngram12_df", R"({"ngram_range": [1, 2], "min_df": 2, "max_df": 0.9})", [](TfidfOptions& o) {
    o.ngram_max = 2;
    o.min_df = DfBound::count(2);
    o.max_df = DfBound::fraction(0.9);
  });
  add("binary_l1_nosmooth", R"({"binary": true, "norm": "l1", "smooth_idf": false})",
      [](TfidfOptions& o) {
        o.binary = true;
        o.norm = Norm::kL1;
        o.smooth_idf = false;
      });
  add("accents_unicode", R"({"strip_accents": "unicode"})",
      [](TfidfOptions& o) { o.strip_accents = StripAccents::kUnicode; });
  add("accents_ascii_nolower", R"({"strip_accents": "ascii", "lowercase": false})",
      [](TfidfOptions& o) {
        o.strip_accents = StripAccents::kAscii;
        o.lowercase = false;
      });
  const std::int64_t mf = untied_max_features(texts, 1000);
  add("max_features", "{\"max_features\": " + std::to_string(mf) + "}",
      [mf](TfidfOptions& o) { o.max_features = mf; });
  add("counts_ngram23",
      R"({"ngram_range": [2, 3], "use_idf": false, "norm": null, "min_df": 0.001, "max_df": 40, "stop_words": ["of", "the", "and"]})",
      [](TfidfOptions& o) {
        o.ngram_min = 2;
        o.ngram_max = 3;
        o.use_idf = false;
        o.norm = Norm::kNone;
        o.min_df = DfBound::fraction(0.001);
        o.max_df = DfBound::count(40);
        o.stop_words = {"of", "the", "and"};
      });
  add("single_chars_sublinear_binary",
      R"({"token_pattern": "(?u)\\b\\w+\\b", "sublinear_tf": true, "binary": true, "norm": "l2"})",
      [](TfidfOptions& o) {
        o.token_pattern = R"((?u)\b\w+\b)";
        o.sublinear_tf = true;
        o.binary = true;
      });
  return sets;
}

struct Reference {
  std::vector<std::string> vocab;
  std::vector<double> idf;
  std::int64_t rows = 0, cols = 0, nnz = 0;
  std::vector<std::int64_t> indptr;
  std::vector<std::int64_t> indices;
  std::vector<double> data;
};

template <class T>
std::vector<T> parse_numbers(const std::string& line) {
  std::vector<T> v;
  std::istringstream in(line);
  T x;
  while (in >> x) v.push_back(x);
  return v;
}

Reference read_reference(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  Reference r;
  std::string line, word;
  std::getline(in, line);
  std::int64_t n = 0;
  std::istringstream(line) >> word >> n;
  if (word != "vocab") throw std::runtime_error(p.string() + ": expected vocab");
  r.vocab.resize(n);
  for (auto& term : r.vocab) std::getline(in, term);
  std::getline(in, line);
  std::istringstream head(line);
  head >> word;
  if (word == "idf") {
    std::getline(in, line);
    r.idf = parse_numbers<double>(line);
    std::getline(in, line);
    std::istringstream(line) >> word;
  }
  std::istringstream(line) >> word >> r.rows >> r.cols >> r.nnz;
  if (word != "csr") throw std::runtime_error(p.string() + ": expected csr");
  std::getline(in, line);
  r.indptr = parse_numbers<std::int64_t>(line);
  std::getline(in, line);
  r.indices = parse_numbers<std::int64_t>(line);
  std::getline(in, line);
  r.data = parse_numbers<double>(line);
  return r;
}

struct Corpus {
  std::vector<std::string> texts;
  std::vector<OptionSet> sets;
  fs::path ref_dir;
  std::string skip;     // Non-empty: why the corpus is unavailable.
  std::string failure;  // Non-empty: the reference could not be produced.
};

fs::path work_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("papersim-text-parity-" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string script() { return env("PAPERSIM_SOURCE_DIR") + "/tests/parity/sklearn_reference.py"; }

// Every non-empty line of every seeds page is a document: titles, author lists,
// abstracts with LaTeX and Unicode, and the pages' header lines.
std::vector<std::string> seeds_texts(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) texts.push_back(line);
  }
  return texts;
}

const Corpus& corpus(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Corpus>> cache;
  auto& slot = cache[name];
  if (slot) return *slot;
  slot = std::make_unique<Corpus>();
  Corpus& c = *slot;
  const std::string python = env("PAPERSIM_PYTHON");
  const std::string data = env("PAPERSIM_DATA_DIR");
  if (python.empty()) {
    c.skip = "PAPERSIM_PYTHON is not set (needs a python3 with scikit-learn)";
    return c;
  }
  if (env("PAPERSIM_SOURCE_DIR").empty() || !fs::exists(script())) {
    c.skip = "PAPERSIM_SOURCE_DIR does not point at the sources";
    return c;
  }
  const fs::path dir = work_dir() / name;
  fs::create_directories(dir);
  const fs::path texts_file = dir / "texts.bin";
  if (name == "seeds") {
    const fs::path seeds = fs::path(data) / "seeds";
    if (data.empty() || !fs::is_directory(seeds)) {
      c.skip = "seeds data not found (PAPERSIM_DATA_DIR=" + data + ")";
      return c;
    }
    c.texts = seeds_texts(seeds);
    write_texts(texts_file, c.texts);
  } else {
    const fs::path xz = fs::path(data) / "arxiv-daily" / "arxiv-daily.jsonl.xz";
    if (data.empty() || !fs::exists(xz)) {
      c.skip = "arxiv-daily data not found (PAPERSIM_DATA_DIR=" + data + ")";
      return c;
    }
    if (!run("'" + python + "' '" + script() + "' extract-arxiv '" + xz.string() + "' --limit " +
                 std::to_string(kArxivRows) + " --out '" + texts_file.string() + "'",
             dir / "extract.log", &c.failure))
      return c;
    c.texts = read_texts(texts_file);
  }
  c.sets = option_sets(c.texts);
  std::string json = "[";
  for (std::size_t i = 0; i < c.sets.size(); ++i) json += (i ? ",\n" : "") + c.sets[i].json;
  json += "]\n";
  std::ofstream(dir / "options.json") << json;
  c.ref_dir = dir / "ref";
  run("'" + python + "' '" + script() + "' fit --texts '" + texts_file.string() + "' --options '" +
          (dir / "options.json").string() + "' --out-dir '" + c.ref_dir.string() + "'",
      dir / "fit.log", &c.failure);
  return c;
}

void expect_parity(const std::string& corpus_name) {
  const Corpus& c = corpus(corpus_name);
  if (!c.skip.empty()) GTEST_SKIP() << c.skip;
  ASSERT_TRUE(c.failure.empty()) << c.failure;
  ASSERT_GT(c.texts.size(), 100u);
  for (std::size_t s = 0; s < c.sets.size(); ++s) {
    const OptionSet& set = c.sets[s];
    SCOPED_TRACE(corpus_name + " / " + set.name + " " + set.json);
    const Reference ref = read_reference(c.ref_dir / (std::to_string(s) + ".txt"));
    TfidfModel model;
    const CsrMatrix x = papersim::fit_transform(c.texts, set.options, &model);
    ASSERT_NO_THROW(x.validate());
    ASSERT_EQ(model.vocabulary.size(), ref.vocab.size());
    for (std::size_t t = 0; t < ref.vocab.size(); ++t)
      ASSERT_EQ(model.vocabulary[t], ref.vocab[t]) << "column " << t;
    ASSERT_EQ(x.rows, ref.rows);
    ASSERT_EQ(x.cols, ref.cols);
    ASSERT_EQ(x.nnz(), ref.nnz);
    ASSERT_EQ(static_cast<std::int64_t>(ref.indptr.size()), ref.rows + 1);
    ASSERT_EQ(static_cast<std::int64_t>(ref.data.size()), ref.nnz);
    for (std::int64_t r = 0; r <= x.rows; ++r) ASSERT_EQ(x.indptr[r], ref.indptr[r]) << "row " << r;
    double worst = 0.0;
    for (std::int64_t k = 0; k < x.nnz(); ++k) {
      ASSERT_EQ(x.indices[k], ref.indices[k]) << "non-zero " << k;
      worst = std::max(worst, std::fabs(static_cast<double>(x.data[k]) - ref.data[k]));
    }
    EXPECT_LE(worst, 1e-6);
    ASSERT_EQ(model.idf.size(), ref.idf.size());
    for (std::size_t t = 0; t < ref.idf.size(); ++t)
      ASSERT_NEAR(model.idf[t], ref.idf[t], 1e-12 * ref.idf[t]) << model.vocabulary[t];
    EXPECT_EQ(model.documents, ref.rows);
  }
}

// Removes the scratch files unless PAPERSIM_KEEP_TEMP is set (to inspect a failure).
class CleanupEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (env("PAPERSIM_KEEP_TEMP").empty()) {
      std::error_code ec;
      fs::remove_all(work_dir(), ec);
    }
  }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new CleanupEnvironment);

TEST(TextParity, SeedsMatchScikitLearn) { expect_parity("seeds"); }

TEST(TextParity, ArxivSampleMatchesScikitLearn) { expect_parity("arxiv"); }

}  // namespace
