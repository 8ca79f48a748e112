#include "sim/driver.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "common/util.hpp"
#include "papersim/error.hpp"

namespace papersim::detail {

namespace {

std::int64_t keep_for(const SimilarityParams& params, const PassTraits& traits,
                      std::int64_t rows_r) {
  if (params.k <= 0) return 0;
  std::int64_t keep =
      params.k + std::max<std::int64_t>(traits.extra_min, params.k / traits.extra_per_k);
  // A list one longer than the reference rows never fills, so finalize() needs
  // no completeness proof (and no fallback) when every column fits.
  if (traits.cap_keep_at_refs) keep = std::min<std::int64_t>(keep, rows_r + 1);
  return keep;
}

// Bytes of the split rows of `x` (head and tail together hold at most its entries).
std::size_t split_bytes_bound(const CsrView& x) {
  return static_cast<std::size_t>(x.nnz()) * (sizeof(std::int32_t) + sizeof(float)) +
         2 * static_cast<std::size_t>(x.rows + 1) * sizeof(std::int64_t);
}

}  // namespace

JoinInputs prepare_join(const CsrView& queries, const CsrView* references,
                        const SimilarityParams& params, const PassTraits& traits,
                        const JoinShape& shape_hint, const ColumnBlocksView* reference_blocks,
                        bool dense_queries) {
  JoinInputs in;
  in.self_join = references == nullptr;
  in.queries = queries;
  in.references = in.self_join ? queries : *references;
  in.keep = keep_for(params, traits, in.references.rows);
  in.margin = traits.margin;
  if (dense_queries && !in.self_join) {
    in.dense_queries = true;
    return in;
  }
  const int threads = resolve_threads(params.threads);
  if (!in.self_join && traits.column_blocks && reference_blocks != nullptr &&
      !reference_blocks->empty()) {
    // Read from here on (df_r, then the pass): their owner's deferred checks
    // first, timed apart from the pass.
    const auto v0 = std::chrono::steady_clock::now();
    reference_blocks->ensure_verified();
    in.verify_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - v0).count();
    in.blocks = reference_blocks;
  }
  in.df_q = column_df(in.queries, threads);
  if (!in.self_join)
    in.df_r = in.blocks != nullptr ? column_df(in.references, *in.blocks, threads)
                                   : column_df(in.references, threads);

  JoinShape shape = shape_hint;
  shape.rows_q = in.queries.rows;
  shape.rows_r = in.references.rows;
  shape.self_join = in.self_join;
  shape.head_rows_per_tile = traits.head_rows_per_tile;
  in.split = choose_head_split(in.df_q, in.self_join ? nullptr : &in.df_r, shape, params.head_dim,
                               traits.cost);

  const std::size_t cols = in.df_q.size();
  std::vector<std::int32_t> tail_id(cols, -1);
  if (traits.numbering == TailNumbering::kColumns) {
    for (std::size_t c = 0; c < cols; ++c)
      if (in.split.slot_of[c] < 0) tail_id[c] = static_cast<std::int32_t>(c);
    in.tail_ids = static_cast<std::int32_t>(cols);
  } else {
    std::vector<std::int64_t> df(cols);
    std::vector<std::int32_t> order;
    for (std::size_t c = 0; c < cols; ++c) {
      df[c] = in.df_q[c] + (in.self_join ? 0 : in.df_r[c]);
      const bool pairs_up = in.self_join ? in.df_q[c] >= 2 : in.df_q[c] > 0 && in.df_r[c] > 0;
      if (in.split.slot_of[c] < 0 && pairs_up) order.push_back(static_cast<std::int32_t>(c));
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int32_t x, std::int32_t y) { return df[x] > df[y]; });
    for (std::int32_t c : order) tail_id[c] = in.tail_ids++;
  }
  in.code = column_codes(in.split, tail_id, static_cast<std::int64_t>(cols));
  if (traits.split_rows) {
    in.q = split_rows(in.queries, in.split, tail_id, in.tail_ids, threads);
    // The references of a cross join only feed the transpose by term (CUDA):
    // their rows need no sort by tail id.
    if (!in.self_join)
      in.r_storage = split_rows(in.references, in.split, tail_id, in.tail_ids, threads, false);
  }
  return in;
}

