#pragma once
// The one similarity driver every backend plugs into. The driver owns
// validation, timing, zero-row counting, the head/tail split and its cost
// model, the tile plan and its ordering, the memory budget, the candidate
// lists and their merging, progress, and the exact finalize. A backend
// (a `TilePass`) only computes approximate scores over the tiles it is handed
// and pushes candidates into the `CandidateStore`.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "papersim/csr.hpp"
#include "papersim/similarity.hpp"
#include "sim/finalize.hpp"
#include "sim/plan.hpp"

namespace papersim::detail {

/// How the tail columns are numbered for a backend.
enum class TailNumbering {
  /// Original column ids, every tail column kept (the CUDA kernels index the
  /// reference tail by column).
  kColumns,
  /// Renumbered by decreasing df, dropping columns no pair can use (df < 2 in a
  /// self-join, absent from one side in a cross join): the ids looked up most
  /// often sit at the front of the per-term arrays (the CPU inverted index).
  kByDf,
};

/// What a backend tells the driver before a run.
struct PassTraits {
  CostModel cost;
  /// |approximate - exact_dot| bound of the backend's scores (finalize's margin).
  float margin = 1e-4f;
  /// Extra candidates kept per row beyond k.
  std::int64_t extra_min = 6;
  std::int64_t extra_per_k = 4;  ///< extra = max(extra_min, k / extra_per_k).
  /// Whether a list one longer than the references is enough (never full, no proof needed).
  bool cap_keep_at_refs = false;
  TailNumbering numbering = TailNumbering::kByDf;
  TileOrder order = TileOrder::kSpread;
  /// Whether head rows are built per tile (CPU) or once per run (CUDA), for the cost model.
  bool head_rows_per_tile = true;
  /// Whether the pass keeps the references' lists too in a cross join
  /// (CandidateStore::ref_row) when asked; otherwise the driver runs a second,
  /// reversed cross join for SimilarityParams::reference_lists.
  bool reference_lists = false;
  /// Whether the backend reads `JoinInputs::q` and `r()` (split copies of both
  /// sides, made once per run). A backend that codes rows from the views itself
  /// through `JoinInputs::code`, per tile, leaves it false: the driver then copies
  /// neither side, and the engine's memory is its tiles and lists alone.
  bool split_rows = true;
  /// Whether the backend reads the references' column blocks (JoinInputs::blocks)
  /// when the caller has them.
  bool column_blocks = false;
  /// Whether the backend's tiles live in host memory (then the split rows and the
  /// lists share the memory budget with them) or on a device.
  bool host_memory = true;
};

/// Inputs of one run, prepared by the driver and read by every tile.
struct JoinInputs {
  CsrView queries;
  CsrView references;  ///< == queries for a self-join.
  bool self_join = true;
  HeadTailSplit split;
  /// The references' column blocks (a cross join whose caller has them and whose
  /// backend reads them: PassTraits::column_blocks); null otherwise.
  const ColumnBlocksView* blocks = nullptr;
  std::vector<std::int64_t> df_q, df_r;  ///< df_r empty for a self-join.
  std::int32_t tail_ids = 0;
  /// Per column: head slot, tail id or dropped (column_codes in sim/plan.hpp).
  std::vector<std::int32_t> code;
  SplitRows q;          ///< Empty unless the backend asks for split rows.
  SplitRows r_storage;  ///< Empty for a self-join or without split rows.
  const SplitRows& r() const { return self_join ? q : r_storage; }
  std::int64_t keep = 0;  ///< Candidates kept per row (0 = no top-k lists).
  float margin = 0.0f;
  /// A cross join scored by the backend's dense-queries kernel (TilePass::dense_queries):
  /// no split, no column codes, no df and no blocks are prepared.
  bool dense_queries = false;
  /// Seconds of the blocks' deferred checks (ColumnBlocksView::ensure_verified).
  double verify_seconds = 0.0;
  std::size_t bytes() const {
    return q.bytes() + r_storage.bytes() + code.size() * sizeof(std::int32_t) +
           (df_q.size() + df_r.size()) * sizeof(std::int64_t);
  }
};

/// Split `queries` (and `references`, null for a self-join) for a backend.
/// `tile_edges` gives the tile shape for a head size, for the cost model (may be empty).
/// `reference_blocks` (may be null): the references' column blocks, kept in
/// JoinInputs::blocks for a backend that reads them (and counting df_r).
/// `dense_queries`: a cross join for the backend's dense-queries kernel, which
/// reads the two views alone (the rest of JoinInputs stays empty).
JoinInputs prepare_join(const CsrView& queries, const CsrView* references,
                        const SimilarityParams& params, const PassTraits& traits,
                        const JoinShape& shape_hint = {},
                        const ColumnBlocksView* reference_blocks = nullptr,
                        bool dense_queries = false);

/// Running candidate lists and threshold candidates of one run, shared by all
/// tiles. A backend updating lists from several threads serializes the updates
/// of a row itself (the CPU pass locks row strips; the CUDA pass merges once).
class CandidateStore {
 public:
  /// `reference_keep` > 0: lists for the reference rows too (a two-sided cross join).
  CandidateStore(const JoinInputs& in, const SimilarityParams& params, const TilePlan& plan,
                 std::int64_t reference_keep = 0);

