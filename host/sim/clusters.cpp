#include "papersim/clusters.hpp"

#include <algorithm>
#include <numeric>

#include "papersim/error.hpp"

namespace papersim {
namespace {

std::int64_t find_root(std::vector<std::int64_t>& parent, std::int64_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

}  // namespace

std::vector<Cluster> connected_components(const CsrMatrix& x,
                                          const std::vector<ScoredPair>& pairs) {
  return connected_components(x.rows, pairs, [&x](std::int64_t member, std::int64_t rep) {
    return exact_dot(x, member, x, rep);
  });
}

std::vector<Cluster> connected_components(
    std::int64_t n, const std::vector<ScoredPair>& pairs,
    const std::function<float(std::int64_t, std::int64_t)>& score) {
  std::vector<std::int64_t> parent(static_cast<std::size_t>(n));
  std::iota(parent.begin(), parent.end(), 0);
  std::vector<double> weight(static_cast<std::size_t>(n), 0.0);
  std::vector<char> touched(static_cast<std::size_t>(n), 0);
  for (const ScoredPair& p : pairs) {
    if (p.a < 0 || p.b < 0 || p.a >= n || p.b >= n) {
      throw Error("connected_components: pair (" + std::to_string(p.a) + ", " +
                  std::to_string(p.b) + ") outside " + std::to_string(n) + " documents");
    }
    if (p.a == p.b) continue;
    weight[p.a] += p.score;
    weight[p.b] += p.score;
    touched[p.a] = touched[p.b] = 1;
    // Union by smaller root keeps the root the smallest member, which is the cluster id.
    std::int64_t ra = find_root(parent, p.a), rb = find_root(parent, p.b);
    if (ra == rb) continue;
    if (ra > rb) std::swap(ra, rb);
    parent[rb] = ra;
  }

  std::vector<std::int64_t> cluster_of(static_cast<std::size_t>(n), -1);
  std::vector<Cluster> clusters;
  for (std::int64_t d = 0; d < n; ++d) {  // increasing doc: members come out sorted
    if (!touched[d]) continue;
    const std::int64_t root = find_root(parent, d);
    if (cluster_of[root] < 0) {
      cluster_of[root] = static_cast<std::int64_t>(clusters.size());
      clusters.push_back({});
      clusters.back().id = root;
      clusters.back().representative = d;
    }
    Cluster& c = clusters[cluster_of[root]];
    c.members.push_back({d, 1.0f});
    if (weight[d] > weight[c.representative]) c.representative = d;
  }
  for (Cluster& c : clusters) {
    for (ClusterMember& m : c.members) {
      if (m.doc != c.representative) m.score_to_representative = score(m.doc, c.representative);
    }
  }
  std::sort(clusters.begin(), clusters.end(), [](const Cluster& p, const Cluster& q) {
    return p.members.size() > q.members.size() ||
           (p.members.size() == q.members.size() && p.id < q.id);
  });
  return clusters;
}

}  // namespace papersim
