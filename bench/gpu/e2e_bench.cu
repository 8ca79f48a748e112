// End-to-end benchmark of the CUDA backend: a self-join (top-k + threshold)
// on a synthetic TF-IDF-like matrix or a loaded one, with the head GEMM's
// share measured separately against a measured cuBLAS fp16 peak, and the CPU
// backend on a smaller N for the speed-up at equal N (cpu_vs_gpu) and the
// per-pair rate ratio (rate_vs_cpu_at_cpu_n: this N's GPU pairs/s over the
// CPU's pairs/s at --cpu-n, an extrapolation). Prints one JSON object per run.
//
//   e2e_bench [--n 1000000] [--nnz 100] [--vocab 500000] [--k 10]
//             [--threshold 0.9] [--cpu-n 100000] [--matrix FILE] [--head-dim -1]
//             [--tile 0] [--seed 1]

#include <cuda_fp16.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/util.hpp"
#include "cuda/cuda_backend.hpp"
#include "cuda/engine.cuh"
#include "cuda/kernels.cuh"
#include "cuda/resources.cuh"
#include "gpu_bench_util.hpp"
#include "papersim/similarity.hpp"
#include "sim/cpu_backend.hpp"
#include "sim/plan.hpp"

using namespace papersim;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// fp16 GEMM peak of this device: 8192^3 with fp32 accumulation, best of 5.
double measure_gemm_peak_tflops() {
  const int n = 8192;
  cuda::DeviceBuffer<__half> a(static_cast<std::size_t>(n) * n), b(static_cast<std::size_t>(n) * n);
  cuda::DeviceBuffer<float> c(static_cast<std::size_t>(n) * n);
  PAPERSIM_CUDA_TRY(cudaMemset(a.data(), 0x2c, a.bytes()));  // ~0.06: finite, non-zero
  PAPERSIM_CUDA_TRY(cudaMemset(b.data(), 0x2c, b.bytes()));
  cuda::CublasHandle h;
  cuda::Event e0(true), e1(true);
  double best = 0;
  for (int rep = 0; rep < 6; ++rep) {
    e0.record(0);
    cuda::gemm_head_tile(h.get(), 0, a.data(), b.data(), n, n, n, c.data(), n);
    e1.record(0);
    e1.synchronize();
    float ms = 0;
    PAPERSIM_CUDA_TRY(cudaEventElapsedTime(&ms, e0.get(), e1.get()));
    if (rep > 0) best = std::max(best, 2.0 * n * n * double(n) / (ms * 1e-3) / 1e12);
  }
  return best;
}

// Time the head GEMMs alone over the same tile plan the engine used.
double measure_plan_gemm_seconds(std::int64_t rows, int head_dim, std::int64_t edge) {
  if (head_dim == 0) return 0;
  cuda::DeviceBuffer<__half> head(static_cast<std::size_t>(rows) * head_dim);
  PAPERSIM_CUDA_TRY(cudaMemset(head.data(), 0x2c, head.bytes()));
  cuda::DeviceBuffer<float> s(static_cast<std::size_t>(edge) * edge);
  cuda::CublasHandle h;
  const detail::TilePlan plan = detail::plan_tiles(rows, rows, true, edge, edge);
  cuda::Event e0(true), e1(true);
  e0.record(0);
  for (const auto& t : plan.tiles) {
    cuda::gemm_head_tile(h.get(), 0, head.data() + t.row_begin * head_dim,
                         head.data() + t.col_begin * head_dim, int(t.row_end - t.row_begin),
                         int(t.col_end - t.col_begin), head_dim, s.data(), edge);
  }
  e1.record(0);
  e1.synchronize();
  float ms = 0;
  PAPERSIM_CUDA_TRY(cudaEventElapsedTime(&ms, e0.get(), e1.get()));
  return ms * 1e-3;
}

