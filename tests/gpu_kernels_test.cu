// Every CUDA kernel against a CPU reference on fresh random inputs. Outputs
// are poisoned before each run so elements a kernel fails to write are caught.
// Skips without a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cuda/cuda_backend.hpp"
#include "cuda/kernels.cuh"
#include "cuda/resources.cuh"
#include "cuda/select_logic.hpp"

namespace papersim::cuda {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (list_devices().empty()) GTEST_SKIP() << "no CUDA device visible"

template <class T>
DeviceBuffer<T> to_device(const std::vector<T>& v) {
  DeviceBuffer<T> d(std::max<std::size_t>(v.size(), 1));
  if (!v.empty())
    PAPERSIM_CUDA_TRY(cudaMemcpy(d.data(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}
template <class T>
std::vector<T> to_host(const DeviceBuffer<T>& d, std::size_t n) {
  std::vector<T> v(n);
  if (n) PAPERSIM_CUDA_TRY(cudaMemcpy(v.data(), d.data(), n * sizeof(T), cudaMemcpyDeviceToHost));
  return v;
}
template <class T>
void poison(DeviceBuffer<T>& d) {
  PAPERSIM_CUDA_TRY(cudaMemset(d.data(), 0xff, d.bytes()));  // NaN for floats, -1 for ints
}

struct Csr {
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int32_t> indices;
  std::vector<float> data;
};

Csr random_csr(std::mt19937& rng, int rows, int cols, double density) {
  Csr m;
  std::uniform_real_distribution<float> val(0.01f, 1.0f);
  std::uniform_real_distribution<double> u(0, 1);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      if (u(rng) < density) {
        m.indices.push_back(c);
        m.data.push_back(val(rng));
      }
    }
    m.indptr.push_back(static_cast<std::int64_t>(m.indices.size()));
  }
  return m;
}

TEST(GpuKernels, BuildHead) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(1);
  const int rows = 300, cols = 500, d = 128;
  Csr m = random_csr(rng, rows, cols, 0.05);
  std::vector<std::int32_t> slot_of(cols, -1);
  std::vector<int> perm(cols);
  for (int i = 0; i < cols; ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  for (int s = 0; s < 100; ++s) slot_of[perm[s]] = s;  // 100 head terms, D padded to 128
  auto ip = to_device(m.indptr);
  auto ix = to_device(m.indices);
  auto dv = to_device(m.data);
  auto so = to_device(slot_of);
  DeviceBuffer<__half> out(static_cast<std::size_t>(rows) * d);
  poison(out);
  launch_build_head(ip.data(), ix.data(), dv.data(), rows, so.data(), d, out.data(), 0);
  PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
  auto h = to_host(out, out.size());
  std::vector<std::uint16_t> expected(static_cast<std::size_t>(rows) * d, 0);
  for (int r = 0; r < rows; ++r) {
    for (auto p = m.indptr[r]; p < m.indptr[r + 1]; ++p) {
      const int s = slot_of[m.indices[p]];
      if (s >= 0) expected[r * d + s] = logic::half_bits_keep_positive(m.data[p]);
    }
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    std::uint16_t got;
    std::memcpy(&got, &h[i], 2);
    ASSERT_EQ(got, expected[i]) << "element " << i;
  }
}

TEST(GpuKernels, HeadGemmMatchesDoubleReference) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> val(0.0f, 0.2f);
  for (auto [rows, cols, d] :
       {std::tuple{100, 77, 64}, std::tuple{256, 300, 192}, std::tuple{33, 513, 128}}) {
    std::vector<std::uint16_t> q(static_cast<std::size_t>(rows) * d),
        r(static_cast<std::size_t>(cols) * d);
    for (auto& x : q) x = logic::half_bits_keep_positive(val(rng));
    for (auto& x : r) x = logic::half_bits_keep_positive(val(rng));
    auto dq = to_device(q);
    auto dr = to_device(r);
    const std::int64_t ld = cols + 5;
    DeviceBuffer<float> s(static_cast<std::size_t>(rows) * ld);
    poison(s);
    CublasHandle handle;
    gemm_head_tile(handle.get(), 0, reinterpret_cast<const __half*>(dq.data()),
                   reinterpret_cast<const __half*>(dr.data()), rows, cols, d, s.data(), ld);
    PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
    auto hs = to_host(s, s.size());
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) {
        double ref = 0;
        for (int t = 0; t < d; ++t)
          ref += double(logic::half_bits_to_float(q[i * d + t])) *
                 logic::half_bits_to_float(r[j * d + t]);
        ASSERT_NEAR(hs[i * ld + j], ref, 1e-5 + 1e-5 * ref) << i << "," << j;
      }
      for (std::int64_t j = cols; j < ld; ++j)
        ASSERT_TRUE(std::isnan(hs[i * ld + j])) << "wrote past cols";
    }
  }
}

