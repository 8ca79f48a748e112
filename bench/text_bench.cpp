// Tokenizer and TF-IDF throughput. With PAPERSIM_DATA_DIR set (../shared/data)
// the cases run on the 120,405 arxiv-daily texts (title + "\n" + summary, as
// `papersim vectorize` builds them); otherwise on synthetic text.
//
//   build/bench/text_bench --benchmark_filter=Arxiv
//
// Items are documents; bytes are text bytes.

#include <benchmark/benchmark.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/util.hpp"
#include "papersim/reader.hpp"
#include "papersim/tfidf.hpp"
#include "text/tokenizer.hpp"

namespace {

std::int64_t total_bytes(const std::vector<std::string>& texts) {
  std::int64_t n = 0;
  for (const auto& t : texts) n += static_cast<std::int64_t>(t.size());
  return n;
}

// arxiv-daily texts, read once; empty when the data is not available.
const std::vector<std::string>& arxiv_texts() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    const char* dir = std::getenv("PAPERSIM_DATA_DIR");
    if (dir == nullptr) return out;
    const std::string path = std::string(dir) + "/arxiv-daily/arxiv-daily.jsonl.xz";
    if (!std::filesystem::exists(path)) return out;
    papersim::Corpus corpus = papersim::read_corpus({path}, papersim::ReaderOptions{});
    out.reserve(corpus.docs.size());
    for (auto& d : corpus.docs) out.push_back(std::move(d.text));
    return out;
  }();
  return texts;
}

// Abstract-like text: Zipf-distributed pseudo-words with some punctuation,
// digits, capitals and a sprinkling of accented letters.
const std::vector<std::string>& synthetic_texts() {
  static const std::vector<std::string> texts = [] {
    std::mt19937_64 rng(7);
    std::vector<std::string> words;
    const char* syllables[] = {"ra",   "ti",  "on", "mo",  "del",  "lea", "rn", "ing", "vi",
                               "sion", "gra", "ph", "net", "work", "da",  "ta", "é",   "ß"};
    for (int w = 0; w < 50000; ++w) {
      std::string s;
      const int n = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < n; ++k) s += syllables[rng() % (sizeof(syllables) / sizeof(*syllables))];
      words.push_back(s);
    }
    std::vector<std::string> out(20000);
    for (auto& t : out) {
      const int len = 80 + static_cast<int>(rng() % 200);
      for (int i = 0; i < len; ++i) {
        const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        const auto rank = static_cast<std::size_t>(std::pow(50000.0, u)) - 1;
        std::string w = words[rank];
        if (rng() % 20 == 0)
          w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
        t += w;
        t += rng() % 12 == 0 ? ", " : (rng() % 15 == 0 ? ". " : " ");
        if (rng() % 40 == 0) t += std::to_string(rng() % 1000) + " ";
      }
    }
    return out;
  }();
  return texts;
}

const std::vector<std::string>& texts_or_skip(benchmark::State& state, bool real) {
  const auto& texts = real ? arxiv_texts() : synthetic_texts();
  if (texts.empty()) state.SkipWithError("PAPERSIM_DATA_DIR with arxiv-daily not available");
  return texts;
}

void tokenize_case(benchmark::State& state, bool real) {
  const auto& texts = texts_or_skip(state, real);
  if (texts.empty()) return;
  papersim::text::Tokenizer tokenizer(papersim::tfidf_preset("sklearn"));
  std::int64_t tokens = 0;
  for (auto _ : state) {
    for (const auto& t : texts)
      tokenizer.run(t,
                    [&](std::string_view tok) { tokens += static_cast<std::int64_t>(tok.size()); });
    benchmark::DoNotOptimize(tokens);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(texts.size()));
  state.SetBytesProcessed(state.iterations() * total_bytes(texts));
}

void BM_TokenizeArxiv(benchmark::State& state) { tokenize_case(state, true); }
void BM_TokenizeSynthetic(benchmark::State& state) { tokenize_case(state, false); }

void fit_case(benchmark::State& state, bool real, const char* preset) {
  const auto& texts = texts_or_skip(state, real);
  if (texts.empty()) return;
  papersim::TfidfOptions options = papersim::tfidf_preset(preset);
  options.threads = static_cast<int>(state.range(0));
  std::int64_t nnz = 0, cols = 0;
  for (auto _ : state) {
    papersim::TfidfModel model;
    const papersim::CsrMatrix x = papersim::fit_transform(texts, options, &model);
    nnz = x.nnz();
    cols = x.cols;
    benchmark::DoNotOptimize(x.data.data());
  }
  state.counters["vocabulary"] = static_cast<double>(cols);
  state.counters["nnz"] = static_cast<double>(nnz);
  state.counters["peak_rss_MiB"] = static_cast<double>(papersim::peak_rss_bytes()) / (1 << 20);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(texts.size()));
  state.SetBytesProcessed(state.iterations() * total_bytes(texts));
}

void BM_FitTransformArxivSklearn(benchmark::State& s) { fit_case(s, true, "sklearn"); }
void BM_FitTransformArxivAbstracts(benchmark::State& s) { fit_case(s, true, "abstracts"); }
void BM_FitTransformSynthetic(benchmark::State& s) { fit_case(s, false, "sklearn"); }

void thread_args(benchmark::internal::Benchmark* b) {
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  b->Arg(1);
  if (hw >= 2) b->Arg(2);
  if (hw > 2) b->Arg(hw);
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(BM_TokenizeArxiv)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TokenizeSynthetic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FitTransformArxivSklearn)->Apply(thread_args)->Iterations(3);
BENCHMARK(BM_FitTransformArxivAbstracts)->Apply(thread_args)->Iterations(3);
BENCHMARK(BM_FitTransformSynthetic)->Apply(thread_args);

}  // namespace

BENCHMARK_MAIN();