double tile_pairs_computed(std::int64_t rows, std::int64_t edge) {
  const detail::TilePlan plan = detail::plan_tiles(rows, rows, true, edge, edge);
  double n = 0;
  for (const auto& t : plan.tiles)
    n += double(t.row_end - t.row_begin) * double(t.col_end - t.col_begin);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 1000000, vocab = 500000, cpu_n = 100000, k = 10, tile = 0;
  double nnz = 100;
  float threshold = 0.9f;
  int head_dim = -1;
  unsigned seed = 1;
  std::string matrix;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--n")
      n = std::stoll(v);
    else if (a == "--nnz")
      nnz = std::stod(v);
    else if (a == "--vocab")
      vocab = std::stoll(v);
    else if (a == "--k")
      k = std::stoll(v);
    else if (a == "--threshold")
      threshold = std::stof(v);
    else if (a == "--cpu-n")
      cpu_n = std::stoll(v);
    else if (a == "--matrix")
      matrix = v;
    else if (a == "--head-dim")
      head_dim = std::stoi(v);
    else if (a == "--tile")
      tile = std::stoll(v);
    else if (a == "--seed")
      seed = static_cast<unsigned>(std::stoul(v));
    else {
      std::fprintf(stderr, "e2e_bench: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const auto devices = cuda::list_devices();
  if (devices.empty()) {
    std::fprintf(stderr, "e2e_bench: no CUDA device visible\n");
    return 1;
  }
  const int threads = static_cast<int>(std::thread::hardware_concurrency());
  double t0 = now();
  const CsrMatrix x = matrix.empty() ? bench::synthetic_tfidf(n, vocab, nnz, 0.01, seed, threads)
                                     : bench::load_matrix(matrix);
  const double gen_s = now() - t0;
  n = x.rows;

  SimilarityParams p;
  p.k = k;
  p.threshold = threshold;
  p.head_dim = head_dim;
  p.tile = tile;
  auto gpu = cuda::make_cuda_backend();
  // Phases from the progress callback (called as each tile's results are in):
  // before the first tile is harvested (input preparation, uploads, first
  // tiles), the tiles, and after the last one (gather and finalize).
  double first_tile = 0, last_tile = 0;
  p.progress = [&](std::int64_t, std::int64_t) {
    last_tile = now();
    if (first_tile == 0) first_tile = last_tile;
  };
  t0 = now();
  const SimilarityResult r = gpu->self_join(x, p);
  const double gpu_s = now() - t0;
  const double to_first_tile_s = first_tile > 0 ? first_tile - t0 : 0;
  const double tiles_s = last_tile - first_tile;
  const double after_tiles_s = last_tile > 0 ? t0 + gpu_s - last_tile : 0;
  p.progress = nullptr;

  // The same split and tiles again, for the GEMM's share and the engine's edge.
  t0 = now();
  const cuda::EngineInputs in = cuda::prepare_inputs(x, nullptr, p);
  const double prepare_s = now() - t0;  // host input preparation, part of gpu_total_s
  std::size_t free_b = 0, total_b = 0;
  PAPERSIM_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
  const double peak = measure_gemm_peak_tflops();
  // The engine's resident data (head block, tails, lists) was freed with it:
  // subtract its size to get the free memory the engine sized its tiles from.
  const std::size_t resident = static_cast<std::size_t>(n) * in.head_dim * 2 +
                               static_cast<std::size_t>(n) * (2 * in.keep * 8 + 16) +
                               in.join->q.tail.data.size() * 16 + in.ref_colptr.size() * 8;
  const std::int64_t edge =
      r.stats.tiles > 0 ? cuda::choose_tile_edge(p, in, free_b - std::min(free_b, resident)) : 0;
  const double gemm_s = edge > 0 ? measure_plan_gemm_seconds(n, in.head_dim, edge) : 0;
  const double gemm_flops =
      2.0 * in.head_dim * tile_pairs_computed(n, std::max<std::int64_t>(edge, 1));

  std::int64_t neighbours = 0;
  for (auto& l : r.topk) neighbours += static_cast<std::int64_t>(l.size());

  // CPU backend on a smaller N of the same kind, and the GPU on that N, for
  // the speed-up at equal work.
  double cpu_s = 0, gpu_small_s = 0, cpu_pairs_per_s = 0;
  std::int64_t small = std::min(cpu_n, n);
  if (small > 1) {
    const CsrMatrix xs = matrix.empty()
                             ? bench::synthetic_tfidf(small, vocab, nnz, 0.01, seed + 1, threads)
                             : x.slice_rows(0, small);
    auto cpu = detail::make_cpu_backend();
    t0 = now();
    const SimilarityResult rc = cpu->self_join(xs, p);
    cpu_s = now() - t0;
    t0 = now();
    const SimilarityResult rg = gpu->self_join(xs, p);
    gpu_small_s = now() - t0;
    // Same answers (the parity tests check this in depth; here a cheap guard).
    bool same = rc.pairs.size() == rg.pairs.size() && rc.topk.size() == rg.topk.size();
    for (std::size_t i = 0; same && i < rc.topk.size(); ++i) {
      same = rc.topk[i].size() == rg.topk[i].size();
      for (std::size_t j = 0; same && j < rc.topk[i].size(); ++j)
        same = rc.topk[i][j].doc == rg.topk[i][j].doc && rc.topk[i][j].score == rg.topk[i][j].score;
    }
    cpu_pairs_per_s = static_cast<double>(rc.stats.pairs_evaluated) / cpu_s;
    std::printf(
        "{\"bench\": \"cpu_vs_gpu\", \"n\": %lld, \"cpu_s\": %.3f, \"gpu_s\": %.3f, \"speedup\": "
        "%.1f, \"cpu_threads\": %d, \"cpu_pairs_per_s\": %.4g, \"identical\": %s}\n",
        static_cast<long long>(small), cpu_s, gpu_small_s, cpu_s / gpu_small_s, threads,
        cpu_pairs_per_s, same ? "true" : "false");
  }

  const double pairs = static_cast<double>(r.stats.pairs_evaluated);
  std::printf(
      "{\"bench\": \"e2e\", \"device\": \"%s\", \"n\": %lld, \"nnz\": %lld, \"source\": \"%s\", "
      "\"k\": %lld, "
      "\"threshold\": %.3f, \"head_dim\": %d, \"tile_edge\": %lld, \"tiles\": %lld, \"gen_s\": "
      "%.2f, "
      "\"gpu_total_s\": %.3f, \"pairs\": %.4g, \"pairs_per_s\": %.4g, \"head_gemm_s\": %.3f, "
      "\"head_gemm_tflops\": %.1f, \"cublas_fp16_peak_tflops\": %.1f, \"device_bytes\": %zu, "
      "\"threshold_pairs\": %zu, \"neighbours\": %lld, \"rescored\": %lld, \"fallback_rows\": "
      "%lld, "
      "\"zero_rows\": %lld, \"peak_rss_bytes\": %zu, \"prepare_s\": %.3f, "
      "\"to_first_tile_s\": %.3f, \"tiles_s\": %.3f, \"after_tiles_s\": %.3f, "
      "\"rate_vs_cpu_at_cpu_n\": %.1f}\n",
      devices[0].name.c_str(), static_cast<long long>(n), static_cast<long long>(x.nnz()),
      matrix.empty() ? "synthetic" : matrix.c_str(), static_cast<long long>(k), threshold,
      r.stats.head_dim, static_cast<long long>(edge), static_cast<long long>(r.stats.tiles), gen_s,
      gpu_s, pairs, pairs / gpu_s, gemm_s, gemm_s > 0 ? gemm_flops / gemm_s / 1e12 : 0.0, peak,
      r.stats.peak_working_bytes, r.pairs.size(), static_cast<long long>(neighbours),
      static_cast<long long>(r.stats.rescored), static_cast<long long>(r.stats.fallback_rows),
      static_cast<long long>(r.stats.zero_rows), peak_rss_bytes(), prepare_s, to_first_tile_s,
      tiles_s, after_tiles_s,
      // An extrapolation, not a measurement at equal N: this run's pairs/s over
      // the CPU backend's pairs/s at --cpu-n (0 when the CPU was not run).
      cpu_pairs_per_s > 0 ? pairs / gpu_s / cpu_pairs_per_s : 0.0);
  return 0;
}