  std::int64_t keep() const { return keep_; }
  TopKRow& row(std::int64_t i) { return cand_.rows[static_cast<std::size_t>(i)]; }
  bool has_reference_lists() const { return !ref_cand_.rows.empty(); }
  /// Reference row `j`'s list (docs number the queries); with has_reference_lists().
  TopKRow& ref_row(std::int64_t j) { return ref_cand_.rows[static_cast<std::size_t>(j)]; }
  Candidates& reference_candidates() { return ref_cand_; }
  /// Append threshold candidates (any thread).
  void add_pairs(std::vector<ScoredPair>& pairs);
  /// Merge a kept list of one row (scores by decreasing order not required).
  void merge_row(std::int64_t i, const float* score, const std::int32_t* idx, std::int32_t n);
  /// Report a finished tile (any thread): drives the progress callback.
  void tile_done(const Tile& t);
  /// Bytes the lists hold (full lists: rows × keep neighbours).
  static std::size_t list_bytes(std::int64_t rows, std::int64_t keep);
  /// Bytes the lists and the threshold candidates hold now.
  std::size_t resident_bytes() const {
    return list_bytes(static_cast<std::int64_t>(cand_.rows.size()), keep_) +
           list_bytes(static_cast<std::int64_t>(ref_cand_.rows.size()), ref_cand_.keep) +
           cand_.pairs.capacity() * sizeof(ScoredPair);
  }

  Candidates& candidates() { return cand_; }

 private:
  Candidates cand_;
  Candidates ref_cand_;  ///< Lists of the reference rows (two-sided cross join).
  std::int64_t keep_ = 0;
  std::mutex pairs_mutex_;
  std::mutex progress_mutex_;
  std::int64_t done_ = 0;
  bool self_join_ = true;
  const TilePlan* plan_ = nullptr;
  const SimilarityParams* params_ = nullptr;
};

/// A backend's part of a run: the approximate pass over tiles.
class TilePass {
 public:
  virtual ~TilePass() = default;
  virtual std::string name() const = 0;
  virtual PassTraits traits(const SimilarityParams& params) const = 0;
  /// Rejects parameters the backend cannot serve (devices, ...), before any work.
  virtual void check(const SimilarityParams& params) const { (void)params; }
  /// Whether the backend scores this cross join with its dense-queries kernel
  /// (few queries held dense, each reference row scored against all of them)
  /// instead of the head/tail tiles; `budget` as for tile_edge. Such a run reads
  /// neither a head/tail split nor the references' column blocks.
  virtual bool dense_queries(const CsrView& queries, const CsrView& references,
                             const SimilarityParams& params, std::size_t budget) const {
    (void)queries;
    (void)references;
    (void)params;
    (void)budget;
    return false;
  }
  /// Tile edge the backend would use for head size `d` with `budget` bytes left for
  /// tiles (0 = no explicit budget): the cost model's view, before any upload.
  virtual std::int64_t tile_edge(const SimilarityParams& params, int d, std::int64_t rows_q,
                                 std::int64_t rows_r, std::size_t budget) const = 0;
  /// Set up for a run on `in` (upload inputs, ...) and return the tile edge to plan with.
  virtual std::int64_t prepare(const JoinInputs& in, const SimilarityParams& params,
                               std::size_t budget) = 0;
  /// Score `plan`'s tiles approximately and feed `store`: every pair of every tile
  /// whose approximate score may enter a row's top-`keep` list or reach the
  /// threshold minus the margin must reach the store. Fills the stats it owns
  /// (backend, peak_working_bytes).
  virtual void run(const JoinInputs& in, const TilePlan& plan, const SimilarityParams& params,
                   CandidateStore& store, SimilarityStats& stats) = 0;
};

/// Run a join on `pass`: self-join when `references` is null. `reference_blocks`
/// (may be null) are the references' column blocks, for a pass that reads them.
SimilarityResult run_join(TilePass& pass, const CsrView& queries, const CsrView* references,
                          const SimilarityParams& params,
                          const ColumnBlocksView* reference_blocks = nullptr);

/// A SimilarityBackend made of a TilePass and the driver.
class DriverBackend final : public SimilarityBackend {
 public:
  explicit DriverBackend(std::unique_ptr<TilePass> pass) : pass_(std::move(pass)) {}
  std::string name() const override { return pass_->name(); }
  using SimilarityBackend::cross_join;
  using SimilarityBackend::self_join;
  SimilarityResult self_join(const CsrView& x, const SimilarityParams& params) override {
    return run_join(*pass_, x, nullptr, params);
  }
  SimilarityResult cross_join(const CsrView& queries, const CsrView& references,
                              const SimilarityParams& params) override {
    return run_join(*pass_, queries, &references, params);
  }
  SimilarityResult cross_join(const CsrView& queries, const CsrView& references,
                              const ColumnBlocksView& reference_blocks,
                              const SimilarityParams& params) override {
    return run_join(*pass_, queries, &references, params, &reference_blocks);
  }
  void check(const SimilarityParams& params) const override {
    validate_params(params);
    pass_->check(params);
  }

 private:
  std::unique_ptr<TilePass> pass_;
};

}  // namespace papersim::detail
