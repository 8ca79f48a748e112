#pragma once
// The per-device engine of the CUDA backend: an explicit context (device,
// streams, cuBLAS handle, resident inputs, running lists, tile slots) and the
// tile loop over the tiles the driver (sim/driver.hpp) dealt to this device.
// Implemented in engine.cu; exposed so the benchmarks can time the phases.

#include <cuda_fp16.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "cuda/kernels.cuh"
#include "cuda/resources.cuh"
#include "papersim/csr.hpp"
#include "papersim/similarity.hpp"
#include "sim/driver.hpp"
#include "sim/plan.hpp"

namespace papersim::cuda {

/// Host-side inputs shared by every device: the driver's split rows, the
/// reference tail by term, the lists' size.
struct EngineInputs {
  const detail::JoinInputs* join = nullptr;
  /// Set when these inputs own their split (prepare_inputs on matrices).
  std::shared_ptr<const detail::JoinInputs> owned_join;
  bool self_join = true;
  int head_dim = 0;                      ///< join->split.head_dim padded to a multiple of 64.
  std::vector<std::int64_t> ref_colptr;  ///< Reference tail by term: cols + 1 offsets.
  std::vector<std::int32_t> ref_rows;
  std::vector<float> ref_vals;
  int keep = 0;  ///< Candidates kept per row (0 = no top-k).
  bool want_pairs = false;
  float pair_low = 0.0f;  ///< threshold - margin.
  float margin = 0.0f;
  std::int64_t rows_q() const { return join->queries.rows; }
  std::int64_t rows_r() const { return join->references.rows; }
};

/// What the CUDA backend tells the driver: cost model, margin, tail numbering, order.
detail::PassTraits pass_traits();

/// The device inputs for a split made by the driver with pass_traits().
EngineInputs prepare_inputs(const detail::JoinInputs& join, const SimilarityParams& params);

/// The same from matrices (splits them as the driver would; for tests and benchmarks).
EngineInputs prepare_inputs(const CsrMatrix& queries, const CsrMatrix* references,
                            const SimilarityParams& params);

/// Tile edge from params.tile, else from the free device memory and params.memory_budget.
std::int64_t choose_tile_edge(const SimilarityParams& params, const EngineInputs& in,
                              std::size_t free_bytes);

/// One of the two tile slots: its own stream and buffers, so one tile's scoring
/// overlaps the previous tile's selection and result copies.
struct TileSlot {
  Stream stream;
  /// One handle per stream: a handle's workspace must not serve two streams at once.
  CublasHandle cublas;
  DeviceBuffer<float> s;   ///< Score tile, edge × edge.
  DeviceBuffer<float> st;  ///< Its transpose (self-join with top-k only).
  DeviceBuffer<DevicePair> pairs;
  DeviceBuffer<unsigned long long> counter;
  PinnedBuffer<unsigned long long> counter_host;
  PinnedBuffer<DevicePair> pairs_host;
  Event done;
  Event selected;
  detail::Tile tile;
  bool busy = false;
};

class DeviceEngine {
 public:
  /// Uploads the inputs to `device` and builds its head block, tails and lists.
  DeviceEngine(int device, const EngineInputs& in, const BackendOptions& options = {});
  /// Frees everything with the engine's device current.
  ~DeviceEngine() { PAPERSIM_CUDA_TRY_NO_THROW(cudaSetDevice(device_)); }
  DeviceEngine(const DeviceEngine&) = delete;
  DeviceEngine& operator=(const DeviceEngine&) = delete;

  std::size_t resident_bytes() const;
  std::size_t working_bytes() const;
  std::size_t free_bytes() const;
  void allocate_tiles(std::int64_t edge);
  /// Process `tiles` in order; `on_tile` is called as each one's results are in.
  void run(const std::vector<detail::Tile>& tiles,
           const std::function<void(const detail::Tile&)>& on_tile);
  /// The kept candidates: count per row, and rows × keep scores and indices.
  void download_lists(std::vector<std::int32_t>& count, std::vector<float>& score,
                      std::vector<std::int32_t>& idx) const;
  std::vector<DevicePair>& pairs() { return pairs_; }

 private:
  const __half* ref_head() const;
  void score(const detail::Tile& t, TileSlot& slot);
  void select(const detail::Tile& t, TileSlot& slot, TileSlot& other);
  void harvest(TileSlot& slot);

  // Makes `device` current before any other member (streams, cuBLAS handle)
  // is created, since those bind to the current device.
  struct CurrentDevice {
    explicit CurrentDevice(int device) { PAPERSIM_CUDA_TRY(cudaSetDevice(device)); }
  };

  int device_;
  CurrentDevice current_;
  const EngineInputs& in_;
  cudaDeviceProp prop_{};
  TileSlot slots_[2];
  DeviceBuffer<__half> head_q_, head_r_;
  DeviceBuffer<std::int64_t> tq_indptr_;
  DeviceBuffer<std::int32_t> tq_indices_;
  DeviceBuffer<float> tq_data_;
  DeviceBuffer<std::int64_t> tr_colptr_;
  DeviceBuffer<std::int32_t> tr_rows_;
  DeviceBuffer<float> tr_vals_;
  DeviceBuffer<float> list_score_;
  DeviceBuffer<std::int32_t> list_idx_;
  DeviceBuffer<std::int32_t> list_count_;
  DeviceBuffer<float> list_bound_;
  DeviceBuffer<std::int32_t> list_pending_;
  std::vector<DevicePair> pairs_;
  /// Per strip of `edge_` rows: whether its lists have had a full selection.
  std::vector<bool> seeded_;
  /// One-pass filter + merge for tiles whose strips are seeded (default);
  /// BackendOptions::CudaSelect::kClassic keeps select-merge and the transpose for every tile.
  bool use_filter_ = true;
  /// Tail by global atomics (default) or summed in shared memory per row
  /// (BackendOptions::CudaTail::kRows; slower on an H100); row_tail_ is the
  /// choice for the tile edge.
  bool use_row_tail_ = false;
  bool row_tail_ = false;
  std::int64_t edge_ = 0;
};

}  // namespace papersim::cuda