// Both tail kernels (global atomics, and per-row shared-memory sums) against
// a sparse reference, with aligned and unaligned tiles.
void check_tail(bool rows_kernel, int tc, std::int64_t ld, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const int nq = 120, nr = 200, terms = 400;
  Csr q = random_csr(rng, nq, terms, 0.04);
  Csr rr = random_csr(rng, nr, terms, 0.04);
  // Reference rows by term (CSC).
  std::vector<std::int64_t> colptr(terms + 1, 0);
  for (auto c : rr.indices) ++colptr[c + 1];
  for (int c = 0; c < terms; ++c) colptr[c + 1] += colptr[c];
  std::vector<std::int32_t> rows(rr.indices.size());
  std::vector<float> vals(rr.indices.size());
  std::vector<std::int64_t> fill(colptr.begin(), colptr.end() - 1);
  for (int r = 0; r < nr; ++r)
    for (auto p = rr.indptr[r]; p < rr.indptr[r + 1]; ++p) {
      auto at = fill[rr.indices[p]]++;
      rows[at] = r;
      vals[at] = rr.data[p];
    }
  auto qi = to_device(q.indptr);
  auto qx = to_device(q.indices);
  auto qd = to_device(q.data);
  auto cp = to_device(colptr);
  auto cr = to_device(rows);
  auto cv = to_device(vals);
  const std::int64_t row0 = 17, col0 = 45;
  const int tr = 64;
  std::vector<float> base(static_cast<std::size_t>(tr) * ld);
  std::uniform_real_distribution<float> u(0, 1);
  for (auto& b : base) b = u(rng);
  auto s = to_device(base);
  if (rows_kernel) {
    ASSERT_TRUE(tail_add_rows_fits(tc));
    launch_tail_add_rows({qi.data(), qx.data(), qd.data()}, row0, tr,
                         {cp.data(), cr.data(), cv.data()}, col0, tc, s.data(), ld, 0);
  } else {
    launch_tail_add({qi.data(), qx.data(), qd.data()}, row0, tr, {cp.data(), cr.data(), cv.data()},
                    col0, tc, s.data(), ld, 0);
  }
  PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
  auto hs = to_host(s, s.size());
  for (int i = 0; i < tr; ++i) {
    for (int j = 0; j < ld; ++j) {
      double add = 0;
      if (j < tc) {
        const auto a = row0 + i, b = col0 + j;
        auto p = q.indptr[a], pe = q.indptr[a + 1], x = rr.indptr[b], xe = rr.indptr[b + 1];
        while (p < pe && x < xe) {
          if (q.indices[p] == rr.indices[x])
            add += double(q.data[p]) * rr.data[x], ++p, ++x;
          else if (q.indices[p] < rr.indices[x])
            ++p;
          else
            ++x;
        }
      }
      ASSERT_NEAR(hs[i * ld + j], base[i * ld + j] + add, 1e-5)
          << "rows_kernel=" << rows_kernel << " tc=" << tc << " ld=" << ld << " at " << i << ","
          << j;
    }
  }
}

