// Google Benchmark cases for each CUDA kernel, timed with CUDA events
// (manual time); items = score-tile elements (pairs) processed.
#include <benchmark/benchmark.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <random>
#include <vector>

#include "cuda/cuda_backend.hpp"
#include "cuda/kernels.cuh"
#include "cuda/resources.cuh"
#include "cuda/select_logic.hpp"

using namespace papersim::cuda;

namespace {

bool have_gpu() { return !list_devices().empty(); }

template <class F>
void time_loop(benchmark::State& state, F&& launch) {
  Event e0(true), e1(true);
  launch();  // warm-up
  PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
  for (auto _ : state) {
    e0.record(0);
    launch();
    e1.record(0);
    e1.synchronize();
    float ms = 0;
    PAPERSIM_CUDA_TRY(cudaEventElapsedTime(&ms, e0.get(), e1.get()));
    state.SetIterationTime(ms * 1e-3);
  }
}

__device__ float hash_unit(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return (static_cast<float>(x >> 40) + 0.5f) * (1.0f / 16777216.0f);  // (0, 1)
}

// Gamma(2, 0.04)-distributed scores, capped at 1: mostly small with a long
// tail, like the cosines of abstracts. Made on the device: a host generator
// spends seconds on a 16384² tile.
__global__ void fill_scores_kernel(float* s, std::size_t n, std::uint64_t seed) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float g = -0.04f * (logf(hash_unit(seed * 0x9e3779b97f4a7c15ull + 2 * i)) +
                              logf(hash_unit(seed * 0x9e3779b97f4a7c15ull + 2 * i + 1)));
    s[i] = fminf(1.0f, g);
  }
}

DeviceBuffer<float> random_scores(std::size_t n, std::uint64_t seed) {
  DeviceBuffer<float> s(n);
  fill_scores_kernel<<<1024, 256>>>(s.data(), n, seed);
  PAPERSIM_CHECK_LAUNCH("fill_scores_kernel");
  PAPERSIM_CUDA_TRY(cudaDeviceSynchronize());
  return s;
}

