#pragma once
/// @file similarity.hpp
/// @brief All-pairs cosine similarity of L2-normalized sparse rows: per-row
/// top-k and threshold pairs in one pass, behind one backend interface
/// (CPU and CUDA), chosen in one place (`make_backend`).

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "papersim/csr.hpp"

namespace papersim {

/// One neighbour of a row: its document index (row of the candidate matrix) and score.
struct Neighbor {
  std::int64_t doc = 0;
  float score = 0.0f;
};

/// A scored pair. Self-join: `a < b` (both rows of the one matrix);
/// cross join: `a` is a query row and `b` a reference row.
struct ScoredPair {
  std::int64_t a = 0;
  std::int64_t b = 0;
  float score = 0.0f;
};

/// Progress callback: pairs evaluated so far and the total to evaluate.
using ProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

/// Parameters of one similarity run. Defaults serve a related-papers run.
struct SimilarityParams {
  /// Neighbours per row (0 = no top-k lists). No upper limit.
  std::int64_t k = 10;
  /// Report every pair with score >= threshold (pairs); negative = no threshold pass.
  float threshold = -1.0f;
  /// Neighbours in top-k lists must also score >= min_score (negative = no bound).
  float min_score = -1.0f;
  /// Bytes of memory the engine may allocate (host for the CPU backend, device
  /// for CUDA): candidate lists, per-column tables, tiles, and split rows where a
  /// backend keeps them (CUDA). 0 = choose from the memory available. On the host
  /// a budget below what the lists and the smallest tiles of the input need is a
  /// UsageError that names both; the CUDA backend then uses its smallest tiles.
  /// Threshold pairs are the result and are held as found, outside the budget.
  std::size_t memory_budget = 0;
  /// Host threads; 0 = all cores.
  int threads = 0;
  /// Number of most frequent terms in the dense head block; -1 = choose by the cost model.
  int head_dim = -1;
  /// Tile edge (rows and columns) to use instead of deriving it from the budget; 0 = derive.
  std::int64_t tile = 0;
  /// CUDA devices to use; empty = all visible.
  std::vector<int> devices;
  /// Called from time to time with pairs done; may be empty.
  ProgressFn progress;
  /// Cross join only: also each reference row's top-k among the queries
  /// (SimilarityResult::reference_topk, the lists a cross join of the references
  /// against the queries would give), from the same pass where the backend can.
  bool reference_lists = false;
};

/// Counters of one run.
struct SimilarityStats {
  std::string backend;               ///< "cpu", "cuda (NVIDIA H100 ...)", ...
  std::int64_t pairs_evaluated = 0;  ///< Pairs whose score was computed.
  std::int64_t zero_rows = 0;        ///< Rows without terms: no neighbours.
  std::int64_t rescored = 0;         ///< Candidates re-scored exactly.
  std::int64_t fallback_rows = 0;    ///< Rows recomputed exactly because candidates were too close.
  int head_dim = 0;                  ///< Head size used.
  std::int64_t tiles = 0;
  /// Whether the pass read the references' saved column blocks (cross_join with
  /// blocks, on a backend and tile edge that use them).
  bool column_blocks = false;
  /// Whether a cross join with few queries was scored row by row of the
  /// references against the queries held dense (no head/tail split; head_dim 0).
  bool dense_queries = false;
  double seconds = 0.0;
  /// Of `seconds`: the references' column blocks' deferred checks (an index's
  /// blocks, verified when a run first reads them).
  double verify_seconds = 0.0;
  /// Largest engine working set: candidate lists, per-column tables, tiles, split
  /// rows where kept, threshold pairs (host or device).
  std::size_t peak_working_bytes = 0;
};

/// Result of one run.
/// - `topk`: one list per query row, by descending score, ties by lower doc;
///   never contains the row itself (self-join); empty for a zero row;
///   neighbours score > 0 (rows sharing no term are never neighbours).
/// - `pairs`: every pair with score >= threshold and score > 0 (so threshold 0
///   still omits rows sharing no term), sorted by (a, b).
struct SimilarityResult {
  std::vector<std::vector<Neighbor>> topk;
  std::vector<ScoredPair> pairs;
  /// With SimilarityParams::reference_lists: one list per reference row, docs
  /// numbering the queries (empty otherwise).
  std::vector<std::vector<Neighbor>> reference_topk;
  SimilarityStats stats;
};

/// Validate parameters. @throws UsageError naming the bad value.
void validate_params(const SimilarityParams& params);

/// A similarity engine. Implementations give identical answers: every score is
/// `exact_dot` of the two rows, top-k lists match brute force with ties broken
/// by the lower index, and pairs are exactly those with score >= threshold.
/// Inputs are non-owning views, so the queries and references of a cross join
/// can be row ranges of one matrix (`x.view().row_range(...)`), never copies.
class SimilarityBackend {
 public:
  virtual ~SimilarityBackend() = default;
  /// Human-readable name ("cpu", "cuda: NVIDIA H100 80GB HBM3").
  virtual std::string name() const = 0;
  /// All pairs of rows of `x` (rows L2-normalized, `x.rows` × `x.cols`).
  virtual SimilarityResult self_join(const CsrView& x, const SimilarityParams& params) = 0;
  /// Every query row against every reference row (same columns).
  virtual SimilarityResult cross_join(const CsrView& queries, const CsrView& references,
                                      const SimilarityParams& params) = 0;
  /// The same cross join, given the references' column blocks as well (a saved
  /// index's rows inverted by blocks, `reference_blocks.covers(references.rows)`,
  /// or empty for none), which a backend may read instead of inverting the
  /// references in every run. The result is the same as without them; this
  /// default ignores them.
  virtual SimilarityResult cross_join(const CsrView& queries, const CsrView& references,
                                      const ColumnBlocksView& reference_blocks,
                                      const SimilarityParams& params) {
    (void)reference_blocks;
    return cross_join(queries, references, params);
  }
  /// Check `params` against this backend (parameter ranges, devices) without
  /// touching any input, so a command can fail before reading its files.
  /// @throws UsageError naming the bad value.
  virtual void check(const SimilarityParams& params) const { validate_params(params); }

