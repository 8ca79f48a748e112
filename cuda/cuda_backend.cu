// The CUDA similarity backend: a TilePass of the shared driver
// (sim/driver.hpp). The driver splits the rows, plans the tiles and runs the
// exact finalize(); here each device gets an engine (engine.cuh) holding the
// inputs, its share of the tiles (dealt round-robin) and running top-keep lists
// on the device, which are merged into the driver's lists at the end.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/util.hpp"
#include "cuda/cuda_backend.hpp"
#include "cuda/engine.cuh"
#include "cuda/error.cuh"
#include "papersim/error.hpp"
#include "sim/driver.hpp"

namespace papersim::cuda {

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  int count = 0;
  // No driver, no GPU, or a driver older than the runtime: all mean "no devices".
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return out;
  }
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, d) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    DeviceInfo info;
    info.index = d;
    info.name = prop.name;
    info.major = prop.major;
    info.minor = prop.minor;
    info.total_memory = prop.totalGlobalMem;
    info.multiprocessors = prop.multiProcessorCount;
    int previous = 0;
    if (cudaGetDevice(&previous) == cudaSuccess && cudaSetDevice(d) == cudaSuccess) {
      std::size_t free_b = 0, total_b = 0;
      if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) info.free_memory = free_b;
      cudaSetDevice(previous);
    }
    cudaGetLastError();
    out.push_back(info);
  }
  return out;
}

namespace {

class CudaPass final : public detail::TilePass {
 public:
  explicit CudaPass(const BackendOptions& options) : options_(options) {
    for (const DeviceInfo& d : list_devices()) all_.push_back(d);
    if (all_.empty()) throw BackendUnavailable("CUDA backend: no CUDA device is visible");
  }

  std::string name() const override {
    std::string n = "cuda: " + all_.front().name;
    if (all_.size() > 1) n += " x" + std::to_string(all_.size());
    return n;
  }

  detail::PassTraits traits(const SimilarityParams&) const override { return pass_traits(); }

  void check(const SimilarityParams& params) const override { (void)devices_for(params); }

  std::int64_t tile_edge(const SimilarityParams& params, int, std::int64_t rows_q,
                         std::int64_t rows_r, std::size_t) const override {
    // The cost model's view before any upload: the edge the free memory of the
    // smallest device would give (the resident inputs are not yet known).
    std::size_t free_min = SIZE_MAX;
    for (const DeviceInfo& d : all_) free_min = std::min(free_min, d.free_memory);
    const std::int64_t longest = std::max(rows_q, rows_r);
    const std::int64_t cap = std::max<std::int64_t>(64, (longest + 63) / 64 * 64);
    if (params.tile > 0) return std::min(params.tile, cap);
    const double edge = std::sqrt(0.8 * static_cast<double>(free_min) / (4.0 * sizeof(float)));
    return std::max<std::int64_t>(64, std::min<std::int64_t>(cap, static_cast<std::int64_t>(edge)));
  }

  std::int64_t prepare(const detail::JoinInputs& join, const SimilarityParams& params,
                       std::size_t) override {
    engines_.clear();
    ids_ = devices_for(params);
    in_ = prepare_inputs(join, params);
    if (join.queries.rows == 0 || join.references.rows == 0) return 64;
    // One engine (and host thread) per device, each with the whole input.
    engines_.resize(ids_.size());
    each_device([&](std::size_t e) {
      engines_[e] = std::make_unique<DeviceEngine>(ids_[e], in_, options_);
    });
    std::size_t free_min = SIZE_MAX;
    for (auto& eng : engines_) free_min = std::min(free_min, eng->free_bytes());
    return choose_tile_edge(params, in_, free_min);
  }

  void run(const detail::JoinInputs& join, const detail::TilePlan& plan,
           const SimilarityParams& params, detail::CandidateStore& store,
           SimilarityStats& stats) override {
    // Tiles dealt round-robin so every device gets a share of each row strip.
    std::vector<std::vector<detail::Tile>> share(ids_.size());
    for (std::size_t t = 0; t < plan.tiles.size(); ++t)
      share[t % ids_.size()].push_back(plan.tiles[t]);
    const std::int64_t edge = plan.tile_rows;
    each_device([&](std::size_t e) {
      engines_[e]->allocate_tiles(edge);
      engines_[e]->run(share[e], [&store](const detail::Tile& t) { store.tile_done(t); });
    });
    for (auto& eng : engines_)
      stats.peak_working_bytes = std::max(stats.peak_working_bytes, eng->working_bytes());

    // Gather: every device kept its best `keep` per row over its tiles; the
    // union's best `keep` is the global best `keep`.
    if (in_.keep > 0) {
      std::vector<std::int32_t> count, idx;
      std::vector<float> score;
      const std::size_t keep = static_cast<std::size_t>(in_.keep);
      for (auto& eng : engines_) {
        eng->download_lists(count, score, idx);
        parallel_for(
            join.queries.rows, params.threads,
            [&](std::int64_t i) {
              const std::size_t base = static_cast<std::size_t>(i) * keep;
              store.merge_row(i, score.data() + base, idx.data() + base, count[i]);
            },
            1024);
      }
    }
    if (in_.want_pairs) {
      for (auto& eng : engines_) {
        std::vector<ScoredPair> pairs;
        pairs.reserve(eng->pairs().size());
        for (const DevicePair& p : eng->pairs()) pairs.push_back({p.a, p.b, p.score});
        eng->pairs().clear();
        eng->pairs().shrink_to_fit();
        store.add_pairs(pairs);
      }
    }
    engines_.clear();
    in_ = EngineInputs{};
  }

 private:
  std::vector<int> devices_for(const SimilarityParams& params) const {
    std::vector<int> ids;
    if (params.devices.empty()) {
      for (const DeviceInfo& d : all_) ids.push_back(d.index);
      return ids;
    }
    for (int d : params.devices) {
      if (d < 0 || d >= static_cast<int>(all_.size())) {
        throw UsageError("--devices: no CUDA device " + std::to_string(d) + " (" +
                         std::to_string(all_.size()) + " visible)");
      }
      if (std::find(ids.begin(), ids.end(), d) == ids.end()) ids.push_back(d);
    }
    return ids;
  }

  // fn(e) for every device on its own host thread; the first error is rethrown.
  void each_device(const std::function<void(std::size_t)>& fn) {
    std::vector<std::exception_ptr> errors(ids_.size());
    std::vector<std::thread> threads;
    for (std::size_t e = 0; e < ids_.size(); ++e) {
      threads.emplace_back([&, e] {
        try {
          fn(e);
        } catch (...) {
          errors[e] = std::current_exception();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (auto& err : errors) {
      if (err) {
        engines_.clear();
        std::rethrow_exception(err);
      }
    }
  }

  BackendOptions options_;
  std::vector<DeviceInfo> all_;
  std::vector<int> ids_;
  EngineInputs in_;
  std::vector<std::unique_ptr<DeviceEngine>> engines_;
};

}  // namespace

std::unique_ptr<SimilarityBackend> make_cuda_backend(const BackendOptions& options) {
  return std::make_unique<detail::DriverBackend>(std::make_unique<CudaPass>(options));
}

}  // namespace papersim::cuda
