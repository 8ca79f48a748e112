#pragma once
// The statistical model behind papersim::synthesize: word-rank sampling,
// document lengths, topics, and rendering ranks as pseudo-words. Internal to
// the synth component (tests include it to check the fitted distributions).

#include <cstdint>
#include <string>
#include <vector>

namespace papersim::synth {

// SplitMix64: tiny state, fast, and good enough for sampling; each document
// gets its own stream from (seed, doc, purpose), which is what makes the
// output independent of chunking and threads.
class Rng {
 public:
  explicit Rng(std::uint64_t state) : state_(state) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  std::uint64_t state_;
};

/// Stream seed for one document and purpose.
std::uint64_t stream_seed(std::uint64_t seed, std::int64_t doc, std::uint64_t purpose);

// Walker's alias method: O(1) draws from a fixed discrete distribution.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights);
  std::uint32_t sample(Rng& rng) const {
    const std::uint64_t x = rng.next();
    const auto i = static_cast<std::uint32_t>((static_cast<unsigned __int128>(x) * size_) >> 64);
    // The low 32 bits are nearly independent of the high bits used for i.
    const double u = static_cast<double>(x & 0xFFFFFFFFull) * 0x1.0p-32;
    return u < prob_[i] ? i : alias_[i];
  }
  std::size_t size() const { return prob_.size(); }

 private:
  std::uint64_t size_ = 0;
  std::vector<double> prob_;
  std::vector<std::uint32_t> alias_;
};

/// Inverse CDF of an empirical distribution given by 101 quantiles (0%..100%),
/// interpolated linearly and rounded: the document length model.
class QuantileTable {
 public:
  explicit QuantileTable(const std::vector<double>& quantiles) : q_(quantiles) {}
  int sample(Rng& rng) const;
  const std::vector<double>& quantiles() const { return q_; }

 private:
  std::vector<double> q_;
};

/// Model constants, fitted to the 74,728 distinct arXiv-daily abstracts.
/// - The word law (s_head, q_head, knee, s_tail) is the "generator law fit"
///   printed by `bench/synth_stats.py --real ... --tables`: it matches the
///   token shares of ranks 1..10,000 and the vocabulary after 14.6M tokens.
/// - The document structure (style, topics, keywords) was calibrated by
///   generating 10k-75k documents and matching, with scikit-learn defaults,
///   non-zeros per document (128), sum of df^2 / N^2 (22.4), the df of the top
///   terms and the best-neighbour cosine quantiles (median 0.31, p95 0.50);
///   bench/results/synth-stats.md has the resulting comparison.
struct ModelParams {
  // Global rank-frequency law of word occurrences (rank r = 0, 1, ...):
  // Zipf-Mandelbrot weight (r + 1 + q)^-s_head for r < knee, then a power law
  // with exponent s_tail continuing it (the tail sets vocabulary growth).
  double s_head = 0.85;
  double q_head = 1.0;
  std::int64_t knee = 1500;
  double s_tail = 1.9;
  // Ranks below topic_start are generic words ("the", "we", "model"): shared
  // by every topic, but each document avoids some of them (its style):
  // a generic rank in [style_first, style_ranks) is avoided with probability style_avoid,
  // and an avoided word is kept only with probability style_keep (else redrawn).
  // This spreads the frequent words unevenly over documents as real text does,
  // lowering their document frequency at the same corpus frequency.
  std::int64_t topic_start = 256;
  std::int64_t style_first = 16;
  std::int64_t style_ranks = 256;
  double style_avoid = 0.3;
  double style_keep = 0.2;
  // Topics: within each window [topic_start * 2^(b*k), topic_start * 2^(b*(k+1)))
  // of ranks (b = window_bits), every topic permutes the words differently, so a
  // topic keeps the global frequency law but favours its own words. Wider
  // windows make topics more distinct but flatten the mid-frequency band
  // (4x windows: the top 1,000 terms carry 69% of tokens, arXiv 72%; 16x: 57%).
  // Ranks from topic_end on are topic-neutral: rare words keep the exact
  // power-law tail, which is what sets vocabulary growth.
  std::int64_t topic_end = 65536;
  int topics = 600;
  int window_bits = 2;
  // Topic popularity ~ (t + 1)^-topic_zipf.
  double topic_zipf = 0.0;
  // Probability that a content word (rank >= topic_start) follows the
  // document's topic permutation rather than the identity (a topic-neutral word).
  double topical = 0.8;
  // Probability that a topical word is one of the document's keywords instead.
  double keyword = 0.5;
  int keywords = 16;
  // Share of topical words from the document's secondary topic: uniform in
  // [0, secondary_max].
  double secondary_max = 0.3;
  // Titles: generic words (rank < topic_start) are kept with this probability
  // (redrawn otherwise): titles carry mostly content words.
  double title_generic_keep = 0.35;
  double title_keyword = 0.5;
  // Sentences of 8..32 words; a comma follows a word with this probability.
  int sentence_min = 8;
  int sentence_max = 32;
  double comma = 0.06;
};

/// Samples word ranks from the global law and builds per-document word streams.
class WordModel {
 public:
  explicit WordModel(const ModelParams& params);
  const ModelParams& params() const { return params_; }
  /// A rank from the global law.
  std::uint64_t sample_rank(Rng& rng) const;
  /// A topic from the popularity law.
  int sample_topic(Rng& rng) const { return static_cast<int>(topic_alias_.sample(rng)); }
  /// Topic `t`'s word for rank `r`: `r` itself below topic_start, else a
  /// keyed permutation of r's window (a bijection for each topic and window).
  std::uint64_t topic_word(std::uint64_t r, int t) const;
  /// Probability mass of ranks [0, r) under the global law (for tests).
  double cdf(std::uint64_t r) const;

 private:
  ModelParams params_;
  AliasTable head_;
  AliasTable topic_alias_;
  double tail_prob_ = 0.0;
  std::vector<double> head_weights_;
  double total_weight_ = 0.0;
};

/// Render a word rank as a pseudo-word: bijective base-90 numeration over
/// consonant-vowel syllables ("ba", "be", ... then "baba", ...). Distinct ranks
/// give distinct words (fixed-width syllables decode uniquely); every word has
/// at least two ASCII letters, so it is one token for `\b\w\w+\b`.
void append_word(std::string& out, std::uint64_t rank, bool capitalize);
std::string word(std::uint64_t rank);

/// Length tables (tokens per abstract and per title), 101 quantiles each.
const std::vector<double>& abstract_length_quantiles();
const std::vector<double>& title_length_quantiles();

}  // namespace papersim::synth
