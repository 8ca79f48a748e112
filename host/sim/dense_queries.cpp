#include "sim/dense_queries.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "papersim/error.hpp"

namespace papersim::detail {
namespace {

// kDenseLanes floats; may alias the Group storage it is loaded from.
typedef float Lanes __attribute__((vector_size(kDenseLanes * sizeof(float)), may_alias));

// Reference entries ahead whose column slots are fetched (the slot table, 4
// bytes a column, is larger than L1).
constexpr std::int64_t kSlotAhead = 16;

// Rows [c0, c1) of `refs` against G groups of query lanes. Each entry adds its
// value times its column's query row to the accumulators; an entry of a column
// no query has adds the zero row, which costs less than the mispredicted
// branch that would skip it (a fifth of the entries). Even and odd entries
// accumulate apart, so consecutive entries' additions do not wait on each other.
template <int G>
inline __attribute__((always_inline)) void score_rows(const CsrView& refs, std::int64_t c0,
                                                      std::int64_t c1,
                                                      const std::int32_t* __restrict slot,
                                                      const float* __restrict values,
                                                      float* __restrict scores) {
  const std::int32_t* __restrict idx = refs.indices;
  const float* __restrict data = refs.data;
  const std::int64_t last = refs.indptr[c1];
  for (std::int64_t r = c0; r < c1; ++r) {
    Lanes even[G], odd[G];
    for (int g = 0; g < G; ++g) even[g] = odd[g] = Lanes{};
    std::int64_t p = refs.indptr[r];
    const std::int64_t pe = refs.indptr[r + 1];
    for (; p + 2 <= pe; p += 2) {
      if (p + kSlotAhead + 1 < last) {
        __builtin_prefetch(slot + idx[p + kSlotAhead]);
        __builtin_prefetch(slot + idx[p + kSlotAhead + 1]);
      }
      const Lanes* a = reinterpret_cast<const Lanes*>(
          values + static_cast<std::int64_t>(slot[idx[p]]) * G * kDenseLanes);
      const Lanes* b = reinterpret_cast<const Lanes*>(
          values + static_cast<std::int64_t>(slot[idx[p + 1]]) * G * kDenseLanes);
      const float va = data[p], vb = data[p + 1];
      for (int g = 0; g < G; ++g) {
        even[g] += va * a[g];
        odd[g] += vb * b[g];
      }
    }
    if (p < pe) {
      const Lanes* a = reinterpret_cast<const Lanes*>(
          values + static_cast<std::int64_t>(slot[idx[p]]) * G * kDenseLanes);
      const float va = data[p];
      for (int g = 0; g < G; ++g) even[g] += va * a[g];
    }
    float* out = scores + (r - c0) * G * kDenseLanes;
    for (int g = 0; g < G; ++g) {
      const Lanes sum = even[g] + odd[g];
      std::memcpy(out + g * kDenseLanes, &sum, sizeof sum);
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// 512-bit lanes where the CPU has them (one register a group), else two AVX2 halves.
#define PAPERSIM_DENSE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PAPERSIM_DENSE_CLONES
#endif

PAPERSIM_DENSE_CLONES void score_groups(std::int64_t groups, const CsrView& refs, std::int64_t c0,
                                        std::int64_t c1, const std::int32_t* slot,
                                        const float* values, float* scores) {
  switch (groups) {
    case 1:
      score_rows<1>(refs, c0, c1, slot, values, scores);
      break;
    case 2:
      score_rows<2>(refs, c0, c1, slot, values, scores);
      break;
    case 3:
      score_rows<3>(refs, c0, c1, slot, values, scores);
      break;
    case 4:
      score_rows<4>(refs, c0, c1, slot, values, scores);
      break;
    case 5:
      score_rows<5>(refs, c0, c1, slot, values, scores);
      break;
    case 6:
      score_rows<6>(refs, c0, c1, slot, values, scores);
      break;
    case 7:
      score_rows<7>(refs, c0, c1, slot, values, scores);
      break;
    default:
      score_rows<8>(refs, c0, c1, slot, values, scores);
      break;
  }
}

static_assert(kDenseMaxQueries == 8 * kDenseLanes, "score_groups instantiates 1 to 8 groups");

}  // namespace

void DenseQueries::build(const CsrView& q, std::int64_t i0, std::int64_t i1) {
  if (slot_.size() != static_cast<std::size_t>(q.cols)) {
    slot_.assign(static_cast<std::size_t>(q.cols), 0);
  } else {
    for (const std::int32_t c : used_) slot_[c] = 0;
  }
  used_.clear();
  if (i1 - i0 > kDenseMaxQueries)
    throw Error("dense queries: " + std::to_string(i1 - i0) + " rows, more than " +
                std::to_string(kDenseMaxQueries));
  groups_ = std::max<std::int64_t>(1, (i1 - i0 + kDenseLanes - 1) / kDenseLanes);
  for (std::int64_t p = q.indptr[i0]; p < q.indptr[i1]; ++p) {
    const std::int32_t c = q.indices[p];
    if (slot_[c] == 0) {
      used_.push_back(c);
      slot_[c] = static_cast<std::int32_t>(used_.size());
    }
  }
  values_.assign((used_.size() + 1) * static_cast<std::size_t>(groups_), Group{});
  for (std::int64_t r = i0; r < i1; ++r) {
    const std::int64_t lane = r - i0;
    for (std::int64_t p = q.indptr[r]; p < q.indptr[r + 1]; ++p) {
      const auto at = static_cast<std::size_t>(slot_[q.indices[p]] * groups_ + lane / kDenseLanes);
      values_[at].lane[lane % kDenseLanes] = q.data[p];
    }
  }
  i0_ = i0;
  i1_ = i1;
}

void DenseQueries::score(const CsrView& refs, std::int64_t c0, std::int64_t c1,
                         float* scores) const {
  score_groups(groups_, refs, c0, c1, slot_.data(), values_.data()->lane, scores);
}

std::size_t DenseQueries::bytes() const {
  return (slot_.capacity() + used_.capacity()) * sizeof(std::int32_t) +
         values_.capacity() * sizeof(Group);
}

std::size_t DenseQueries::bytes_bound(std::int64_t cols, std::int64_t strip_nnz,
                                      std::int64_t rows) {
  const std::int64_t groups = std::clamp<std::int64_t>((rows + kDenseLanes - 1) / kDenseLanes, 1,
                                                       kDenseMaxQueries / kDenseLanes);
  const std::int64_t slots = std::min(cols, strip_nnz);
  return static_cast<std::size_t>(cols + slots) * sizeof(std::int32_t) +
         static_cast<std::size_t>((slots + 1) * groups) * sizeof(Group);
}

}  // namespace papersim::detail