  SimilarityResult self_join(const CsrMatrix& x, const SimilarityParams& params) {
    return self_join(x.view(), params);
  }
  SimilarityResult cross_join(const CsrMatrix& queries, const CsrMatrix& references,
                              const SimilarityParams& params) {
    return cross_join(queries.view(), references.view(), params);
  }
};

enum class BackendKind { kAuto, kCpu, kCuda };

/// Parse "auto", "cpu" or "cuda". @throws UsageError otherwise.
BackendKind parse_backend_kind(const std::string& name);

/// Whether this build contains the CUDA backend.
bool cuda_compiled();

/// Description of one visible GPU.
struct DeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  std::size_t total_memory = 0;
  std::size_t free_memory = 0;
  int multiprocessors = 0;
};

/// Visible CUDA devices; empty without CUDA support, a driver or a GPU (never throws).
std::vector<DeviceInfo> cuda_devices();

/// Options of one backend, fixed when it is made.
struct BackendOptions {
  /// CUDA: the selection path. kFilter (default) scores a tile against the lists'
  /// bounds in one pass and merges the few survivors once a strip's lists are
  /// seeded; kClassic runs the radix select-merge (and the transpose) on every
  /// tile, for measuring.
  enum class CudaSelect { kFilter, kClassic } cuda_select = CudaSelect::kFilter;
  /// CUDA: the tail kernel. kAtomic (default) adds products with global atomics;
  /// kRows sums a row's products in shared memory (measured slower on an H100).
  enum class CudaTail { kAtomic, kRows } cuda_tail = CudaTail::kAtomic;
};

/// The one place a backend is chosen. kAuto = CUDA when compiled in and a device
/// is visible, else CPU. @throws BackendUnavailable for kCuda without a device.
std::unique_ptr<SimilarityBackend> make_backend(BackendKind kind,
                                                const BackendOptions& options = {});

}  // namespace papersim
