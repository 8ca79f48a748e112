#include "sim/ring_join.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/byte_message.hpp"
#include "papersim/error.hpp"
#include "sim/finalize.hpp"

namespace papersim::detail {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Keeps the best `k` of two lists, each already in the one order.
void merge_into(std::vector<Neighbor>& list, const std::vector<Neighbor>& more, std::int64_t k) {
  if (more.empty()) return;
  std::vector<Neighbor> merged;
  merged.reserve(list.size() + more.size());
  std::merge(
      list.begin(), list.end(), more.begin(), more.end(), std::back_inserter(merged),
      [](const Neighbor& a, const Neighbor& b) { return better(a.score, a.doc, b.score, b.doc); });
  if (static_cast<std::int64_t>(merged.size()) > k) merged.resize(static_cast<std::size_t>(k));
  list.swap(merged);
}

void add_stats(SimilarityStats& to, const SimilarityStats& s) {
  to.pairs_evaluated += s.pairs_evaluated;
  to.rescored += s.rescored;
  to.fallback_rows += s.fallback_rows;
  to.tiles += s.tiles;
  to.head_dim = std::max(to.head_dim, s.head_dim);
  to.peak_working_bytes = std::max(to.peak_working_bytes, s.peak_working_bytes);
  if (to.backend.empty()) to.backend = s.backend;
}

}  // namespace

RowBlock block_of(std::int64_t n, int ranks, int rank) {
  const auto p = static_cast<std::int64_t>(ranks);
  return {n * rank / p, n * (rank + 1) / p};
}

std::string pack_csr(const CsrView& x, std::int64_t first_row) {
  ByteWriter w;
  const std::int64_t nnz = x.nnz(), base = x.rows > 0 ? x.indptr[0] : 0;
  w.put(first_row);
  w.put(x.rows);
  w.put(x.cols);
  w.put(nnz);
  for (std::int64_t r = 0; r <= x.rows; ++r) w.put(x.rows > 0 ? x.indptr[r] - base : 0);
  w.put_array(x.indices + base, nnz);
  w.put_array(x.data + base, nnz);
  return std::move(w.bytes());
}

CsrMatrix unpack_csr(std::string_view bytes, std::int64_t* first_row) {
  ByteReader r(bytes);
  CsrMatrix m;
  *first_row = r.get<std::int64_t>();
  m.rows = r.get<std::int64_t>();
  m.cols = r.get<std::int64_t>();
  const auto nnz = r.get<std::int64_t>();
  // Sizes are checked against the bytes before anything is allocated.
  const auto need = [](std::int64_t n, std::size_t each) {
    return static_cast<std::size_t>(n) * each;
  };
  if (m.rows < 0 || nnz < 0 || m.cols < 0 ||
      r.left() !=
          need(m.rows + 1, sizeof(std::int64_t)) + need(nnz, sizeof(std::int32_t) + sizeof(float)))
    throw Error("internal: malformed matrix block between ranks");
  m.indptr.resize(static_cast<std::size_t>(m.rows + 1));
  r.get_array(m.indptr.data(), m.rows + 1);
  m.indices.resize(static_cast<std::size_t>(nnz));
  m.data.resize(static_cast<std::size_t>(nnz));
  r.get_array(m.indices.data(), nnz);
  r.get_array(m.data.data(), nnz);
  if (!r.done()) throw Error("internal: malformed matrix block between ranks");
  return m;
}

