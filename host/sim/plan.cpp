#include "sim/plan.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>

#include "common/util.hpp"
#include "papersim/error.hpp"

namespace papersim::detail {

namespace {

// Document frequencies of `x`'s columns, counted by `count(first, last, counters)`
// over parts [0, parts) (rows or column blocks): serially into the result, or
// on `workers` workers over disjoint part ranges, each into 32-bit counters of
// its own (a range of under 2^31 rows holds under 2^31 entries per column),
// summed afterwards.
template <class Count>
std::vector<std::int64_t> counted_df(const CsrView& x, std::int64_t parts, int workers,
                                     Count&& count) {
  std::vector<std::int64_t> df(static_cast<std::size_t>(x.cols), 0);
  if (workers <= 1 || x.rows > INT32_MAX) {
    count(0, parts, df.data());
    return df;
  }
  std::vector<std::vector<std::int32_t>> part(static_cast<std::size_t>(workers));
  parallel_for(workers, workers, [&](std::int64_t w) {
    std::vector<std::int32_t>& mine = part[static_cast<std::size_t>(w)];
    mine.assign(static_cast<std::size_t>(x.cols), 0);
    count(parts * w / workers, parts * (w + 1) / workers, mine.data());
  });
  for (const auto& mine : part)
    for (std::size_t j = 0; j < df.size(); ++j) df[j] += mine[j];
  return df;
}

}  // namespace

std::vector<std::int64_t> column_df(const CsrView& x, int threads) {
  if (x.rows == 0) return std::vector<std::int64_t>(static_cast<std::size_t>(x.cols), 0);
  // Below a few million entries, or with few entries per column, the per-worker
  // counters cost more than they save.
  const std::int64_t nnz = x.nnz();
  const int workers = static_cast<int>(std::min<std::int64_t>(
      resolve_threads(threads), std::min(nnz / (std::int64_t{1} << 21), nnz / (4 * x.cols + 1))));
  return counted_df(x, x.rows, workers, [&](std::int64_t r0, std::int64_t r1, auto* into) {
    for (std::int64_t p = x.indptr[r0]; p < x.indptr[r1]; ++p) ++into[x.indices[p]];
  });
}

std::vector<std::int64_t> column_df(const CsrView& x, const ColumnBlocksView& blocks, int threads) {
  // As for the rows, where there are millions of block columns (a query run's
  // first step: ~6 ms for 300k papers on one thread).
  const auto columns = static_cast<std::int64_t>(blocks.term_offsets[blocks.blocks]);
  const int workers = static_cast<int>(
      std::min<std::int64_t>({resolve_threads(threads), columns / (std::int64_t{1} << 20),
                              columns / (4 * x.cols + 1), blocks.blocks}));
  return counted_df(x, blocks.blocks, workers, [&](std::int64_t b0, std::int64_t b1, auto* into) {
    for (std::int64_t b = b0; b < b1; ++b) {
      const std::uint64_t t0 = blocks.term_offsets[b], t1 = blocks.term_offsets[b + 1];
      const std::int64_t r0 = b * blocks.block_rows;
      const std::int64_t block_nnz =
          x.indptr[std::min(r0 + blocks.block_rows, x.rows)] - x.indptr[r0];
      for (std::uint64_t e = t0; e < t1; ++e) {
        const std::int64_t end = e + 1 < t1 ? blocks.starts[e + 1] : block_nnz;
        into[blocks.terms[e]] += static_cast<std::int32_t>(end - blocks.starts[e]);
      }
    }
  });
}

namespace {

std::int64_t blocks(std::int64_t n, std::int64_t edge) {
  return edge > 0 ? (n + edge - 1) / edge : 0;
}

}  // namespace

double estimated_cost(const CostModel& cost, const JoinShape& shape, std::int64_t d,
                      double tail_products) {
  const double rq = static_cast<double>(shape.rows_q);
  const double rr = static_cast<double>(shape.rows_r);
  const double pairs = shape.self_join ? rq * (rq - 1) / 2 : rq * rr;
  const std::int64_t align = std::max(cost.head_align, 1);
  const double dd = static_cast<double>((d + align - 1) / align * align);
  std::int64_t er = std::max<std::int64_t>(shape.rows_q, 1);
  std::int64_t ec = std::max<std::int64_t>(shape.rows_r, 1);
  if (shape.tile_edges) std::tie(er, ec) = shape.tile_edges(static_cast<int>(d));
  double tiles = 0.0, head_rows = 0.0;
  if (shape.self_join) {
    const double b = static_cast<double>(blocks(shape.rows_q, er));
    tiles = b * (b + 1) / 2;
    // Every block is the row side of b - (its index) tiles and the column side of the
    // rest: b + 1 head blocks built per block of rows.
    head_rows = rq * (b + 1);
  } else {
    const double bq = static_cast<double>(blocks(shape.rows_q, er));
    const double br = static_cast<double>(blocks(shape.rows_r, ec));
    tiles = bq * br;
    head_rows = rq * br + rr * bq;
  }
  if (!shape.head_rows_per_tile) head_rows = shape.self_join ? rq : rq + rr;
  return pairs * dd * cost.head + tail_products * cost.tail + head_rows * dd * cost.head_row +
         tiles * cost.tile;
}

HeadTailSplit choose_head_split(const std::vector<std::int64_t>& df_q,
                                const std::vector<std::int64_t>* df_r, const JoinShape& shape,
                                int requested, const CostModel& cost) {
  const bool self = df_r == nullptr;
  const std::int64_t cols = static_cast<std::int64_t>(df_q.size());
  if (!self && static_cast<std::int64_t>(df_r->size()) != cols)
    throw Error("choose_head_split: df vectors differ in length");
  // Tail products a column costs (the saving of moving it to the head).
  std::vector<double> products(static_cast<std::size_t>(cols));
  std::vector<std::int64_t> df_union(static_cast<std::size_t>(cols));
  for (std::int64_t c = 0; c < cols; ++c) {
    const double q = static_cast<double>(df_q[c]);
    const double r = self ? 0.0 : static_cast<double>((*df_r)[c]);
    products[c] = self ? q * (q - 1) / 2 : q * r;
    df_union[c] = df_q[c] + (self ? 0 : (*df_r)[c]);
  }
  // Columns by decreasing saving, then decreasing df, then lower column. In a
  // self-join the saving grows with df, so this is the order by df.
  // Only the columns some pair uses are sorted up front: in a cross join of few
  // queries they are a few thousand of hundreds of thousands (the full sort took
  // 15 ms of a 0.25 s run). The others follow in the same order, sorted only
  // when a requested D reaches them.
  const auto before = [&](std::int32_t x, std::int32_t y) {
    if (products[x] != products[y]) return products[x] > products[y];
    return df_union[x] > df_union[y];
  };
  std::vector<std::int32_t> order;
  order.reserve(static_cast<std::size_t>(cols));
  for (std::int32_t c = 0; c < cols; ++c)
    if (products[c] > 0.0) order.push_back(c);
  const auto useful = static_cast<std::int64_t>(order.size());
  for (std::int32_t c = 0; c < cols; ++c)
    if (!(products[c] > 0.0)) order.push_back(c);
  std::stable_sort(order.begin(), order.begin() + useful, before);
  if (requested > useful) std::stable_sort(order.begin() + useful, order.end(), before);

  std::int64_t d = 0;
  if (requested >= 0) {
    d = std::min<std::int64_t>(requested, cols);
  } else if (shape.rows_q > 0 && shape.rows_r > 0) {
    // Every D in steps of 64 columns, keeping the cheapest (the first on ties):
    // the dense cost grows linearly in D, the tail saving falls with each column,
    // and the tile count may change with D through the memory budget, so the
    // total is not convex in general. Columns no pair uses end the scan.
    constexpr std::int64_t kGroup = 64;
    double tail = 0.0;
    for (double p : products) tail += p;
    double best = estimated_cost(cost, shape, 0, tail);
    for (std::int64_t at = 0; at < useful;) {
      const std::int64_t end = std::min(useful, at + kGroup);
      for (std::int64_t i = at; i < end; ++i) tail -= products[order[i]];
      at = end;
      const double c = estimated_cost(cost, shape, at, std::max(tail, 0.0));
      if (c < best) {
        best = c;
        d = at;
      }
    }
  }

  HeadTailSplit split;
  split.head_dim = static_cast<int>(d);
  split.head_terms.assign(order.begin(), order.begin() + d);
  split.slot_of.assign(static_cast<std::size_t>(cols), -1);
  for (std::int64_t s = 0; s < d; ++s)
    split.slot_of[split.head_terms[s]] = static_cast<std::int32_t>(s);
  return split;
}

std::vector<std::int32_t> column_codes(const HeadTailSplit& split,
                                       const std::vector<std::int32_t>& tail_id,
                                       std::int64_t cols) {
  const auto slots = static_cast<std::int64_t>(split.slot_of.size());
  const auto tails = static_cast<std::int64_t>(tail_id.size());
  std::vector<std::int32_t> code(static_cast<std::size_t>(std::max<std::int64_t>(cols, 0)), -1);
  for (std::int64_t c = 0; c < cols; ++c) {
    const std::int32_t s = c < slots ? split.slot_of[c] : -1;
    const std::int32_t t = c < tails ? tail_id[c] : -1;
    code[c] = s >= 0 ? s : (t >= 0 ? -2 - t : -1);
  }
  return code;
}

SplitRows split_rows(const CsrView& x, const HeadTailSplit& split,
                     const std::vector<std::int32_t>& tail_id, std::int32_t tail_ids, int threads,
                     bool sort_tail) {
  SplitRows out;
  CsrMatrix& head = out.head;
  CsrMatrix& tail = out.tail;
  head.rows = tail.rows = x.rows;
  head.cols = split.head_dim;
  tail.cols = tail_ids;
  head.indptr.assign(static_cast<std::size_t>(x.rows + 1), 0);
  tail.indptr.assign(static_cast<std::size_t>(x.rows + 1), 0);
  // One lookup per entry.
  const std::vector<std::int32_t> code =
      column_codes(split, tail_id,
                   std::max<std::int64_t>(x.cols, static_cast<std::int64_t>(split.slot_of.size())));
  bool monotone = true;
  for (std::size_t c = 1, last = 0; c < tail_id.size() && monotone; ++c) {
    if (tail_id[c] < 0) continue;
    if (tail_id[last] >= 0 && tail_id[c] < tail_id[last]) monotone = false;
    last = c;
  }
  const bool sort_rows = sort_tail && !monotone;
  constexpr std::int64_t kGrain = 4096;
  // Count, then fill: every thread writes its own rows.
  parallel_for(
      x.rows, threads,
      [&](std::int64_t r) {
        std::int64_t nh = 0, nt = 0;
        for (std::int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
          const std::int32_t k = code[x.indices[p]];
          nh += k >= 0;
          nt += k < -1;
        }
        head.indptr[r + 1] = nh;
        tail.indptr[r + 1] = nt;
      },
      kGrain);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    head.indptr[r + 1] += head.indptr[r];
    tail.indptr[r + 1] += tail.indptr[r];
  }
  head.indices.resize(static_cast<std::size_t>(head.indptr[x.rows]));
  head.data.resize(head.indices.size());
  tail.indices.resize(static_cast<std::size_t>(tail.indptr[x.rows]));
  tail.data.resize(tail.indices.size());
  parallel_for_worker(
      x.rows, threads,
      [&](std::int64_t r, int) {
        std::int64_t h = head.indptr[r], t = tail.indptr[r];
        for (std::int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
          const std::int32_t k = code[x.indices[p]];
          if (k >= 0) {
            head.indices[h] = k;
            head.data[h++] = x.data[p];
          } else if (k < -1) {
            tail.indices[t] = -2 - k;
            tail.data[t++] = x.data[p];
          }
        }
        if (sort_rows) {
          const std::int64_t b = tail.indptr[r], e = tail.indptr[r + 1];
          if (e - b > 1) {
            thread_local std::vector<std::pair<std::int32_t, float>> row;
            row.clear();
            for (std::int64_t p = b; p < e; ++p) row.push_back({tail.indices[p], tail.data[p]});
            std::sort(row.begin(), row.end());
            for (std::int64_t p = b; p < e; ++p) {
              tail.indices[p] = row[p - b].first;
              tail.data[p] = row[p - b].second;
            }
          }
        }
      },
      kGrain);
  return out;
}