void BM_HeadGemm(benchmark::State& state) {
  if (!have_gpu()) return state.SkipWithError("no CUDA device");
  const int e = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  DeviceBuffer<__half> q(static_cast<std::size_t>(e) * d), r(static_cast<std::size_t>(e) * d);
  PAPERSIM_CUDA_TRY(cudaMemset(q.data(), 0x2c, q.bytes()));
  PAPERSIM_CUDA_TRY(cudaMemset(r.data(), 0x2c, r.bytes()));
  DeviceBuffer<float> s(static_cast<std::size_t>(e) * e);
  CublasHandle h;
  time_loop(state, [&] { gemm_head_tile(h.get(), 0, q.data(), r.data(), e, e, d, s.data(), e); });
  state.SetItemsProcessed(state.iterations() * std::int64_t(e) * e);
  state.counters["TFLOPS"] = benchmark::Counter(2.0 * e * e * double(d) * state.iterations() / 1e12,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HeadGemm)
    ->Args({8192, 256})
    ->Args({8192, 512})
    ->Args({16384, 512})
    ->Args({16384, 832})
    ->Args({16384, 1024})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Tail: every row of an e × e tile has about `t` tail terms drawn uniformly from
// `vocab` terms, so a pair shares about t²/vocab tail products (reported).
void BM_TailAdd(benchmark::State& state) {
  if (!have_gpu()) return state.SkipWithError("no CUDA device");
  const int e = static_cast<int>(state.range(0)), t = static_cast<int>(state.range(1));
  const int vocab = static_cast<int>(state.range(2));
  std::mt19937 rng(3);
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int32_t> indices;
  std::vector<float> data;
  for (int r = 0; r < e; ++r) {
    std::vector<std::int32_t> terms;
    for (int i = 0; i < t; ++i) terms.push_back(static_cast<std::int32_t>(rng() % vocab));
    std::sort(terms.begin(), terms.end());
    terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
    for (auto c : terms) indices.push_back(c), data.push_back(0.05f);
    indptr.push_back(static_cast<std::int64_t>(indices.size()));
  }
  std::vector<std::int64_t> colptr(vocab + 1, 0);
  for (auto c : indices) ++colptr[c + 1];
  for (int c = 0; c < vocab; ++c) colptr[c + 1] += colptr[c];
  std::vector<std::int32_t> rows(indices.size());
  std::vector<float> vals(indices.size(), 0.05f);
  std::vector<std::int64_t> fill(colptr.begin(), colptr.end() - 1);
  for (int r = 0; r < e; ++r)
    for (auto p = indptr[r]; p < indptr[r + 1]; ++p) rows[fill[indices[p]]++] = r;
  auto up = [](const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    DeviceBuffer<T> d(v.size());
    PAPERSIM_CUDA_TRY(cudaMemcpy(d.data(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
    return d;
  };
  auto a = up(indptr);
  auto b = up(indices);
  auto c = up(data);
  auto cp = up(colptr);
  auto cr = up(rows);
  auto cv = up(vals);
  DeviceBuffer<float> s(static_cast<std::size_t>(e) * e);
  PAPERSIM_CUDA_TRY(cudaMemset(s.data(), 0, s.bytes()));
  double products = 0;
  for (int v = 0; v < vocab; ++v)
    products += double(colptr[v + 1] - colptr[v]) * (colptr[v + 1] - colptr[v]);
  const bool rows_kernel = state.range(3) != 0;
  time_loop(state, [&] {
    if (rows_kernel)
      launch_tail_add_rows({a.data(), b.data(), c.data()}, 0, e, {cp.data(), cr.data(), cv.data()},
                           0, e, s.data(), e, 0);
    else
      launch_tail_add({a.data(), b.data(), c.data()}, 0, e, {cp.data(), cr.data(), cv.data()}, 0, e,
                      s.data(), e, 0);
  });
  state.SetItemsProcessed(state.iterations() * std::int64_t(e) * e);
  state.counters["products_per_pair"] = products / (double(e) * e);
  state.counters["products/s"] =
      benchmark::Counter(products * state.iterations(), benchmark::Counter::kIsRate);
}
// Last argument: 0 = global atomics (launch_tail_add), 1 = per-row shared-memory sums.
BENCHMARK(BM_TailAdd)
    ->Args({8192, 40, 20000, 0})
    ->Args({8192, 40, 100000, 0})
    ->Args({16384, 40, 20000, 0})
    ->Args({16384, 40, 20000, 1})
    ->Args({16384, 40, 100000, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_Transpose(benchmark::State& state) {
  if (!have_gpu()) return state.SkipWithError("no CUDA device");
  const int e = static_cast<int>(state.range(0));
  DeviceBuffer<float> s(static_cast<std::size_t>(e) * e), t(static_cast<std::size_t>(e) * e);
  PAPERSIM_CUDA_TRY(cudaMemset(s.data(), 0, s.bytes()));
  time_loop(state, [&] { launch_transpose(s.data(), e, e, e, t.data(), e, 0); });
  state.SetItemsProcessed(state.iterations() * std::int64_t(e) * e);
  state.SetBytesProcessed(state.iterations() * std::int64_t(e) * e * 8);
}
BENCHMARK(BM_Transpose)->Arg(8192)->Arg(16384)->UseManualTime()->Unit(benchmark::kMillisecond);

// Selection of one tile into lists that are empty (first tile: every positive
// score competes) or already full (steady state: the bound prunes), with and
// without threshold emission.
void BM_SelectMerge(benchmark::State& state) {
  if (!have_gpu()) return state.SkipWithError("no CUDA device");
  const int e = static_cast<int>(state.range(0)), keep = static_cast<int>(state.range(1));
  const bool steady = state.range(2) != 0;
  DeviceBuffer<float> s = random_scores(static_cast<std::size_t>(e) * e, 5);
  DeviceBuffer<float> ls(static_cast<std::size_t>(e) * 2 * keep), lb(e);
  DeviceBuffer<std::int32_t> li(static_cast<std::size_t>(e) * 2 * keep), lc(e);
  DeviceBuffer<DevicePair> pairs(1 << 22);
  DeviceBuffer<unsigned long long> counter(1);
  TopKLists lists{ls.data(), li.data(), lc.data(), lb.data(), keep};
  PairSink sink{pairs.data(), counter.data(), 1 << 22, 0.898f};
  auto reset = [&] {
    PAPERSIM_CUDA_TRY(cudaMemset(lc.data(), 0, lc.bytes()));
    PAPERSIM_CUDA_TRY(cudaMemset(counter.data(), 0, 8));
    if (steady) launch_select_merge(s.data(), e, e, e, 0, 0, true, lists, nullptr, false, 0);
  };
  Event e0(true), e1(true);
  for (auto _ : state) {
    reset();
    e0.record(0);
    launch_select_merge(s.data(), e, e, e, 0, steady ? e : 0, true, lists, &sink, false, 0);
    e1.record(0);
    e1.synchronize();
    float ms = 0;
    PAPERSIM_CUDA_TRY(cudaEventElapsedTime(&ms, e0.get(), e1.get()));
    state.SetIterationTime(ms * 1e-3);
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(e) * e);
}
BENCHMARK(BM_SelectMerge)
    ->Args({8192, 42, 0})
    ->Args({8192, 42, 1})
    ->Args({16384, 42, 1})
    ->Args({8192, 1024, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// The filter path on an off-diagonal self-join tile (rows 0..e, columns
// e..2e) in the state of the second tile a strip sees: every list seeded by
// one other tile of e scores, so about keep/2 scores per list survive. The
// lists are restored (device copy) before each timed iteration. Time covers
// the filter pass (with threshold emission) and the merge; the split is in
// the filter_ms and merge_ms counters.
void BM_FilterMerge(benchmark::State& state) {
  if (!have_gpu()) return state.SkipWithError("no CUDA device");
  const int e = static_cast<int>(state.range(0)), keep = static_cast<int>(state.range(1));
  const std::size_t lists_rows = 2 * static_cast<std::size_t>(e);
  DeviceBuffer<float> s = random_scores(static_cast<std::size_t>(e) * e, 5);
  DeviceBuffer<float> ls(lists_rows * 2 * keep), lb(lists_rows), ls0(lists_rows * 2 * keep),
      lb0(lists_rows);
  DeviceBuffer<std::int32_t> li(lists_rows * 2 * keep), lc(lists_rows), lp(lists_rows),
      li0(lists_rows * 2 * keep), lc0(lists_rows);
  DeviceBuffer<DevicePair> pairs(1 << 22);
  DeviceBuffer<unsigned long long> counter(1);
  TopKLists lists{ls.data(), li.data(), lc.data(), lb.data(), keep, lp.data()};
  PairSink sink{pairs.data(), counter.data(), 1 << 22, 0.898f};
  PAPERSIM_CUDA_TRY(cudaMemset(lc.data(), 0, lc.bytes()));
  PAPERSIM_CUDA_TRY(cudaMemset(lp.data(), 0, lp.bytes()));
  {
    DeviceBuffer<float> seed = random_scores(static_cast<std::size_t>(e) * e, 7);
    for (std::int64_t half = 0; half < 2; ++half)
      launch_select_merge(seed.data(), e, e, e, half * e, 3 * std::int64_t(e), true, lists, nullptr,
                          false, 0);
  }
  auto copy = [](auto& dst, const auto& src) {
    PAPERSIM_CUDA_TRY(cudaMemcpy(dst.data(), src.data(), src.bytes(), cudaMemcpyDeviceToDevice));
  };
  copy(ls0, ls), copy(li0, li), copy(lc0, lc), copy(lb0, lb);
  Event e0(true), e1(true), e2(true);
  double filter_ms = 0, merge_ms = 0;
  for (auto _ : state) {
    copy(ls, ls0), copy(li, li0), copy(lc, lc0), copy(lb, lb0);
    PAPERSIM_CUDA_TRY(cudaMemset(counter.data(), 0, 8));
    e0.record(0);
    launch_filter_tile(s.data(), e, e, e, 0, e, true, true, lists, &sink, false, 0);
    e1.record(0);
    launch_merge_pending(s.data(), e, e, e, 0, e, true, true, lists, 0);
    e2.record(0);
    e2.synchronize();
    float a = 0, b = 0;
    PAPERSIM_CUDA_TRY(cudaEventElapsedTime(&a, e0.get(), e1.get()));
    PAPERSIM_CUDA_TRY(cudaEventElapsedTime(&b, e1.get(), e2.get()));
    filter_ms += a;
    merge_ms += b;
    state.SetIterationTime((a + b) * 1e-3);
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(e) * e);
  state.counters["filter_ms"] = filter_ms / std::max<double>(1, state.iterations());
  state.counters["merge_ms"] = merge_ms / std::max<double>(1, state.iterations());
}
BENCHMARK(BM_FilterMerge)
    ->Args({8192, 42})
    ->Args({16384, 42})
    ->Args({16384, 1024})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_Threshold(benchmark::State& state) {
  if (!have_gpu()) return state.SkipWithError("no CUDA device");
  const int e = static_cast<int>(state.range(0));
  DeviceBuffer<float> s = random_scores(static_cast<std::size_t>(e) * e, 6);
  DeviceBuffer<DevicePair> pairs(1 << 22);
  DeviceBuffer<unsigned long long> counter(1);
  time_loop(state, [&] {
    PAPERSIM_CUDA_TRY(cudaMemsetAsync(counter.data(), 0, 8, 0));
    launch_threshold(s.data(), e, e, e, 0, 0, false,
                     {pairs.data(), counter.data(), 1 << 22, 0.898f}, 0);
  });
  state.SetItemsProcessed(state.iterations() * std::int64_t(e) * e);
}
BENCHMARK(BM_Threshold)->Arg(8192)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