SimilarityResult ring_join(Comm& comm, SimilarityBackend& backend, const CsrView& queries,
                           std::int64_t q_begin, const CsrView* references, std::int64_t r_begin,
                           const SimilarityParams& params, RingStats* ring_stats) {
  const int p = comm.size(), me = comm.rank();
  const bool self = references == nullptr;
  // A self-join scores each block pair once: block pairs at ring distance d and
  // p - d are the same, so half the ring covers them (at distance p/2 the two
  // ranks split the pair). Top-k lists come from a two-sided cross join: the
  // visiting rows' lists among this rank's rows go back to their owner at the
  // same step (one sendrecv: to the rank d behind, from the rank d ahead).
  const bool two_sided = self && params.k > 0;
  const int steps = self ? p / 2 : p - 1;
  const std::int64_t k = params.k;

  SimilarityResult out;
  out.topk.resize(static_cast<std::size_t>(queries.rows));
  SimilarityParams sub = params;
  sub.progress = nullptr;
  RingStats rs;

  // Pairs this rank will score, for the progress callback.
  std::int64_t total = 0, done = 0;
  {
    std::vector<std::int64_t> mine(static_cast<std::size_t>(p), 0);
    mine[me] = self ? queries.rows : references->rows;
    comm.allreduce(mine, Comm::Op::kSum);
    for (int s = 0; s <= steps; ++s) {
      const int owner = ((me - s) % p + p) % p;
      if (s == 0 && self) {
        total += queries.rows * (queries.rows - 1) / 2;
      } else if (self && 2 * s == p) {
        total += me < owner ? queries.rows / 2 * mine[owner]
                            : queries.rows * (mine[owner] - mine[owner] / 2);
      } else {
        total += queries.rows * mine[owner];
      }
    }
  }

  // Lists of the visiting rows found here, for their owner (two-sided steps).
  std::vector<std::vector<Neighbor>> for_owner;
  // Rows [row_lo, row_hi) of this rank's queries against `cols` (global rows from
  // c_begin; `cols` are rows [col_lo, ...) of the visiting block).
  // Every pair is scored at exactly one rank, so its threshold pair is kept there.
  const auto run_tile = [&](const CsrView& cols, std::int64_t c_begin, int s, std::int64_t row_lo,
                            std::int64_t row_hi, std::int64_t col_lo) {
    const CsrView rows = queries.row_range(row_lo, row_hi);
    if (rows.rows == 0 || cols.rows == 0) return;
    const auto t0 = Clock::now();
    const bool diagonal = self && s == 0;
    SimilarityParams tp = sub;
    if (tp.k <= 0 && tp.threshold < 0) return;
    tp.reference_lists = two_sided && !diagonal;
    SimilarityResult r =
        diagonal ? backend.self_join(rows, tp) : backend.cross_join(rows, cols, tp);
    for (std::size_t j = 0; j < r.reference_topk.size(); ++j) {
      for (Neighbor& n : r.reference_topk[j]) n.doc += q_begin + row_lo;
      merge_into(for_owner[static_cast<std::size_t>(col_lo) + j], r.reference_topk[j], k);
    }
    add_stats(out.stats, r.stats);
    ++rs.tiles;
    rs.pairs += r.stats.pairs_evaluated;
    if (k > 0) {
      for (std::size_t i = 0; i < r.topk.size(); ++i) {
        for (Neighbor& n : r.topk[i]) n.doc += c_begin;
        merge_into(out.topk[row_lo + static_cast<std::int64_t>(i)], r.topk[i], k);
      }
    }
    for (ScoredPair pr : r.pairs) {
      pr.a += q_begin + row_lo;
      pr.b += c_begin;
      if (self && pr.a > pr.b) std::swap(pr.a, pr.b);
      out.pairs.push_back(pr);
    }
    rs.seconds += since(t0);
    done += diagonal ? rows.rows * (rows.rows - 1) / 2 : rows.rows * cols.rows;
    if (params.progress) params.progress(done, total);
  };

  const CsrView& own_cols = self ? queries : *references;
  const std::int64_t own_begin = self ? q_begin : r_begin;
  run_tile(own_cols, own_begin, 0, 0, queries.rows, 0);
  CsrMatrix visiting;
  std::string block;
  for (int s = 1; s <= steps; ++s) {
    // Shift: pass the block in hand to the next rank, take the previous rank's.
    // Step 1 sends our own block; later steps forward what arrived.
    const auto t0 = Clock::now();
    if (s == 1) block = pack_csr(own_cols, own_begin);
    rs.bytes_sent += static_cast<std::int64_t>(block.size());
    block = comm.sendrecv(block, (me + 1) % p, (me - 1 + p) % p);
    ++rs.steps;
    rs.shift_seconds += since(t0);
    std::int64_t c_begin = 0;
    visiting = unpack_csr(block, &c_begin);
    const int owner = ((me - s) % p + p) % p;
    if (two_sided) for_owner.assign(static_cast<std::size_t>(visiting.rows), {});
    if (self && 2 * s == p) {
      // Both ranks of a pair at distance p/2 hold both blocks: the lower one
      // scores the first half of its rows against the other block, the upper
      // one its rows against the second half of the lower block.
      if (me < owner) {
        run_tile(visiting.view(), c_begin, s, 0, queries.rows / 2, 0);
      } else {
        const CsrView v = visiting.view();
        const std::int64_t h = v.rows / 2;
        run_tile(v.row_range(h, v.rows), c_begin + h, s, 0, queries.rows, h);
      }
    } else {
      run_tile(visiting.view(), c_begin, s, 0, queries.rows, 0);
    }
    if (!two_sided) continue;
    // Send the visiting rows' lists home; take this rank's rows' lists from the
    // rank that holds this block now.
    const auto t1 = Clock::now();
    ByteWriter w;
    for (const auto& list : for_owner) {
      w.put(static_cast<std::int64_t>(list.size()));
      w.put_array(list.data(), static_cast<std::int64_t>(list.size()));
    }
    for_owner.clear();
    rs.bytes_sent += static_cast<std::int64_t>(w.bytes().size());
    const std::string back = comm.sendrecv(w.bytes(), owner, (me + s) % p);
    rs.shift_seconds += since(t1);
    ByteReader r(back);
    for (std::int64_t i = 0; i < queries.rows; ++i) {
      std::vector<Neighbor> list(static_cast<std::size_t>(r.get<std::int64_t>()));
      r.get_array(list.data(), static_cast<std::int64_t>(list.size()));
      merge_into(out.topk[static_cast<std::size_t>(i)], list, k);
    }
    if (!r.done()) throw Error("internal: malformed lists between ranks");
  }
  std::int64_t zero = 0;
  for (std::int64_t i = 0; i < queries.rows; ++i) zero += queries.row_nnz(i) == 0;
  out.stats.zero_rows = zero;
  out.stats.seconds = rs.seconds;
  if (ring_stats) *ring_stats = rs;
  return out;
}

