// Host tests of the CUDA kernels' per-element logic (cuda/select_logic.hpp):
// the same functions the kernels run, checked on the CPU in CI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "../cuda/select_logic.hpp"

namespace logic = papersim::cuda::logic;

namespace {

// Nearest binary16 value by exhaustive search over all finite halves (ties to
// the even bit pattern) for f >= 0: the reference for the bit-twiddling conversion.
std::uint16_t reference_half(float f) {
  std::uint16_t best = 0;
  double best_err = std::numeric_limits<double>::infinity();
  for (std::uint32_t h = 0; h < 0x10000u; ++h) {
    if (((h >> 10) & 0x1fu) == 0x1fu) continue;  // Inf/NaN
    const double v = logic::half_bits_to_float(static_cast<std::uint16_t>(h));
    const double err = std::fabs(v - static_cast<double>(f));
    if (err < best_err || (err == best_err && (h & 1u) == 0 && (best & 1u) == 1)) {
      best = static_cast<std::uint16_t>(h);
      best_err = err;
    }
  }
  return best;
}

}  // namespace

TEST(CudaLogic, HalfBitsToFloatKnownValues) {
  EXPECT_EQ(logic::half_bits_to_float(0x3c00), 1.0f);
  EXPECT_EQ(logic::half_bits_to_float(0xc000), -2.0f);
  EXPECT_EQ(logic::half_bits_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(logic::half_bits_to_float(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(logic::half_bits_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(logic::half_bits_to_float(0x7c00)));
  EXPECT_TRUE(std::isnan(logic::half_bits_to_float(0x7e00)));
}

TEST(CudaLogic, HalfConversionRoundsToNearestEven) {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> expo(-26.0, 16.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int i = 0; i < 3000; ++i) {
    const float f = static_cast<float>(std::pow(2.0, expo(rng)) * (unit(rng) < 0.1 ? -1 : 1));
    if (std::fabs(f) >= 65504.0f) continue;
    std::uint16_t expected = reference_half(std::fabs(f));
    if (f < 0) expected |= 0x8000u;
    if (f > 0 && expected == 0) expected = 1;  // papersim keeps positive weights positive
    ASSERT_EQ(logic::half_bits_keep_positive(f), expected) << "f = " << f;
  }
  // Exact halfway cases, both parities.
  const float one = 1.0f, ulp = std::ldexp(1.0f, -10);
  EXPECT_EQ(logic::half_bits_keep_positive(one + ulp / 2), 0x3c00);          // tie -> even
  EXPECT_EQ(logic::half_bits_keep_positive(one + ulp + ulp / 2), 0x3c02);    // tie -> even
  EXPECT_EQ(logic::half_bits_keep_positive(std::ldexp(1.5f, -25)), 0x0001);  // subnormal up
  EXPECT_EQ(logic::half_bits_keep_positive(std::ldexp(1.0f, -30)), 0x0001);  // kept positive
  EXPECT_EQ(logic::half_bits_keep_positive(0.0f), 0x0000);
  EXPECT_EQ(logic::half_bits_keep_positive(-std::ldexp(1.0f, -30)), 0x8000);  // negative -> -0
  EXPECT_EQ(logic::half_bits_keep_positive(65520.0f), 0x7c00);
  EXPECT_EQ(logic::half_bits_keep_positive(65519.0f), 0x7bff);
  EXPECT_EQ(logic::half_bits_keep_positive(std::ldexp(1023.5f, -24)), 0x0400);  // rounds to normal
}

TEST(CudaLogic, HalfErrorWithinUnitRoundoffOnUnitVectors) {
  // The margin argument: each weight of a unit vector rounds within 2^-11 relative.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(1e-4f, 1.0f);
  for (int i = 0; i < 10000; ++i) {
    const float f = unit(rng);
    const float h = logic::half_bits_to_float(logic::half_bits_keep_positive(f));
    EXPECT_LE(std::fabs(h - f), std::ldexp(f, -11) + std::ldexp(1.0f, -25));
  }
}

TEST(CudaLogic, CandidateKey) {
  EXPECT_EQ(logic::candidate_key(0.0f, 1, 2, true, false, 0.0f), 0u);
  EXPECT_EQ(logic::candidate_key(-0.5f, 1, 2, true, false, 0.0f), 0u);
  EXPECT_EQ(logic::candidate_key(std::nanf(""), 1, 2, true, false, 0.0f), 0u);
  EXPECT_EQ(logic::candidate_key(0.5f, 3, 3, true, false, 0.0f), 0u);   // itself
  EXPECT_NE(logic::candidate_key(0.5f, 3, 3, false, false, 0.0f), 0u);  // cross join: allowed
  EXPECT_EQ(logic::candidate_key(0.4f, 1, 2, true, true, 0.5f), 0u);    // below full bound
  EXPECT_NE(logic::candidate_key(0.5f, 1, 2, true, true, 0.5f), 0u);    // ties compete
  // Keys order like the positive scores.
  EXPECT_LT(logic::candidate_key(0.25f, 0, 1, true, false, 0),
            logic::candidate_key(0.26f, 0, 1, true, false, 0));
  EXPECT_LT(logic::candidate_key(1e-30f, 0, 1, true, false, 0),
            logic::candidate_key(1e-29f, 0, 1, true, false, 0));
}

TEST(CudaLogic, ThresholdCandidate) {
  EXPECT_TRUE(logic::threshold_candidate(0.5f, 0.5f, 1, 2, true));
  EXPECT_FALSE(logic::threshold_candidate(0.49f, 0.5f, 1, 2, true));
  EXPECT_FALSE(logic::threshold_candidate(0.9f, 0.5f, 2, 1, true));  // lower triangle
  EXPECT_FALSE(logic::threshold_candidate(0.9f, 0.5f, 2, 2, true));  // diagonal
  EXPECT_TRUE(logic::threshold_candidate(0.9f, 0.5f, 2, 1, false));
  EXPECT_FALSE(logic::threshold_candidate(std::nanf(""), 0.5f, 1, 2, false));
}

// A sequential radix select built from the kernels' steps must find the same
// k-th largest key as std::nth_element, for every k, with many duplicates.
TEST(CudaLogic, RadixSelectStepsFindKthLargest) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 500);
    const int levels = 1 + static_cast<int>(rng() % 40);
    std::vector<std::uint32_t> keys(n);
    for (auto& k : keys) {
      const float v = trial % 2 ? static_cast<float>(1 + rng() % levels) / levels
                                : std::uniform_real_distribution<float>(1e-6f, 1.0f)(rng);
      k = rng() % 5 == 0 ? 0u : logic::float_key(v);  // some non-candidates
    }
    const int nonzero =
        static_cast<int>(std::count_if(keys.begin(), keys.end(), [](auto k) { return k != 0; }));
    if (nonzero == 0) continue;
    std::vector<std::uint32_t> sorted;
    for (auto k : keys)
      if (k) sorted.push_back(k);
    std::sort(sorted.rbegin(), sorted.rend());
    for (int want : {1, nonzero / 2 + 1, nonzero}) {
      std::uint32_t prefix = 0;
      int need = want;
      for (int pass = 0; pass < logic::kRadixPasses; ++pass) {
        int hist[logic::kRadixBins] = {};
        for (auto k : keys) {
          if (k != 0 && logic::radix_prefix_match(k, prefix, pass))
            ++hist[logic::radix_digit(k, pass)];
        }
        int bin = -1, left = 0;
        ASSERT_TRUE(logic::radix_pick_bin(hist, need, &bin, &left));
        prefix |= static_cast<std::uint32_t>(bin) << logic::radix_shift(pass);
        need = left;
      }
      ASSERT_EQ(prefix, sorted[want - 1]) << "trial " << trial << " k " << want;
      const int greater = static_cast<int>(
          std::count_if(sorted.begin(), sorted.end(), [&](auto k) { return k > prefix; }));
      EXPECT_EQ(greater + need, want);
      EXPECT_GE(need, 1);
    }
  }
}

TEST(CudaLogic, RadixPickBinReportsShortage) {
  int hist[logic::kRadixBins] = {};
  hist[3] = 2;
  int bin = 0, left = 0;
  EXPECT_FALSE(logic::radix_pick_bin(hist, 3, &bin, &left));
  EXPECT_TRUE(logic::radix_pick_bin(hist, 2, &bin, &left));
  EXPECT_EQ(bin, 3);
  EXPECT_EQ(left, 2);
}
