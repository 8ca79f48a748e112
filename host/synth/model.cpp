#include "synth/model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace papersim::synth {

std::uint64_t stream_seed(std::uint64_t seed, std::int64_t doc, std::uint64_t purpose) {
  // Two rounds of SplitMix64 finalization so nearby (doc, purpose) give unrelated streams.
  Rng a(seed ^ (purpose * 0xD1B54A32D192ED03ull));
  const std::uint64_t s = a.next() ^ static_cast<std::uint64_t>(doc);
  Rng b(s);
  return b.next();
}

AliasTable::AliasTable(const std::vector<double>& weights) {
  const std::size_t n = weights.size();
  if (n == 0 || n > 0xFFFFFFFFull) throw std::invalid_argument("alias table size");
  double total = 0.0;
  for (double w : weights) total += w;
  size_ = n;
  prob_.assign(n, 0.0);
  alias_.assign(n, 0);
  std::vector<double> scaled(n);
  std::vector<std::uint32_t> small, large;
  for (std::size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const std::uint32_t s = small.back(), l = large.back();
    small.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are 1 up to rounding.
  for (std::uint32_t i : small) prob_[i] = 1.0, alias_[i] = i;
  for (std::uint32_t i : large) prob_[i] = 1.0, alias_[i] = i;
}

int QuantileTable::sample(Rng& rng) const {
  const double x = rng.uniform() * static_cast<double>(q_.size() - 1);
  const auto i = static_cast<std::size_t>(x);
  const double f = x - static_cast<double>(i);
  const double v = i + 1 < q_.size() ? q_[i] + f * (q_[i + 1] - q_[i]) : q_.back();
  return static_cast<int>(std::lround(v));
}

WordModel::WordModel(const ModelParams& params) : params_(params) {
  if (params.knee < 1 || params.s_tail <= 1.0 || params.topics < 1 || params.topic_start < 0 ||
      params.topic_start > params.knee)
    throw std::invalid_argument("synth model parameters");
  head_weights_.resize(static_cast<std::size_t>(params.knee));
  double head = 0.0;
  for (std::int64_t r = 0; r < params.knee; ++r) {
    head_weights_[r] = std::pow(static_cast<double>(r) + 1.0 + params.q_head, -params.s_head);
    head += head_weights_[r];
  }
  // The tail density w(x) = w_knee * (x / knee)^-s_tail for x >= knee
  // integrates to w_knee * knee / (s_tail - 1).
  const double w_knee =
      std::pow(static_cast<double>(params.knee) + 1.0 + params.q_head, -params.s_head);
  const double tail = w_knee * static_cast<double>(params.knee) / (params.s_tail - 1.0);
  total_weight_ = head + tail;
  tail_prob_ = tail / total_weight_;
  head_ = AliasTable(head_weights_);
  std::vector<double> topic_weights(static_cast<std::size_t>(params.topics));
  for (int t = 0; t < params.topics; ++t)
    topic_weights[t] = std::pow(static_cast<double>(t) + 1.0, -params.topic_zipf);
  topic_alias_ = AliasTable(topic_weights);
}

std::uint64_t WordModel::sample_rank(Rng& rng) const {
  // One uniform decides head vs tail; the head is the alias table (fits in
  // L2), the tail an exact inverse CDF, so no table grows with the vocabulary.
  const double u = rng.uniform();
  if (u >= tail_prob_) return head_.sample(rng);
  const double v = u / tail_prob_;  // uniform in [0, 1)
  const double x =
      static_cast<double>(params_.knee) * std::pow(1.0 - v, -1.0 / (params_.s_tail - 1.0));
  // Ranks beyond 2^40 would be words of 9+ syllables; they are vanishingly rare, clamp.
  return x < 0x1.0p40 ? static_cast<std::uint64_t>(x) : (1ull << 40);
}

namespace {
std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

std::uint64_t WordModel::topic_word(std::uint64_t r, int t) const {
  const auto start = static_cast<std::uint64_t>(params_.topic_start);
  if (r < start || start == 0 || r >= static_cast<std::uint64_t>(params_.topic_end)) return r;
  const int b = params_.window_bits;
  const std::uint64_t ratio = r / start;  // >= 1
  const int k = (63 - __builtin_clzll(ratio)) / b;
  if (b * (k + 1) >= 62) return r;  // beyond any reachable rank
  const std::uint64_t lo = start << (b * k);
  // The last window stops at topic_end so the permutation never crosses it.
  const std::uint64_t hi = std::min<std::uint64_t>(start << (b * (k + 1)),
                                                   static_cast<std::uint64_t>(params_.topic_end));
  const std::uint64_t width = hi - lo;
  int bits = 64 - __builtin_clzll(width - 1);
  if (bits < 2) bits = 2;
  const std::uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
  // Keyed bijection on `bits` bits (odd multiplies and xorshifts), then cycle
  // walking until the value falls inside the window: a permutation of it.
  const std::uint64_t key = mix64(
      (static_cast<std::uint64_t>(t) << 8 | static_cast<std::uint64_t>(k)) + 0x632BE59BD9B4E019ull);
  const std::uint64_t m1 = (key | 1) & mask, m2 = ((key >> 17) | 1) & mask,
                      add = (key >> 31) & mask;
  const int sh = bits / 2;
  std::uint64_t x = r - lo;
  do {
    x = (x * m1 + add) & mask;
    x ^= x >> sh;
    x = (x * m2) & mask;
    x ^= x >> sh;
  } while (x >= width);
  return lo + x;
}

double WordModel::cdf(std::uint64_t r) const {
  double w = 0.0;
  const auto knee = static_cast<std::uint64_t>(params_.knee);
  for (std::uint64_t i = 0; i < r && i < knee; ++i) w += head_weights_[i];
  if (r > knee) {
    const double w_knee =
        std::pow(static_cast<double>(params_.knee) + 1.0 + params_.q_head, -params_.s_head);
    const double k = static_cast<double>(knee);
    w += w_knee * k / (params_.s_tail - 1.0) *
         (1.0 - std::pow(static_cast<double>(r) / k, 1.0 - params_.s_tail));
  }
  return w / total_weight_;
}

namespace {
constexpr char kConsonants[] = "bcdfghjklmnprstvwz";  // 18
constexpr char kVowels[] = "aeiou";                   // 5
constexpr std::uint64_t kSyllables = 90;
}  // namespace

void append_word(std::string& out, std::uint64_t rank, bool capitalize) {
  // Bijective base 90: ranks 0..89 are one syllable, the next 90^2 two, ...
  char buf[32];
  int len = 0;
  std::uint64_t n = rank + 1;
  while (n > 0) {
    const std::uint64_t d = (n - 1) % kSyllables;
    n = (n - 1) / kSyllables;
    buf[len++] = kVowels[d % 5];
    buf[len++] = kConsonants[d / 5];
  }
  // Digits came least significant first; emit most significant first.
  const std::size_t at = out.size();
  for (int i = len - 1; i >= 0; --i) out.push_back(buf[i]);
  if (capitalize) out[at] = static_cast<char>(out[at] - 'a' + 'A');
}

std::string word(std::uint64_t rank) {
  std::string s;
  append_word(s, rank, false);
  return s;
}

// Tokens per abstract and per title (scikit-learn's token pattern on the
// lowercased text) of the 74,728 distinct arXiv-daily abstracts: the 0%, 1%,
// ..., 100% quantiles printed by `bench/synth_stats.py --tables`.
const std::vector<double>& abstract_length_quantiles() {
  static const std::vector<double> q = {
      12,  87,  99,  106, 112, 117, 120, 124, 127, 129, 132, 134, 136, 138, 140, 142, 144,
      145, 146, 148, 149, 151, 152, 153, 155, 156, 157, 158, 160, 161, 162, 163, 164, 166,
      167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 178, 179, 180, 181, 182, 183, 184,
      185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 197, 198, 199, 200, 201, 202,
      204, 205, 206, 207, 209, 210, 211, 213, 214, 216, 217, 219, 220, 222, 224, 225, 227,
      229, 231, 233, 235, 237, 239, 242, 244, 247, 249, 252, 255, 259, 263, 270, 489};
  return q;
}

const std::vector<double>& title_length_quantiles() {
  static const std::vector<double> q = {
      1,  4,  5,  6,  6,  6,  7,  7,  7,  7,  7,  8,  8,  8,  8,  8,  8,  8,  8,  8,  9,
      9,  9,  9,  9,  9,  9,  9,  9,  9,  9,  9,  10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
      10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12,
      12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14,
      14, 14, 14, 14, 15, 15, 15, 15, 15, 16, 16, 16, 17, 17, 18, 19, 33};
  return q;
}

}  // namespace papersim::synth
