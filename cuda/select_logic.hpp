#pragma once
// Per-element logic of the CUDA kernels, written once as __host__ __device__
// functions so host unit tests (tests/cuda_select_logic_test.cpp, run in CI
// without a GPU) exercise exactly the code the kernels run. Plain C++ when not
// compiled by nvcc.

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define PAPERSIM_HD __host__ __device__ __forceinline__
#else
#define PAPERSIM_HD inline
#endif

namespace papersim::cuda::logic {

/// Float bits as an unsigned key. For non-negative floats the keys order like
/// the values, which is what the radix selection relies on.
PAPERSIM_HD std::uint32_t float_key(float v) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(v);
#else
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof(u));
  return u;
#endif
}

PAPERSIM_HD float key_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float v;
  std::memcpy(&v, &u, sizeof(v));
  return v;
#endif
}

/// float -> IEEE binary16 bits, round to nearest even, with one papersim rule on
/// top: a positive value that would round to zero becomes the smallest
/// subnormal (2^-24). Approximate scores must be 0 exactly when two rows share
/// no term (finalize trusts a short candidate list to hold every positive
/// column), so a tiny but non-zero weight must never vanish; the added error
/// is at most 2^-25 per term, far inside the margin.
PAPERSIM_HD std::uint16_t half_bits_keep_positive(float f) {
  const std::uint32_t x = float_key(f);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t a = x & 0x7fffffffu;
  std::uint32_t h;
  if (a >= 0x7f800000u) {
    h = 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u);  // Inf or NaN
  } else if (a >= 0x477ff000u) {
    h = 0x7c00u;                  // rounds above the largest half (65504)
  } else if (a >= 0x38800000u) {  // normal half range, >= 2^-14
    const std::uint32_t mant = a & 0x7fffffu;
    const std::uint32_t exp = (a >> 23) - 127u + 15u;
    h = (exp << 10) | (mant >> 13);
    const std::uint32_t rem = mant & 0x1fffu;
    // A carry out of the mantissa correctly bumps the exponent.
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  } else if (a > 0x33000000u) {  // (2^-25, 2^-14): half subnormals
    const std::uint32_t mant = (a & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126u - (a >> 23);  // 14..24
    h = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (h & 1u))) ++h;
  } else {
    h = 0;  // <= 2^-25 rounds to zero (2^-25 itself ties to even 0)
  }
  if (h == 0 && a != 0 && sign == 0) h = 1;
  return static_cast<std::uint16_t>(sign | h);
}

/// IEEE binary16 bits -> float (exact).
PAPERSIM_HD float half_bits_to_float(std::uint16_t hb) {
  const std::uint32_t sign = static_cast<std::uint32_t>(hb & 0x8000u) << 16;
  const std::uint32_t exp = (hb >> 10) & 0x1fu;
  const std::uint32_t mant = hb & 0x3ffu;
  if (exp == 0x1fu) return key_float(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    // Subnormal: mant * 2^-24, exact in float.
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return key_float(sign | ((exp - 15u + 127u) << 23) | (mant << 13));
}

/// Candidate key of one score in a top-k selection: the score's bits when the
/// column competes, else 0 (never selected). A column competes when its score
/// is positive, it is not the row itself, and, once the row's running list is
/// full, it is not below the list's worst kept score (`bound`); equal scores
/// still compete because a lower index may win the tie.
PAPERSIM_HD std::uint32_t candidate_key(float score, std::int64_t row, std::int64_t col,
                                        bool exclude_self, bool full, float bound) {
  if (!(score > 0.0f)) return 0;
  if (exclude_self && row == col) return 0;
  if (full && score < bound) return 0;
  return float_key(score);
}

/// Whether the pair (row, col) with approximate score `score` goes to the
/// threshold candidates: score >= low (threshold - margin) and, on a diagonal
/// tile of a self-join, only the upper triangle (row < col) so each unordered
/// pair is emitted once.
PAPERSIM_HD bool threshold_candidate(float score, float low, std::int64_t row, std::int64_t col,
                                     bool upper_only) {
  if (!(score >= low)) return false;
  return !upper_only || row < col;
}

/// Radix selection constants: 4 passes of 8 bits over 32-bit keys, most
/// significant digit first.
constexpr int kRadixBits = 8;
constexpr int kRadixBins = 1 << kRadixBits;
constexpr int kRadixPasses = 32 / kRadixBits;

PAPERSIM_HD int radix_shift(int pass) { return 32 - kRadixBits * (pass + 1); }
PAPERSIM_HD std::uint32_t radix_digit(std::uint32_t key, int pass) {
  return (key >> radix_shift(pass)) & (kRadixBins - 1u);
}
/// Whether `key` matches the digits fixed by the passes before `pass`.
PAPERSIM_HD bool radix_prefix_match(std::uint32_t key, std::uint32_t prefix, int pass) {
  if (pass == 0) return true;
  const std::uint32_t mask = ~0u << (32 - kRadixBits * pass);
  return (key & mask) == prefix;
}

/// One step of selecting the `need`-th largest key: given the histogram of the
/// current pass's digit over the keys that match the prefix, find the bin
/// holding it (scanning from the top) and how many of the keys in that bin are
/// still needed. Returns false when fewer than `need` keys are counted.
PAPERSIM_HD bool radix_pick_bin(const int* hist, int need, int* bin, int* need_in_bin) {
  int above = 0;
  for (int b = kRadixBins - 1; b >= 0; --b) {
    if (above + hist[b] >= need) {
      *bin = b;
      *need_in_bin = need - above;
      return true;
    }
    above += hist[b];
  }
  return false;
}

}  // namespace papersim::cuda::logic
