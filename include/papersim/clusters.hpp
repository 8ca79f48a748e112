#pragma once
/// @file clusters.hpp
/// @brief Near-duplicate clusters: connected components of the threshold pairs.

#include <cstdint>
#include <functional>
#include <vector>

#include "papersim/csr.hpp"
#include "papersim/similarity.hpp"

namespace papersim {

struct ClusterMember {
  std::int64_t doc = 0;
  float score_to_representative = 1.0f;  ///< exact_dot(member, representative); 1 for itself.
};

/// One connected component of size >= 2.
struct Cluster {
  std::int64_t id = 0;  ///< Smallest member doc.
  std::int64_t representative =
      0;  ///< Member with the largest sum of edge scores, ties by lower doc.
  std::vector<ClusterMember> members;  ///< By increasing doc.
};

/// Connected components of `pairs` over `rows` documents of `x`; singletons omitted;
/// sorted by decreasing size, then by id.
/// Member scores are `exact_dot(member, representative)`.
std::vector<Cluster> connected_components(const CsrMatrix& x, const std::vector<ScoredPair>& pairs);

/// The same over `n` documents without their vectors: a member's
/// `score_to_representative` is `score(member, representative)`.
/// @throws Error for a pair outside [0, n).
std::vector<Cluster> connected_components(
    std::int64_t n, const std::vector<ScoredPair>& pairs,
    const std::function<float(std::int64_t member, std::int64_t representative)>& score);

}  // namespace papersim