TEST(GpuKernels, TailAddMatchesSparseReference) {
  SKIP_WITHOUT_GPU();
  for (bool rows_kernel : {false, true}) {
    check_tail(rows_kernel, 100, 128, 3);
    check_tail(rows_kernel, 101, 128, 4);  // a partial last chunk
    check_tail(rows_kernel, 100, 130, 5);  // rows not 16-byte aligned
    check_tail(rows_kernel, 150, 150, 6);  // every reference row
  }
}

TEST(GpuKernels, Transpose) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(0, 1);
  for (auto [rows, cols] : {std::pair{1, 1}, std::pair{37, 70}, std::pair{256, 129}}) {
    const std::int64_t ld_s = cols + 3, ld_t = rows + 7;
    std::vector<float> h(static_cast<std::size_t>(rows) * ld_s);
    for (auto& x : h) x = u(rng);
    auto s = to_device(h);
    DeviceBuffer<float> t(static_cast<std::size_t>(cols) * ld_t);
    poison(t);
    launch_transpose(s.data(), rows, cols, ld_s, t.data(), ld_t, 0);
    PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
    auto ht = to_host(t, t.size());
    for (int c = 0; c < cols; ++c)
      for (int r = 0; r < rows; ++r) ASSERT_EQ(ht[c * ld_t + r], h[r * ld_s + c]);
  }
}

std::vector<float> random_tile(std::mt19937& rng, int rows, std::int64_t ld, int levels) {
  std::vector<float> h(static_cast<std::size_t>(rows) * ld);
  std::uniform_real_distribution<float> u(0, 1);
  for (auto& x : h) {
    const float v = levels > 0 ? static_cast<float>(rng() % levels) / levels : u(rng);
    x = rng() % 7 == 0 ? 0.0f : v;  // some columns share no term
  }
  return h;
}

TEST(GpuKernels, ThresholdEmitsExactlyTheQualifyingPairsAndCountsOverflow) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(5);
  const int rows = 200, cols = 300;
  const std::int64_t ld = 320, row0 = 1000, col0 = 1000;  // a diagonal tile
  auto h = random_tile(rng, rows, ld, 50);
  auto s = to_device(h);
  for (bool upper : {true, false}) {
    for (std::int64_t cap : {std::int64_t{1} << 20, std::int64_t{100}}) {
      DeviceBuffer<DevicePair> pairs(cap);
      poison(pairs);
      DeviceBuffer<unsigned long long> counter(1);
      PAPERSIM_CUDA_TRY(cudaMemset(counter.data(), 0, 8));
      const float low = 0.8f;
      launch_threshold(s.data(), rows, cols, ld, row0, col0, upper,
                       {pairs.data(), counter.data(), cap, low}, 0);
      PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
      const auto n = to_host(counter, 1)[0];
      std::set<std::tuple<int, int, float>> expected, got;
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j)
          if (h[i * ld + j] >= low && (!upper || row0 + i < col0 + j))
            expected.insert({int(row0 + i), int(col0 + j), h[i * ld + j]});
      ASSERT_EQ(n, expected.size());
      auto hp = to_host(pairs, std::min<std::size_t>(n, cap));
      for (auto& p : hp) got.insert({p.a, p.b, p.score});
      ASSERT_EQ(got.size(), hp.size()) << "duplicate or poisoned entries";
      if (static_cast<std::int64_t>(n) <= cap)
        EXPECT_EQ(got, expected);
      else
        for (auto& g : got) EXPECT_TRUE(expected.count(g));
    }
  }
}