SimilarityResult gather_result(Comm& comm, SimilarityResult local) {
  std::vector<std::int64_t> counts{local.stats.pairs_evaluated, local.stats.zero_rows,
                                   local.stats.rescored, local.stats.fallback_rows,
                                   local.stats.tiles};
  comm.allreduce(counts, Comm::Op::kSum);
  std::vector<std::int64_t> longest{static_cast<std::int64_t>(local.stats.seconds * 1e6),
                                    static_cast<std::int64_t>(local.stats.peak_working_bytes),
                                    local.stats.head_dim};
  comm.allreduce(longest, Comm::Op::kMax);

  ByteWriter w;
  w.put(static_cast<std::int64_t>(local.topk.size()));
  for (const auto& list : local.topk) {
    w.put(static_cast<std::int64_t>(list.size()));
    w.put_array(list.data(), static_cast<std::int64_t>(list.size()));
  }
  w.put(static_cast<std::int64_t>(local.pairs.size()));
  w.put_array(local.pairs.data(), static_cast<std::int64_t>(local.pairs.size()));
  std::vector<std::string> parts = comm.gatherv(w.bytes(), 0);
  w.bytes() = {};

  SimilarityResult out;
  out.stats = local.stats;
  out.stats.pairs_evaluated = counts[0];
  out.stats.zero_rows = counts[1];
  out.stats.rescored = counts[2];
  out.stats.fallback_rows = counts[3];
  out.stats.tiles = counts[4];
  out.stats.seconds = static_cast<double>(longest[0]) / 1e6;
  out.stats.peak_working_bytes = static_cast<std::size_t>(longest[1]);
  out.stats.head_dim = static_cast<int>(longest[2]);
  local = {};
  for (const std::string& part : parts) {
    ByteReader r(part);
    const auto rows = r.get<std::int64_t>();
    for (std::int64_t i = 0; i < rows; ++i) {
      std::vector<Neighbor> list(static_cast<std::size_t>(r.get<std::int64_t>()));
      r.get_array(list.data(), static_cast<std::int64_t>(list.size()));
      out.topk.push_back(std::move(list));
    }
    const std::size_t before = out.pairs.size();
    out.pairs.resize(before + static_cast<std::size_t>(r.get<std::int64_t>()));
    r.get_array(out.pairs.data() + before, static_cast<std::int64_t>(out.pairs.size() - before));
  }
  std::sort(out.pairs.begin(), out.pairs.end(), [](const ScoredPair& a, const ScoredPair& b) {
    return a.a != b.a ? a.a < b.a : a.b < b.b;
  });
  return out;
}

}  // namespace papersim::detail
