// Exact top-k between many indexed rows and a few new rows, by sparse
// accumulation: the new rows are inverted (column -> postings), and each
// indexed row adds its products into one small accumulator per new row, in
// increasing column order — the very order of exact_dot's float64 sum, so every
// score is bitwise exact_dot's and no re-scoring is needed. One pass serves
// both directions (each indexed row's best new rows, each new row's best
// indexed rows). Cost: sum over terms of df_indexed * df_new multiply-adds
// into an L1-resident accumulator; `add` uses it for small batches, where the
// tiled engine's cross join spends most of its time on tile set-up.

#include <algorithm>
#include <atomic>
#include <limits>
#include <vector>

#include "common/util.hpp"
#include "index/format.hpp"

namespace papersim::index {

namespace {

bool better(const Neighbor& a, const Neighbor& b) {
  return a.score != b.score ? a.score > b.score : a.doc < b.doc;
}

// The best k candidates offered, worst on top of a heap.
class TopK {
 public:
  void offer(std::vector<Neighbor>& heap, std::int64_t k, Neighbor c) const {
    if (static_cast<std::int64_t>(heap.size()) < k) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(c, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = c;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
};

}  // namespace

ExactJoin exact_join(const CsrView& rows, const CsrView& fresh, const ExactJoinOptions& o) {
  const std::int64_t n = rows.rows, m = fresh.rows, k = o.k;
  const bool exclude_diagonal = o.exclude_diagonal;
  const int workers = resolve_threads(o.threads);
  ExactJoin out;
  if (o.row_lists) out.row_lists.resize(static_cast<std::size_t>(n));
  out.fresh_lists.resize(static_cast<std::size_t>(m));
  out.pairs_evaluated = exclude_diagonal ? n * (n - 1) / 2 : n * m;
  if (n == 0 || m == 0 || (k <= 0 && o.threshold < 0)) return out;

  // Postings of the new rows: for each column, (new row, value) in row order.
  const std::int64_t cols = fresh.cols;
  std::vector<std::int64_t> start(static_cast<std::size_t>(cols + 1), 0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t p = fresh.indptr[i]; p < fresh.indptr[i + 1]; ++p)
      ++start[fresh.indices[p] + 1];
  for (std::int64_t c = 0; c < cols; ++c) start[c + 1] += start[c];
  // Row and value side by side: one 8-byte load per product.
  struct Posting {
    std::int32_t row;
    float value;
  };
  std::vector<Posting> post(static_cast<std::size_t>(start[cols]));
  {
    std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t p = fresh.indptr[i]; p < fresh.indptr[i + 1]; ++p) {
        post[fill[fresh.indices[p]]++] = {static_cast<std::int32_t>(i), fresh.data[p]};
      }
  }

  // Per worker: the accumulator over new rows and each new row's best rows so
  // far, with the score a candidate must reach to enter (the worst kept once k
  // are kept), so most candidates cost one comparison.
  struct Scratch {
    std::vector<double> acc;
    std::vector<float> bar;
    std::vector<std::vector<Neighbor>> fresh_heaps;
    std::vector<ScoredPair> pairs;
  };
  std::vector<Scratch> scratch(static_cast<std::size_t>(workers));
  for (auto& s : scratch) {
    s.acc.assign(static_cast<std::size_t>(m), 0.0);
    s.bar.assign(static_cast<std::size_t>(m), 0.0f);
    s.fresh_heaps.resize(static_cast<std::size_t>(m));
  }
  const TopK topk;
  std::atomic<std::int64_t> rows_done{0};
  parallel_for_worker(
      n, workers,
      [&](std::int64_t j, int w) {
        Scratch& s = scratch[w];
        double* acc = s.acc.data();
        for (std::int64_t p = rows.indptr[j]; p < rows.indptr[j + 1]; ++p) {
          const std::int32_t c = rows.indices[p];
          const double x = static_cast<double>(rows.data[p]);
          const std::int64_t e = start[c + 1];
          // float -> double is exact, so this is exact_dot's product.
          for (const Posting *q = post.data() + start[c], *qe = post.data() + e; q < qe; ++q)
            acc[q->row] += x * static_cast<double>(q->value);
        }
        std::vector<Neighbor> none;
        std::vector<Neighbor>& mine = o.row_lists ? out.row_lists[j] : none;
        float my_bar = o.row_lists && k > 0 ? 0.0f : std::numeric_limits<float>::infinity();
        for (std::int64_t i = 0; i < m; ++i) {
          if (acc[i] == 0.0) continue;
          const auto score = static_cast<float>(acc[i]);
          acc[i] = 0.0;
          if (!(score > 0.0f) || (exclude_diagonal && i == j)) continue;
          if (score >= my_bar) {
            topk.offer(mine, k, {i, score});
            if (static_cast<std::int64_t>(mine.size()) == k) my_bar = mine.front().score;
          }
          if (o.threshold >= 0.0f && score >= o.threshold) s.pairs.push_back({i, j, score});
          if (k > 0 && score >= s.bar[i]) {
            std::vector<Neighbor>& h = s.fresh_heaps[i];
            topk.offer(h, k, {j, score});
            if (static_cast<std::int64_t>(h.size()) == k) s.bar[i] = h.front().score;
          }
        }
        std::sort(mine.begin(), mine.end(), better);
        if (o.progress && (++rows_done & 1023) == 0) o.progress(rows_done * m, n * m);
      },
      256);
  parallel_for(m, workers, [&](std::int64_t i) {
    std::vector<Neighbor>& l = out.fresh_lists[i];
    for (auto& s : scratch) l.insert(l.end(), s.fresh_heaps[i].begin(), s.fresh_heaps[i].end());
    std::sort(l.begin(), l.end(), better);
    if (static_cast<std::int64_t>(l.size()) > k) l.resize(static_cast<std::size_t>(k));
  });
  for (auto& s : scratch) out.pairs.insert(out.pairs.end(), s.pairs.begin(), s.pairs.end());
  std::sort(out.pairs.begin(), out.pairs.end(), [](const ScoredPair& a, const ScoredPair& b) {
    return a.a != b.a ? a.a < b.a : a.b < b.b;
  });
  return out;
}

}  // namespace papersim::index