namespace {

void assign_lists(Candidates& c, std::int64_t rows, std::int64_t keep, float margin) {
  c.margin = margin;
  c.keep = keep;
  if (keep <= 0) return;
  c.rows.assign(static_cast<std::size_t>(rows), TopKRow(keep));
  // At their bound once (list_bytes), not grown by doubling past it.
  for (TopKRow& r : c.rows) r.entries().reserve(static_cast<std::size_t>(keep));
}

}  // namespace

CandidateStore::CandidateStore(const JoinInputs& in, const SimilarityParams& params,
                               const TilePlan& plan, std::int64_t reference_keep)
    : keep_(in.keep), self_join_(in.self_join), plan_(&plan), params_(&params) {
  assign_lists(cand_, in.queries.rows, keep_, in.margin);
  if (reference_keep > 0 && !in.self_join)
    assign_lists(ref_cand_, in.references.rows, reference_keep, in.margin);
}

void CandidateStore::add_pairs(std::vector<ScoredPair>& pairs) {
  std::lock_guard<std::mutex> lock(pairs_mutex_);
  if (cand_.pairs.empty()) {
    cand_.pairs.swap(pairs);
  } else {
    cand_.pairs.insert(cand_.pairs.end(), pairs.begin(), pairs.end());
  }
  pairs.clear();
  pairs.shrink_to_fit();
}

void CandidateStore::merge_row(std::int64_t i, const float* score, const std::int32_t* idx,
                               std::int32_t n) {
  TopKRow& r = row(i);
  for (std::int32_t j = 0; j < n; ++j) r.push(score[j], idx[j]);
}

void CandidateStore::tile_done(const Tile& t) {
  if (!params_->progress) return;
  std::lock_guard<std::mutex> lock(progress_mutex_);
  done_ += plan_->tile_pairs(t, self_join_);
  params_->progress(done_, plan_->pairs);
}

std::size_t CandidateStore::list_bytes(std::int64_t rows, std::int64_t keep) {
  if (keep <= 0) return 0;
  return static_cast<std::size_t>(rows) *
         (sizeof(TopKRow) + static_cast<std::size_t>(keep) * sizeof(Neighbor));
}