std::int64_t TilePlan::tile_pairs(const Tile& t, bool self_join) const {
  const std::int64_t r = t.row_end - t.row_begin, c = t.col_end - t.col_begin;
  return self_join && t.diagonal() ? r * (r - 1) / 2 : r * c;
}

TilePlan plan_tiles(std::int64_t rows, std::int64_t cols, bool self_join, std::int64_t tile_rows,
                    std::int64_t tile_cols, TileOrder order) {
  if (tile_rows < 1 || tile_cols < 1) throw Error("plan_tiles: tile edges must be positive");
  TilePlan plan;
  if (self_join) {
    // Diagonal tiles must be square for the upper-triangle rule to hold.
    tile_cols = tile_rows;
    cols = rows;
  }
  plan.tile_rows = tile_rows;
  plan.tile_cols = tile_cols;
  plan.pairs = self_join ? rows * (rows - 1) / 2 : rows * cols;
  const std::int64_t row_blocks = blocks(rows, tile_rows);
  const std::int64_t col_blocks = blocks(cols, tile_cols);
  auto tile_of = [&](std::int64_t bi, std::int64_t bj) {
    return Tile{bi * tile_rows, std::min(rows, (bi + 1) * tile_rows), bj * tile_cols,
                std::min(cols, (bj + 1) * tile_cols)};
  };
  if (order == TileOrder::kRowMajor) {
    for (std::int64_t bi = 0; bi < row_blocks; ++bi)
      for (std::int64_t bj = self_join ? bi : 0; bj < col_blocks; ++bj)
        plan.tiles.push_back(tile_of(bi, bj));
    return plan;
  }
  if (!self_join) {
    for (std::int64_t bj = 0; bj < col_blocks; ++bj)
      for (std::int64_t bi = 0; bi < row_blocks; ++bi) plan.tiles.push_back(tile_of(bi, bj));
    return plan;
  }
  plan.tiles.reserve(static_cast<std::size_t>(row_blocks * (row_blocks + 1) / 2));
  for (std::int64_t b = 0; b < row_blocks; ++b) plan.tiles.push_back(tile_of(b, b));
  const std::int64_t m = row_blocks % 2 == 0 ? row_blocks : row_blocks + 1;  // m - 1 = dummy
  for (std::int64_t round = 0; round + 1 < m; ++round) {
    for (std::int64_t p = 0; p < m / 2; ++p) {
      const std::int64_t x = p == 0 ? m - 1 : (round + p) % (m - 1);
      const std::int64_t y = p == 0 ? round : (round + m - 1 - p) % (m - 1);
      if (x >= row_blocks || y >= row_blocks) continue;  // the dummy sits out
      plan.tiles.push_back(tile_of(std::min(x, y), std::max(x, y)));
    }
  }
  return plan;
}

std::int64_t tile_edge_for_budget(std::size_t budget_bytes, int head_dim, int workers) {
  if (workers < 1) workers = 1;
  const double per_worker = static_cast<double>(budget_bytes) / workers / sizeof(float);
  // edge^2 + 2 * head_dim * edge <= per_worker  ->  positive root of the quadratic.
  const double h = static_cast<double>(std::max(head_dim, 0));
  const double edge = -h + std::sqrt(h * h + std::max(per_worker, 0.0));
  std::int64_t e = static_cast<std::int64_t>(edge) / 64 * 64;
  return std::max<std::int64_t>(e, 64);
}

void check_cross_join_shapes(const CsrView& queries, const CsrView& references) {
  if (queries.cols != references.cols) {
    throw UsageError("cross join: queries have " + std::to_string(queries.cols) +
                     " columns but references have " + std::to_string(references.cols));
  }
}

std::size_t host_available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::size_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return value * 1024;
  }
  const long pages = sysconf(_SC_AVPHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0)
    return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page);
  return std::size_t{1} << 30;
}

}  // namespace papersim::detail
