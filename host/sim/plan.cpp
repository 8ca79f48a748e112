#include "sim/plan.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>

#include "papersim/error.hpp"

namespace papersim::detail {

std::vector<std::int64_t> column_df(const CsrMatrix& a, const CsrMatrix* b) {
  std::int64_t cols = a.cols;
  if (b != nullptr) cols = std::max(cols, b->cols);
  std::vector<std::int64_t> df(static_cast<std::size_t>(cols), 0);
  for (std::int32_t c : a.indices) ++df[c];
  if (b != nullptr) {
    for (std::int32_t c : b->indices) ++df[c];
  }
  return df;
}

HeadTailSplit choose_head_split(const std::vector<std::int64_t>& df, std::int64_t rows_a,
                                std::int64_t rows_b, int requested, double head_cost,
                                double tail_cost) {
  const std::int64_t cols = static_cast<std::int64_t>(df.size());
  // Columns by decreasing df, ties by lower column, so the split is deterministic.
  std::vector<std::int32_t> order(static_cast<std::size_t>(cols));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int32_t x, std::int32_t y) { return df[x] > df[y]; });

  std::int64_t d = 0;
  if (requested >= 0) {
    d = std::min<std::int64_t>(requested, cols);
  } else if (rows_a > 0 && rows_b > 0) {
    // The saving of moving a column to the head (df^2 / (rows_a rows_b) tail products
    // per pair) falls with df while its dense cost stays `head_cost`, so the cost is
    // convex in D: grow the head by groups of 64 while a group saves more than it costs.
    const double pairs = static_cast<double>(rows_a) * static_cast<double>(rows_b);
    constexpr std::int64_t kGroup = 64;
    while (d < cols) {
      const std::int64_t end = std::min(cols, d + kGroup);
      double saving = 0.0;
      for (std::int64_t i = d; i < end; ++i) {
        const double f = static_cast<double>(df[order[i]]);
        saving += f * f / pairs * tail_cost;
      }
      // A partial last group costs as much as a full one (D is padded to 64).
      if (saving <= static_cast<double>(kGroup) * head_cost) break;
      d = end;
    }
  }
  // Columns no row uses cost nothing in the tail: never spend head slots on them.
  if (requested < 0) {
    while (d > 0 && df[order[d - 1]] == 0) --d;
  }

  HeadTailSplit split;
  split.head_dim = static_cast<int>(d);
  split.head_terms.assign(order.begin(), order.begin() + d);
  split.slot_of.assign(static_cast<std::size_t>(cols), -1);
  for (std::int64_t s = 0; s < d; ++s)
    split.slot_of[split.head_terms[s]] = static_cast<std::int32_t>(s);
  return split;
}

void fill_head_block(const CsrMatrix& x, const HeadTailSplit& split, std::int64_t begin,
                     std::int64_t end, float* out) {
  const std::int64_t d = split.head_dim;
  if (d == 0) return;
  std::memset(out, 0, static_cast<std::size_t>((end - begin) * d) * sizeof(float));
  const std::int64_t slots = static_cast<std::int64_t>(split.slot_of.size());
  for (std::int64_t r = begin; r < end; ++r) {
    float* row = out + (r - begin) * d;
    for (std::int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      const std::int32_t c = x.indices[p];
      if (c >= slots) continue;
      const std::int32_t s = split.slot_of[c];
      if (s >= 0) row[s] = x.data[p];
    }
  }
}

CsrMatrix tail_matrix(const CsrMatrix& x, const HeadTailSplit& split) {
  CsrMatrix t;
  t.rows = x.rows;
  t.cols = x.cols;
  t.indptr.assign(static_cast<std::size_t>(x.rows + 1), 0);
  const std::int64_t slots = static_cast<std::int64_t>(split.slot_of.size());
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      const std::int32_t c = x.indices[p];
      if (c < slots && split.slot_of[c] >= 0) continue;
      t.indices.push_back(c);
      t.data.push_back(x.data[p]);
    }
    t.indptr[r + 1] = static_cast<std::int64_t>(t.indices.size());
  }
  return t;
}

TilePlan plan_tiles(std::int64_t rows, std::int64_t cols, bool self_join, std::int64_t tile_rows,
                    std::int64_t tile_cols) {
  if (tile_rows < 1 || tile_cols < 1) throw Error("plan_tiles: tile edges must be positive");
  TilePlan plan;
  if (self_join) {
    // Diagonal tiles must be square for the upper-triangle rule to hold.
    tile_cols = tile_rows;
    cols = rows;
  }
  plan.tile_rows = tile_rows;
  plan.tile_cols = tile_cols;
  for (std::int64_t r = 0; r < rows; r += tile_rows) {
    const std::int64_t re = std::min(rows, r + tile_rows);
    for (std::int64_t c = self_join ? r : 0; c < cols; c += tile_cols) {
      plan.tiles.push_back({r, re, c, std::min(cols, c + tile_cols)});
    }
  }
  plan.pairs = self_join ? rows * (rows - 1) / 2 : rows * cols;
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