// Feed several tiles of one row block through select_merge and compare the
// kept lists with the CPU's best `keep` per row (scores as multisets: ties at
// the boundary may be broken either way, which finalize() tolerates).
void check_select(int keep, bool exclude_self, int levels, bool with_pairs, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const int rows = 70, cols = 256, tiles = 5;
  const std::int64_t ld = 260, row0 = 300;
  const std::int64_t total_rows = row0 + rows;
  DeviceBuffer<float> ls(total_rows * 2 * keep), lb(total_rows);
  DeviceBuffer<std::int32_t> li(total_rows * 2 * keep), lc(total_rows);
  poison(ls);
  poison(li);
  poison(lb);
  PAPERSIM_CUDA_TRY(cudaMemset(lc.data(), 0, lc.bytes()));
  TopKLists lists{ls.data(), li.data(), lc.data(), lb.data(), keep};
  std::vector<std::vector<std::pair<float, std::int64_t>>> all(rows);
  DeviceBuffer<DevicePair> pairs(1 << 16);
  DeviceBuffer<unsigned long long> counter(1);
  PAPERSIM_CUDA_TRY(cudaMemset(counter.data(), 0, 8));
  PairSink sink{pairs.data(), counter.data(), 1 << 16, 0.9f};
  std::size_t expected_pairs = 0;
  for (int t = 0; t < tiles; ++t) {
    const std::int64_t col0 = t * cols;  // tile 1 holds the rows themselves (col0 = 256 .. 512)
    auto h = random_tile(rng, rows, ld, levels);
    auto s = to_device(h);
    launch_select_merge(s.data(), rows, cols, ld, row0, col0, exclude_self, lists,
                        with_pairs ? &sink : nullptr, false, 0);
    PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) {
        const float v = h[i * ld + j];
        if (v > 0 && !(exclude_self && row0 + i == col0 + j)) all[i].push_back({v, col0 + j});
        if (v >= 0.9f) ++expected_pairs;
      }
  }
  if (with_pairs) EXPECT_EQ(to_host(counter, 1)[0], expected_pairs);
  auto hc = to_host(lc, total_rows);
  auto hs = to_host(ls, ls.size());
  auto hi = to_host(li, li.size());
  auto hb = to_host(lb, total_rows);
  for (std::int64_t g = 0; g < row0; ++g) ASSERT_EQ(hc[g], 0) << "touched a row outside the tile";
  for (int i = 0; i < rows; ++i) {
    const std::int64_t g = row0 + i;
    auto& cand = all[i];
    std::sort(cand.begin(), cand.end(), [](auto& a, auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    const int want = std::min<int>(keep, static_cast<int>(cand.size()));
    ASSERT_EQ(hc[g], want) << "row " << g;
    std::multiset<float> got_scores, want_scores;
    std::map<std::int64_t, float> truth;
    for (auto& c : cand) truth[c.second] = c.first;
    std::set<std::int32_t> seen;
    for (int j = 0; j < want; ++j) {
      const float sc = hs[g * 2 * keep + j];
      const std::int32_t ix = hi[g * 2 * keep + j];
      ASSERT_TRUE(truth.count(ix)) << "row " << g << " kept a non-candidate " << ix;
      ASSERT_EQ(truth[ix], sc) << "score does not belong to column " << ix;
      ASSERT_TRUE(seen.insert(ix).second) << "column kept twice";
      got_scores.insert(sc);
      want_scores.insert(cand[j].first);
    }
    ASSERT_EQ(got_scores, want_scores) << "row " << g;
    if (want == keep) EXPECT_EQ(hb[g], *want_scores.begin()) << "bound of row " << g;
  }
}

TEST(GpuKernels, SelectMergeSmallKeep) {
  SKIP_WITHOUT_GPU();
  check_select(1, true, 0, false, 10);
  check_select(5, true, 0, true, 11);
  check_select(16, false, 0, false, 12);
}

TEST(GpuKernels, SelectMergeTies) {
  SKIP_WITHOUT_GPU();
  check_select(3, true, 4, false, 20);
  check_select(40, true, 10, true, 21);
}

TEST(GpuKernels, SelectMergeLargeKeep) {
  SKIP_WITHOUT_GPU();
  check_select(300, true, 0, false, 30);     // keep > tile columns: append-only path
  check_select(200, true, 0, false, 31);     // some tiles exceed keep: radix path
  check_select(1000, false, 25, false, 32);  // keep > all candidates
}

// Running lists of global rows [0, total) on the device, and on the CPU every
// candidate each list has been offered, for the filter + merge path.
struct ListsUnderTest {
  int keep;
  std::int64_t total;
  DeviceBuffer<float> ls, lb;
  DeviceBuffer<std::int32_t> li, lc, lp;
  std::vector<std::vector<std::pair<float, std::int64_t>>> all;

  ListsUnderTest(int keep_, std::int64_t total_)
      : keep(keep_),
        total(total_),
        ls(total_ * 2 * keep_),
        lb(total_),
        li(total_ * 2 * keep_),
        lc(total_),
        lp(total_),
        all(static_cast<std::size_t>(total_)) {
    poison(ls);
    poison(li);
    poison(lb);
    PAPERSIM_CUDA_TRY(cudaMemset(lc.data(), 0, lc.bytes()));
    PAPERSIM_CUDA_TRY(cudaMemset(lp.data(), 0, lp.bytes()));
  }
  TopKLists lists() { return {ls.data(), li.data(), lc.data(), lb.data(), keep, lp.data()}; }

  // What a tile offers: row lists always, column lists when both_ways.
  void offer(const std::vector<float>& h, int rows, int cols, std::int64_t ld, std::int64_t row0,
             std::int64_t col0, bool exclude_self, bool both_ways) {
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) {
        const float v = h[i * ld + j];
        if (!(v > 0) || (exclude_self && row0 + i == col0 + j)) continue;
        all[row0 + i].push_back({v, col0 + j});
        if (both_ways) all[col0 + j].push_back({v, row0 + i});
      }
  }

  void check(const std::string& what) {
    auto hc = to_host(lc, total);
    auto hp = to_host(lp, total);
    auto hs = to_host(ls, ls.size());
    auto hi = to_host(li, li.size());
    auto hb = to_host(lb, total);
    for (std::int64_t g = 0; g < total; ++g) {
      ASSERT_EQ(hp[g], 0) << what << ": pending not reset for row " << g;
      auto& cand = all[g];
      std::sort(cand.begin(), cand.end(), [](auto& a, auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
      });
      const int want = std::min<int>(keep, static_cast<int>(cand.size()));
      ASSERT_EQ(hc[g], want) << what << ": row " << g;
      std::map<std::int64_t, float> truth;
      for (auto& c : cand) truth[c.second] = c.first;
      std::multiset<float> got_scores, want_scores;
      std::set<std::int32_t> seen;
      for (int j = 0; j < want; ++j) {
        const float sc = hs[g * 2 * keep + j];
        const std::int32_t ix = hi[g * 2 * keep + j];
        ASSERT_TRUE(truth.count(ix)) << what << ": row " << g << " kept a non-candidate " << ix;
        ASSERT_EQ(truth[ix], sc) << what << ": score does not belong to column " << ix;
        ASSERT_TRUE(seen.insert(ix).second) << what << ": column kept twice";
        got_scores.insert(sc);
        want_scores.insert(cand[j].first);
      }
      ASSERT_EQ(got_scores, want_scores) << what << ": row " << g;
      if (want == keep) ASSERT_EQ(hb[g], *want_scores.begin()) << what << ": bound of row " << g;
    }
  }
};

