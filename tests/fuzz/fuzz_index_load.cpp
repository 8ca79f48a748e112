// The .psx loader on arbitrary bytes. A mutated file almost never keeps valid
// checksums, so with the first byte odd the target repairs them first (magic,
// section checksums in bounds as the file's version defines them, table CRC,
// header CRC): the fuzzer then reaches the
// structural checks behind the checksums. Invariants: the only error is an
// InputError; an index that opens is consistent (every accessor in bounds,
// stored lists ordered and in range, the matrix well-formed, the frozen model
// usable by transform, and its column blocks, where it has them and they pass
// their deferred checks, the rows' entries: a cross join reading them gives
// what the dense-queries kernel over the rows gives).
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "fuzz_support.hpp"
#include "index/format.hpp"
#include "papersim/error.hpp"
#include "papersim/index.hpp"

using namespace papersim;

namespace {

template <class T>
T load(const std::string& s, std::size_t at) {
  return index::load_field<T>(s.data() + at);
}

template <class T>
void store(std::string& s, std::size_t at, T v) {
  index::store_field(s.data() + at, v);
}

std::uint32_t crc_of(const std::string& s, std::size_t at, std::size_t bytes) {
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(s.data() + at), static_cast<uInt>(bytes)));
}

// A section's checksum as the file's version defines it (any version but 1
// gets the current definition; open rejects unknown versions before checking).
void store_section_checksum(std::string& s, std::size_t entry, std::size_t at, std::size_t bytes) {
  const std::uint32_t version = load<std::uint32_t>(s, 8) == 1 ? 1 : kIndexFormatVersion;
  const std::uint64_t sum = index::section_checksum(version, {{s.data() + at, bytes}}, 1);
  if (version == 1) {
    store(s, entry + 24, static_cast<std::uint32_t>(sum));
  } else {
    store(s, entry + 24, sum);
  }
}

// Make the checksums match whatever the other bytes say.
void repair(std::string& f) {
  if (f.size() < index::kHeaderBytes) return;
  std::memcpy(f.data(), index::kMagic, 8);
  const std::uint32_t n = load<std::uint32_t>(f, 12);
  const std::size_t table = index::kHeaderBytes;
  if (n > 1024 || table + std::size_t{n} * index::kTableEntryBytes > f.size()) return;
  for (std::uint32_t s = 0; s < n; ++s) {
    const std::size_t e = table + s * index::kTableEntryBytes;
    const auto offset = load<std::uint64_t>(f, e + 8), bytes = load<std::uint64_t>(f, e + 16);
    if (offset <= f.size() && bytes <= f.size() - offset)
      store_section_checksum(f, e, offset, bytes);
  }
  store(f, 24, crc_of(f, table, std::size_t{n} * index::kTableEntryBytes));
  store(f, 28, crc_of(f, 0, 28));
}