SimilarityResult run_join(TilePass& pass, const CsrView& queries, const CsrView* references,
                          const SimilarityParams& params,
                          const ColumnBlocksView* reference_blocks) {
  validate_params(params);
  pass.check(params);
  if (references != nullptr) check_cross_join_shapes(queries, *references);
  // No blocks (an index without them) is the same as none given.
  if (reference_blocks != nullptr && reference_blocks->empty()) reference_blocks = nullptr;
  if (reference_blocks != nullptr &&
      (references == nullptr || !reference_blocks->covers(references->rows)))
    throw Error("cross join: the column blocks do not cover the references (" +
                std::to_string(reference_blocks->blocks) + " blocks of " +
                std::to_string(reference_blocks->block_rows) + " rows for " +
                std::to_string(references != nullptr ? references->rows : 0) + " rows)");
  const auto start = std::chrono::steady_clock::now();
  const PassTraits traits = pass.traits(params);
  const bool self = references == nullptr;
  const CsrView& refs = self ? queries : *references;

  SimilarityResult result;
  result.stats.backend = pass.name();
  for (std::int64_t i = 0; i < queries.rows; ++i) {
    if (queries.row_nnz(i) == 0) ++result.stats.zero_rows;
  }

  // The budget covers what the engine allocates: split rows (for a backend that
  // reads them), the per-column tables (df of each side, codes) and the candidate
  // lists, resident for the whole run; then the tiles in what is left. Without
  // an explicit budget the backend sizes its tiles from the memory available.
  const std::int64_t keep = keep_for(params, traits, refs.rows);
  // A two-sided cross join: the references' lists among the queries as well.
  const bool two_sided = !self && params.reference_lists && params.k > 0;
  const std::int64_t ref_keep =
      two_sided && traits.reference_lists ? keep_for(params, traits, queries.rows) : 0;
  const std::size_t split_bytes =
      traits.split_rows ? split_bytes_bound(queries) + (self ? 0 : split_bytes_bound(refs)) : 0;
  const std::size_t columns =
      static_cast<std::size_t>(queries.cols) * (sizeof(std::int32_t) + 2 * sizeof(std::int64_t));
  const std::size_t resident = split_bytes + columns +
                               CandidateStore::list_bytes(queries.rows, keep) +
                               CandidateStore::list_bytes(refs.rows, ref_keep);
  std::size_t tile_budget = 0;
  if (params.memory_budget > 0) {
    const std::size_t host_part = traits.host_memory ? resident : 0;
    if (host_part >= params.memory_budget)
      throw UsageError("--memory-budget " + format_bytes(params.memory_budget) +
                       " is below what the engine keeps for this input: " +
                       format_bytes(host_part) + " (candidate lists " +
                       format_bytes(CandidateStore::list_bytes(queries.rows, keep) +
                                    CandidateStore::list_bytes(refs.rows, ref_keep)) +
                       ", per-column tables " + format_bytes(columns) +
                       (split_bytes > 0 ? ", split rows " + format_bytes(split_bytes) : "") + ")");
    tile_budget = params.memory_budget - host_part;
  }
  JoinShape shape;
  shape.tile_edges = [&](int d) {
    const std::int64_t e = pass.tile_edge(params, d, queries.rows, refs.rows, tile_budget);
    return std::make_pair(e, e);
  };
  const bool dense = !self && pass.dense_queries(queries, refs, params, tile_budget);
  JoinInputs in = prepare_join(queries, references, params, traits, shape, reference_blocks, dense);
  result.stats.head_dim = in.split.head_dim;
  result.stats.dense_queries = in.dense_queries;
  result.stats.verify_seconds = in.verify_seconds;

  const std::int64_t edge = pass.prepare(in, params, tile_budget);
  const TilePlan plan = plan_tiles(queries.rows, refs.rows, self, edge, edge, traits.order);
  result.stats.tiles = static_cast<std::int64_t>(plan.tiles.size());
  result.stats.pairs_evaluated = plan.pairs;
  CandidateStore store(in, params, plan, ref_keep);
  if (!plan.tiles.empty()) pass.run(in, plan, params, store, result.stats);
  if (traits.host_memory) result.stats.peak_working_bytes += in.bytes() + store.resident_bytes();
  // The split rows are no longer needed: free them before finalize's scratch.
  in.q = SplitRows{};
  in.r_storage = SplitRows{};

  finalize(queries, references, params, store.candidates(), &result);
  if (two_sided) {
    // exact_dot is symmetric, so these are the reversed cross join's lists bit for bit.
    SimilarityParams rp = params;
    rp.threshold = -1.0f;
    rp.reference_lists = false;
    rp.progress = nullptr;
    SimilarityResult reverse;
    if (store.has_reference_lists()) {
      finalize(refs, &queries, rp, store.reference_candidates(), &reverse);
    } else {
      reverse = run_join(pass, refs, &queries, rp);
      result.stats.pairs_evaluated += reverse.stats.pairs_evaluated;
      result.stats.tiles += reverse.stats.tiles;
    }
    result.stats.rescored += reverse.stats.rescored;
    result.stats.fallback_rows += reverse.stats.fallback_rows;
    result.reference_topk = std::move(reverse.topk);
  }
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace papersim::detail