// Lists seeded through select_merge with `seed_cols` candidates (0: empty,
// few: not full, many: full), then three tiles through the filter + merge
// path, against the CPU's best `keep` of everything offered. Seeds use ids
// from 5000 up so no (list, candidate) pair is offered twice.
void check_filter(int keep, int levels, bool both_ways, int seed_cols, std::int64_t ld,
                  bool with_pairs, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const int rows = 70, cols = 200;
  const std::int64_t total = 700;
  const std::string what = "keep=" + std::to_string(keep) + " levels=" + std::to_string(levels) +
                           " both=" + std::to_string(both_ways) +
                           " seed_cols=" + std::to_string(seed_cols) + " ld=" + std::to_string(ld);
  ListsUnderTest t(keep, total);
  if (seed_cols > 0) {
    const std::int64_t seed_ld = seed_cols + 3;
    auto h = random_tile(rng, static_cast<int>(total), seed_ld, levels);
    auto s = to_device(h);
    launch_select_merge(s.data(), static_cast<int>(total), seed_cols, seed_ld, 0, 5000, true,
                        t.lists(), nullptr, false, 0);
    t.offer(h, static_cast<int>(total), seed_cols, seed_ld, 0, 5000, true, false);
  }
  DeviceBuffer<DevicePair> pairs(1 << 16);
  DeviceBuffer<unsigned long long> counter(1);
  PAPERSIM_CUDA_TRY(cudaMemset(counter.data(), 0, 8));
  PairSink sink{pairs.data(), counter.data(), 1 << 16, 0.9f};
  std::set<std::tuple<int, int, float>> expected_pairs;
  // Off-diagonal tiles (rows and columns disjoint), or with rows only a
  // diagonal-like tile whose columns include the rows themselves.
  const std::vector<std::pair<std::int64_t, std::int64_t>> tiles =
      both_ways ? std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 300}, {70, 300}, {0, 500}}
                : std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 0}, {70, 300}, {0, 500}};
  for (auto [row0, col0] : tiles) {
    const bool upper = !both_ways && row0 == col0;
    auto h = random_tile(rng, rows, ld, levels);
    auto s = to_device(h);
    launch_filter_tile(s.data(), rows, cols, ld, row0, col0, true, both_ways, t.lists(),
                       with_pairs ? &sink : nullptr, upper, 0);
    launch_merge_pending(s.data(), rows, cols, ld, row0, col0, true, both_ways, t.lists(), 0);
    PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
    t.offer(h, rows, cols, ld, row0, col0, true, both_ways);
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j)
        if (h[i * ld + j] >= 0.9f && (!upper || row0 + i < col0 + j))
          expected_pairs.insert({int(row0 + i), int(col0 + j), h[i * ld + j]});
  }
  t.check(what);
  if (with_pairs) {
    const auto n = to_host(counter, 1)[0];
    ASSERT_EQ(n, expected_pairs.size()) << what;
    std::set<std::tuple<int, int, float>> got;
    for (auto& p : to_host(pairs, n)) got.insert({p.a, p.b, p.score});
    EXPECT_EQ(got, expected_pairs) << what;
  }
}

TEST(GpuKernels, FilterMergeBothWays) {
  SKIP_WITHOUT_GPU();
  std::uint32_t seed = 40;
  for (int keep : {1, 5, 40})
    for (int seed_cols : {0, 20, 150})
      for (int levels : {0, 6}) check_filter(keep, levels, true, seed_cols, 204, true, seed++);
}

TEST(GpuKernels, FilterMergeRowsOnlyAndUnalignedTiles) {
  SKIP_WITHOUT_GPU();
  std::uint32_t seed = 60;
  for (int keep : {3, 40})
    for (int seed_cols : {0, 150}) {
      check_filter(keep, 0, false, seed_cols, 204, true, seed++);
      check_filter(keep, 4, false, seed_cols, 203, true, seed++);  // scalar loads
      check_filter(keep, 0, true, seed_cols, 201, false, seed++);
    }
}

TEST(GpuKernels, FilterMergeLargeKeep) {
  SKIP_WITHOUT_GPU();
  check_filter(300, 0, true, 150, 204, false, 80);  // keep above a tile's candidates
  check_filter(120, 10, true, 150, 204, false, 81);
}

}  // namespace
}  // namespace papersim::cuda