void check_index(const Index& ix) {
  const std::int64_t n = ix.documents(), v = ix.vocabulary_size(), k = ix.k();
  PAPERSIM_FUZZ_CHECK(n >= 0 && v >= 0 && k >= 0 && ix.nnz() >= 0, "negative count");
  const CsrView m = ix.matrix();
  PAPERSIM_FUZZ_CHECK(m.rows == n && m.cols == v, "matrix shape");
  PAPERSIM_FUZZ_CHECK(m.indptr[0] == 0 && m.indptr[n] == ix.nnz(), "indptr ends");
  for (std::int64_t r = 0; r < n; ++r) {
    PAPERSIM_FUZZ_CHECK(m.indptr[r] <= m.indptr[r + 1], "indptr order");
    for (std::int64_t j = m.indptr[r]; j < m.indptr[r + 1]; ++j) {
      PAPERSIM_FUZZ_CHECK(m.indices[j] >= 0 && m.indices[j] < v, "column out of range");
      PAPERSIM_FUZZ_CHECK(j == m.indptr[r] || m.indices[j - 1] < m.indices[j], "column order");
    }
  }
  // Every string is read whole: one beyond the mapping faults here.
  unsigned sum = 0;
  const auto touch = [&sum](std::string_view t) {
    for (char ch : t) sum += static_cast<unsigned char>(ch);
  };
  for (std::int64_t c = 0; c < v; ++c) touch(ix.term(c));
  for (std::int64_t d = 0; d < n; ++d) {
    touch(ix.id(d));
    touch(ix.title(d));
    touch(ix.source(d));
    const std::vector<Neighbor> list = ix.neighbors(d);
    PAPERSIM_FUZZ_CHECK(static_cast<std::int64_t>(list.size()) <= k, "list longer than k");
    for (std::size_t i = 0; i < list.size(); ++i) {
      PAPERSIM_FUZZ_CHECK(list[i].doc >= 0 && list[i].doc < n, "neighbour out of range");
      if (i > 0) {
        const Neighbor& a = list[i - 1];
        const Neighbor& b = list[i];
        PAPERSIM_FUZZ_CHECK(a.score > b.score || (a.score == b.score && a.doc < b.doc),
                            "list order");
      }
    }
  }
  static volatile unsigned sink;
  sink = sum;
  (void)ix.drift();
  // The frozen model must vectorize a query (transform) without fault.
  TransformStats stats;
  const std::vector<std::string_view> texts = {"graph neural networks for protein structure",
                                               "the"};
  const CsrMatrix q = vectorize_with_index(ix, texts, 1, &stats);
  PAPERSIM_FUZZ_CHECK(q.rows == 2 && q.cols == v, "query shape");
  for (float x : q.data) PAPERSIM_FUZZ_CHECK(std::isfinite(x), "query weight not finite");

  const ColumnBlocksView blocks = ix.column_blocks();
  if (blocks.empty()) return;
  PAPERSIM_FUZZ_CHECK(blocks.covers(n), "column blocks of other rows");
  static const std::unique_ptr<SimilarityBackend> backend = make_backend(BackendKind::kCpu);
  SimilarityParams p;
  p.k = 3;
  p.threshold = 0.0f;
  p.threads = 1;
  p.tile = blocks.block_rows;  // read the blocks whatever the automatic edge
  p.head_dim = 1;              // the head/tail tiles (two queries would get the dense kernel)
  const SimilarityResult read = backend->cross_join(q.view(), m, blocks, p);
  PAPERSIM_FUZZ_CHECK(read.stats.column_blocks, "column blocks not read");
  // Against the dense-queries kernel over the rows.
  p.tile = 0;
  p.head_dim = -1;
  const SimilarityResult built = backend->cross_join(q.view(), m, p);
  PAPERSIM_FUZZ_CHECK(
      read.topk.size() == built.topk.size() && read.pairs.size() == built.pairs.size(),
      "blocks: other result shape");
  for (std::size_t i = 0; i < read.topk.size(); ++i) {
    PAPERSIM_FUZZ_CHECK(read.topk[i].size() == built.topk[i].size(), "blocks: other list length");
    for (std::size_t j = 0; j < read.topk[i].size(); ++j)
      PAPERSIM_FUZZ_CHECK(read.topk[i][j].doc == built.topk[i][j].doc &&
                              read.topk[i][j].score == built.topk[i][j].score,
                          "blocks: other neighbours");
  }
  for (std::size_t i = 0; i < read.pairs.size(); ++i)
    PAPERSIM_FUZZ_CHECK(
        read.pairs[i].b == built.pairs[i].b && read.pairs[i].score == built.pairs[i].score,
        "blocks: other pairs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static fuzz::MemFile file;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) repair(bytes);
  try {
    const Index ix = Index::open(file.write(bytes));
    check_index(ix);
  } catch (const InputError&) {
    // The one allowed outcome for a bad file: a clear error (exit 3).
  }
  return 0;
}
