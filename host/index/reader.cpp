// Loading .psx files: mmap, then every check that keeps a damaged file from
// crashing a run or giving a wrong answer (magic, version, size, checksums of
// the header, the table and every section, and the consistency of the arrays).

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>
#if defined(__x86_64__)
#include <xxh_x86dispatch.h>  // XXH3 on the widest vectors the CPU has (AVX2, AVX-512)
#endif
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>

#include "common/util.hpp"
#include "index/format.hpp"
#include "papersim/error.hpp"

namespace papersim {

namespace {

// Checks that offsets[0..n] start at 0, never decrease and end at `bytes`.
bool offsets_valid(const std::uint64_t* off, std::int64_t n, std::uint64_t bytes, int threads) {
  if (off[0] != 0 || off[n] != bytes) return false;
  std::atomic<bool> ok{true};
  constexpr std::int64_t kBlock = 1 << 16;
  parallel_for((n + kBlock - 1) / kBlock, threads, [&](std::int64_t b) {
    const std::int64_t end = std::min(n, (b + 1) * kBlock);
    for (std::int64_t i = b * kBlock; i < end; ++i)
      if (off[i + 1] < off[i]) ok = false;
  });
  return ok;
}

// Verifying reads every byte of the file once, but a run then touches only
// part of it (a cross join against the column blocks reads neither the CSR's
// columns nor its values but for a few candidate rows). The pages of a large
// array just verified are handed back to the page cache (MADV_DONTNEED on the
// read-only file mapping: they stay cached and fault back in on use), so the
// process's resident set holds what the run reads, not the whole file. Ranges
// below `worth_it` bytes are left alone.
void release_pages(const unsigned char* p, std::uint64_t bytes, std::uint64_t worth_it = 4u << 20) {
  if (bytes < worth_it) return;
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) / page * page;
  // Advice only: a failure leaves the pages resident, nothing else.
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// ColumnBlocksView::release for an index's blocks: the block's pages go back
// to the page cache once the engine is done with them.
void release_block(const ColumnBlocksView& b, std::int64_t block, std::int64_t first_entry,
                   std::int64_t entries) {
  const auto n = static_cast<std::uint64_t>(entries);
  release_pages(reinterpret_cast<const unsigned char*>(b.rows + first_entry), n * 2, 0);
  release_pages(reinterpret_cast<const unsigned char*>(b.values + first_entry), n * 4, 0);
  const std::uint64_t t0 = b.term_offsets[block], columns = b.term_offsets[block + 1] - t0;
  release_pages(reinterpret_cast<const unsigned char*>(b.terms + t0), columns * 4, 0);
  release_pages(reinterpret_cast<const unsigned char*>(b.starts + t0), columns * 4, 0);
}

// Entries of the arrays read at a time by a verifying pass: hashed, then
// checked while still in L2 (32K entries: 128 KiB of a 4-byte array), so the
// file's large arrays are read from memory once, not once to hash them and
// again to check them.
constexpr std::int64_t kPiece = 32768;

// The kChecksumBlock-byte blocks' hashes of one section (format version 2 on),
// fed piece by piece in order by the thread that owns a block.
struct BlockHashes {
  const unsigned char* base = nullptr;
  std::uint64_t bytes = 0;
  std::vector<std::uint64_t> hash;  // per block, as section_checksum takes them

  BlockHashes(const void* p, std::uint64_t n)
      : base(static_cast<const unsigned char*>(p)),
        bytes(n),
        hash(static_cast<std::size_t>((n + index::kChecksumBlock - 1) / index::kChecksumBlock)) {}

  // Bytes [from, to) into `state`, which holds the bytes of from's block before
  // `from`; at a block's end its hash is stored and the state starts afresh.
  void feed(XXH3_state_t& state, std::uint64_t from, std::uint64_t to) {
    while (from < to) {
      const std::uint64_t block = from / index::kChecksumBlock;
      const std::uint64_t block_end = std::min(bytes, (block + 1) * index::kChecksumBlock);
      const std::uint64_t stop = std::min(to, block_end);
      XXH3_64bits_update(&state, base + from, static_cast<std::size_t>(stop - from));
      from = stop;
      if (from == block_end) {
        hash[static_cast<std::size_t>(block)] = XXH3_64bits_digest(&state);
        XXH3_64bits_reset(&state);
      }
    }
  }
};

// Throws unless `hashes` (the section's block hashes) give the stored checksum
// of section `kind` (version 2 on).
void compare_checksum(const std::vector<Index::SectionEntry>& sections, IndexSection kind,
                      const BlockHashes& hashes, const std::string& path) {
  std::uint64_t stored = 0;
  for (const auto& se : sections)
    if (se.kind == kind) stored = se.checksum;
  if (index::checksum_of_block_hashes(hashes.hash) != stored)
    throw InputError(path, 0,
                     std::string("corrupt index: checksum mismatch in section '") +
                         index::section_name(kind) + "'");
}

// Throws unless each of `sections` that `skip` leaves has its stored checksum,
// computed whole as format `version` defines it.
template <class Skip>
void compare_whole_checksums(const std::vector<Index::SectionEntry>& sections,
                             std::uint32_t version, const unsigned char* base, int threads,
                             const std::string& path, Skip&& skip) {
  for (const auto& se : sections) {
    if (skip(se.kind)) continue;
    if (index::section_checksum(version, {{base + se.offset, se.bytes}}, threads) != se.checksum)
      throw InputError(path, 0,
                       std::string("corrupt index: checksum mismatch in section '") +
                           index::section_name(se.kind) + "'");
  }
}

// Entries [e0, e1) of two entry arrays (`a_width` and `b_width` bytes an entry;
// null: not hashed) hashed piece by piece, `after(piece_end, last)` called after
// each piece, while it is cached. [e0, e1) starts at a checksum block of both.
template <class After>
void hash_in_pieces(BlockHashes* a, std::uint64_t a_width, BlockHashes* b, std::uint64_t b_width,
                    std::int64_t e0, std::int64_t e1, After&& after) {
  XXH3_state_t a_state, b_state;
  XXH3_INITSTATE(&a_state);
  XXH3_INITSTATE(&b_state);
  XXH3_64bits_reset(&a_state);
  XXH3_64bits_reset(&b_state);
  for (std::int64_t p = e0; p < e1; p += kPiece) {
    const std::int64_t q = std::min(e1, p + kPiece);
    const auto from = static_cast<std::uint64_t>(p), to = static_cast<std::uint64_t>(q);
    if (a != nullptr) a->feed(a_state, from * a_width, to * a_width);
    if (b != nullptr) b->feed(b_state, from * b_width, to * b_width);
    after(q, q == e1);
  }
}

// The fingerprint of a matrix's entries, to hold its column blocks to its rows:
// the sum over entries (row, column, value bits) of column_print(column) ·
// row_print(row, bits), mod 2^64, the same for the CSR and the blocks when they
// hold the same multiset of entries, and different but for a collision of
// these hashes when they do not. A product, so a block multiplies each
// column's print once with the sum of its postings' row prints, and never
// spells out a posting's column.
inline std::uint64_t column_print(std::uint32_t col) {
  std::uint32_t h = col * 0x9E3779B1u;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  return h | 1u;  // odd: no entry's print is lost to a factor of two
}
inline std::uint64_t row_print(std::uint32_t row_key, float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  std::uint32_t h = row_key ^ bits;
  h *= 0x27D4EB2Fu;
  h ^= h >> 15;
  h *= 0x165667B1u;
  h ^= h >> 13;
  return h;
}
inline std::uint32_t row_key(std::uint32_t row) { return row * 0xC2B2AE35u; }

// Rows [r0, r1) of a CSR whose offsets are checked: whether a column id is out
// of range or not above the previous one in its row, or a value is not finite;
// with `print`, the rows' fingerprint. With the blocks' scan, most of a load's
// time after the checksums, so it is built for AVX2 too (32-bit vector
// multiplies; bitwise, not short-circuit, tests so the loops vectorize).
struct RowScan {
  std::uint64_t fingerprint = 0;
  bool bad = false;
};
__attribute__((target_clones("avx2", "default"))) RowScan scan_rows(
    const std::int64_t* indptr, const std::int32_t* indices, const float* data, std::int64_t r0,
    std::int64_t r1, std::int32_t cols, bool print) {
  std::uint32_t bad = 0;
  std::uint64_t sum = 0;
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::int64_t b = indptr[r], n = indptr[r + 1] - b;
    const std::int32_t* __restrict ci = indices + b;
    const float* __restrict cv = data + b;
    if (n > 0) bad |= ci[0] < 0 ? 1u : 0u;
    for (std::int64_t i = 1; i < n; ++i) bad |= ci[i] <= ci[i - 1] ? 1u : 0u;
    for (std::int64_t i = 0; i < n; ++i) {
      std::uint32_t bits;
      std::memcpy(&bits, cv + i, sizeof bits);
      bad |= static_cast<std::uint32_t>(ci[i] >= cols) |
             static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
    }
    if (print) {
      const std::uint32_t key = row_key(static_cast<std::uint32_t>(r));
      for (std::int64_t i = 0; i < n; ++i)
        sum += column_print(static_cast<std::uint32_t>(ci[i])) * row_print(key, cv[i]);
    }
  }
  return {sum, bad != 0};
}

// One column block's postings: whether any row offset exceeds `height` or any
// value is not finite, the descents rows[i] <= rows[i - 1] (valid only at
// column starts), and each posting's row print into prints[i + 1] (prints[0]
// = 0), for the prefix sums the columns' fingerprints are taken from.
struct BlockScan {
  std::uint64_t descents = 0;
  bool bad = false;
};
__attribute__((target_clones("avx2", "default"))) BlockScan scan_block(
    std::uint32_t first_row, std::uint16_t height, const std::uint16_t* rows, const float* values,
    std::int64_t n, std::uint64_t* prints) {
  std::uint64_t descents = 0;
  std::uint32_t bad = 0;
  prints[0] = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, values + i, sizeof bits);
    bad |= (rows[i] > height || (bits & 0x7f800000u) == 0x7f800000u) ? 1u : 0u;
    prints[i + 1] = row_print(row_key(first_row + rows[i]), values[i]);
  }
  for (std::int64_t i = 1; i < n; ++i) descents += rows[i] <= rows[i - 1] ? 1 : 0;
  return {descents, bad != 0};
}

}  // namespace

Index::Index(Index&& o) noexcept { *this = std::move(o); }

Index& Index::operator=(Index&& o) noexcept {
  if (this == &o) return *this;
  release();
  path_ = std::move(o.path_);
  base_ = o.base_;
  size_ = o.size_;
  version_ = o.version_;
  verify_seconds_ = o.verify_seconds_;
  sections_ = std::move(o.sections_);
  n_ = o.n_, v_ = o.v_, z_ = o.z_, k_ = o.k_, model_docs_ = o.model_docs_;
  added_docs_ = o.added_docs_, added_in_ = o.added_in_, added_out_ = o.added_out_;
  new_terms_ = o.new_terms_;
  options_ = std::move(o.options_);
  options_text_ = std::move(o.options_text_);
  vocab_off_ = o.vocab_off_, vocab_bytes_ = o.vocab_bytes_, df_ = o.df_, idf_ = o.idf_;
  indptr_ = o.indptr_, indices_ = o.indices_, data_ = o.data_;
  doc_off_ = o.doc_off_, doc_bytes_ = o.doc_bytes_;
  topk_docs_ = o.topk_docs_, topk_scores_ = o.topk_scores_, added_df_ = o.added_df_;
  new_term_off_ = o.new_term_off_, new_term_bytes_ = o.new_term_bytes_;
  new_term_df_ = o.new_term_df_;
  blocks_ = o.blocks_;
  block_check_ = std::move(o.block_check_);
  o.blocks_ = {};
  o.base_ = nullptr;
  o.size_ = 0;
  return *this;
}

Index::~Index() { release(); }

void Index::release() {
  if (base_ != nullptr && size_ > 0) munmap(const_cast<unsigned char*>(base_), size_);
  base_ = nullptr;
  size_ = 0;
}

std::pair<const unsigned char*, std::uint64_t> Index::section(IndexSection kind) const {
  for (const auto& s : sections_)
    if (s.kind == kind) return {base_ + s.offset, s.bytes};
  return {nullptr, 0};
}

// What the column blocks' deferred checks read: the mapping's arrays (valid
// while the Index lives, however often it is moved) and the rows' fingerprint
// computed by `open`.
struct Index::BlockCheck {
  std::mutex mutex;
  bool verified = false;
  double seconds = 0;
  std::string path;
  std::uint32_t version = 0;
  std::vector<SectionEntry> sections;  // the kBlock* sections
  const unsigned char* base = nullptr;
  const std::int64_t* indptr = nullptr;
  const std::int32_t* indices = nullptr;
  const float* data = nullptr;
  std::int64_t n = 0, v = 0, z = 0;
  std::uint64_t csr_fingerprint = 0;
};

Index Index::open(const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto fail = [&](const std::string& why) { return InputError(path, 0, why); };
  const int threads = resolve_threads(0);
  Index ix;
  ix.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail(std::string("cannot open index: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    throw fail("not a regular file");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < index::kHeaderBytes) {
    close(fd);
    throw fail("not a papersim index: " + std::to_string(size) + " bytes, shorter than a header");
  }
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) throw fail(std::string("cannot map index: ") + std::strerror(errno));
  ix.base_ = static_cast<const unsigned char*>(p);
  ix.size_ = size;
  const unsigned char* h = ix.base_;

  if (std::memcmp(h, index::kMagic, 8) != 0) throw fail("not a papersim index (bad magic number)");
  ix.version_ = index::load_field<std::uint32_t>(h + 8);
  if (ix.version_ < index::kOldestReadableVersion || ix.version_ > kIndexFormatVersion)
    throw fail("index format version " + std::to_string(ix.version_) + "; this papersim reads " +
               "versions " + std::to_string(index::kOldestReadableVersion) + " to " +
               std::to_string(kIndexFormatVersion) + " (rebuild the index)");
  if (index::load_field<std::uint32_t>(h + 28) != static_cast<std::uint32_t>(crc32(0L, h, 28)))
    throw fail("corrupt index: header checksum mismatch");
  const auto n_sections = index::load_field<std::uint32_t>(h + 12);
  const auto file_bytes = index::load_field<std::uint64_t>(h + 16);
  if (file_bytes != size)
    throw fail("truncated or extended index: " + std::to_string(size) + " bytes, header says " +
               std::to_string(file_bytes));
  if (n_sections > 1024 || index::kHeaderBytes + n_sections * index::kTableEntryBytes > size)
    throw fail("corrupt index: section table out of bounds");
  const unsigned char* table = h + index::kHeaderBytes;
  const std::uint64_t table_bytes = n_sections * index::kTableEntryBytes;
  if (index::load_field<std::uint32_t>(h + 24) !=
      static_cast<std::uint32_t>(crc32(0L, table, table_bytes)))
    throw fail("corrupt index: section table checksum mismatch");

  std::vector<std::uint32_t> crcs;
  for (std::uint32_t s = 0; s < n_sections; ++s) {
    const unsigned char* e = table + s * index::kTableEntryBytes;
    SectionEntry se;
    se.kind = static_cast<IndexSection>(index::load_field<std::uint32_t>(e));
    se.offset = index::load_field<std::uint64_t>(e + 8);
    se.bytes = index::load_field<std::uint64_t>(e + 16);
    // Version 1: a CRC-32 and a reserved zero word; later: one 64-bit checksum.
    se.checksum = ix.version_ == 1 ? index::load_field<std::uint32_t>(e + 24)
                                   : index::load_field<std::uint64_t>(e + 24);
    if (se.offset % index::kAlign != 0 || se.offset > size || se.bytes > size - se.offset)
      throw fail(std::string("corrupt index: section '") + index::section_name(se.kind) +
                 "' out of bounds");
    for (const auto& other : ix.sections_)
      if (other.kind == se.kind)
        throw fail(std::string("corrupt index: section '") + index::section_name(se.kind) +
                   "' twice");
    ix.sections_.push_back(se);
  }
  // Padding between the table and the sections must be zero: with it, every
  // byte of the file is covered by a check.
  {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
    for (const auto& se : ix.sections_) spans.push_back({se.offset, se.offset + se.bytes});
    std::sort(spans.begin(), spans.end());
    std::uint64_t at = index::kHeaderBytes + table_bytes;
    for (const auto& [b, e] : spans) {
      if (b < at) throw fail("corrupt index: sections overlap");
      for (; at < b; ++at)
        if (h[at] != 0) throw fail("corrupt index: non-zero padding at byte " + std::to_string(at));
      at = e;
    }
    for (; at < size; ++at)
      if (h[at] != 0) throw fail("corrupt index: non-zero padding at byte " + std::to_string(at));
    for (std::uint64_t i = 32; i < index::kHeaderBytes; ++i)
      if (h[i] != 0) throw fail("corrupt index: non-zero header padding");
    for (std::uint32_t s = 0; s < n_sections; ++s) {
      const unsigned char* e = table + s * index::kTableEntryBytes;
      if (index::load_field<std::uint32_t>(e + 4) != 0 ||
          (ix.version_ == 1 && index::load_field<std::uint32_t>(e + 28) != 0))
        throw fail("corrupt index: non-zero reserved field in the section table");
    }
  }
  // Every section's checksum, the big arrays included: a flipped bit in the
  // CSR would otherwise give wrong scores silently. Blocks of all sections run
  // in parallel (see `index info` for the time it takes).
  // The column blocks' sections are checked when the blocks are first read
  // (verify_blocks), so a run that reads only the rows never reads them.
  const auto is_block_section = [](IndexSection kind) {
    return kind == IndexSection::kBlockTermOffsets || kind == IndexSection::kBlockTerms ||
           kind == IndexSection::kBlockTermStarts || kind == IndexSection::kBlockRows ||
           kind == IndexSection::kBlockValues;
  };
  // From version 2, the four arrays of an entry each (the CSR's columns and
  // values, the blocks' rows and values) are hashed by the passes that check
  // them, piece by piece (BlockHashes); version 1's CRC-32s are checked whole.
  const bool hashed_in_checks = ix.version_ >= 2;
  const auto is_entry_array = [](IndexSection kind) {
    return kind == IndexSection::kIndices || kind == IndexSection::kData ||
           kind == IndexSection::kBlockRows || kind == IndexSection::kBlockValues;
  };
  compare_whole_checksums(
      ix.sections_, ix.version_, ix.base_, threads, path, [&](IndexSection kind) {
        return is_block_section(kind) || (hashed_in_checks && is_entry_array(kind));
      });

  const auto need = [&](IndexSection kind, std::uint64_t bytes) -> const unsigned char* {
    const auto [q, b] = ix.section(kind);
    if (q == nullptr)
      throw fail(std::string("corrupt index: missing section '") + index::section_name(kind) + "'");
    if (b != bytes)
      throw fail(std::string("corrupt index: section '") + index::section_name(kind) + "' has " +
                 std::to_string(b) + " bytes, expected " + std::to_string(bytes));
    return q;
  };
  // Not a structured binding: C++17 lambdas cannot capture one (clang rejects it).
  const unsigned char* const meta_p = ix.section(IndexSection::kMeta).first;
  if (meta_p == nullptr || ix.section(IndexSection::kMeta).second != index::kMetaWords * 8)
    throw fail("corrupt index: bad meta section");
  const auto meta = [&](int w) { return index::load_field<std::int64_t>(meta_p + 8 * w); };
  ix.n_ = meta(index::kMetaDocuments);
  ix.v_ = meta(index::kMetaVocabulary);
  ix.z_ = meta(index::kMetaNnz);
  ix.k_ = meta(index::kMetaK);
  ix.model_docs_ = meta(index::kMetaModelDocuments);
  ix.added_docs_ = meta(index::kMetaAddedDocuments);
  ix.added_in_ = meta(index::kMetaAddedInVocabulary);
  ix.added_out_ = meta(index::kMetaAddedOutOfVocabulary);
  ix.new_terms_ = meta(index::kMetaNewTerms);
  const std::int64_t limit = static_cast<std::int64_t>(size);
  if (ix.n_ < 0 || ix.v_ <= 0 || ix.v_ > INT32_MAX || ix.z_ < 0 || ix.k_ < 0 ||
      ix.model_docs_ <= 0 || ix.added_docs_ < 0 || ix.new_terms_ < 0 || ix.n_ > limit ||
      ix.z_ > limit || ix.new_terms_ > limit || (ix.k_ > 0 && ix.n_ > limit / 8 / ix.k_))
    throw fail("corrupt index: bad counts in the meta section");

  const auto [opt_p, opt_b] = ix.section(IndexSection::kOptions);
  if (opt_p == nullptr) throw fail("corrupt index: missing section 'options'");
  ix.options_text_.assign(reinterpret_cast<const char*>(opt_p), opt_b);
  ix.options_ = parse_tfidf_options(ix.options_text_, path);
  // Options no build writes (a token pattern or stemmer papersim cannot use)
  // would fail only at the first query, as a usage error: a corrupt file instead.
  try {
    validate_tfidf_options(ix.options_);
  } catch (const Error& e) {
    throw fail(std::string("corrupt index: stored TF-IDF options invalid: ") + e.what());
  }

  const std::uint64_t n = ix.n_, v = ix.v_, z = ix.z_, k = ix.k_, t = ix.new_terms_;
  ix.vocab_off_ =
      reinterpret_cast<const std::uint64_t*>(need(IndexSection::kVocabularyOffsets, (v + 1) * 8));
  const auto [vb_p, vb_b] = ix.section(IndexSection::kVocabularyBytes);
  ix.vocab_bytes_ = reinterpret_cast<const char*>(vb_p);
  ix.df_ = reinterpret_cast<const std::int64_t*>(need(IndexSection::kDf, v * 8));
  if (ix.options_.use_idf)
    ix.idf_ = reinterpret_cast<const double*>(need(IndexSection::kIdf, v * 8));
  ix.indptr_ = reinterpret_cast<const std::int64_t*>(need(IndexSection::kIndptr, (n + 1) * 8));
  ix.indices_ = reinterpret_cast<const std::int32_t*>(need(IndexSection::kIndices, z * 4));
  ix.data_ = reinterpret_cast<const float*>(need(IndexSection::kData, z * 4));
  ix.doc_off_ =
      reinterpret_cast<const std::uint64_t*>(need(IndexSection::kDocOffsets, (3 * n + 1) * 8));
  const auto [db_p, db_b] = ix.section(IndexSection::kDocBytes);
  ix.doc_bytes_ = reinterpret_cast<const char*>(db_p);
  ix.topk_docs_ = reinterpret_cast<const std::int64_t*>(need(IndexSection::kTopkDocs, n * k * 8));
  ix.topk_scores_ = reinterpret_cast<const float*>(need(IndexSection::kTopkScores, n * k * 4));
  ix.added_df_ = reinterpret_cast<const std::int64_t*>(need(IndexSection::kAddedDf, v * 8));
  ix.new_term_off_ =
      reinterpret_cast<const std::uint64_t*>(need(IndexSection::kNewTermOffsets, (t + 1) * 8));
  const auto [nb_p, nb_b] = ix.section(IndexSection::kNewTermBytes);
  ix.new_term_bytes_ = reinterpret_cast<const char*>(nb_p);
  ix.new_term_df_ = reinterpret_cast<const std::int64_t*>(need(IndexSection::kNewTermDf, t * 8));

  // Arrays: consistent offsets, column ids in range and increasing, neighbours in range.
  if (vb_p == nullptr || !offsets_valid(ix.vocab_off_, ix.v_, vb_b, threads))
    throw fail("corrupt index: vocabulary offsets inconsistent");
  // Columns are sorted by bytes (scikit-learn's order); a repeated term would
  // make the frozen-model transform ambiguous.
  for (std::int64_t c = 1; c < ix.v_; ++c) {
    if (!(ix.term(c - 1) < ix.term(c)))
      throw fail("corrupt index: vocabulary not strictly sorted (term " + std::to_string(c) + ")");
  }
  if (db_p == nullptr || !offsets_valid(ix.doc_off_, 3 * ix.n_, db_b, threads))
    throw fail("corrupt index: document table offsets inconsistent");
  if (nb_p == nullptr && t > 0) throw fail("corrupt index: missing section 'new-term bytes'");
  if (!offsets_valid(ix.new_term_off_, ix.new_terms_, nb_b, threads))
    throw fail("corrupt index: new-term offsets inconsistent");
  if (ix.indptr_[0] != 0 || ix.indptr_[ix.n_] != ix.z_)
    throw fail("corrupt index: CSR row offsets do not span the non-zeros");
  std::atomic<bool> rows_ok{true}, lists_ok{true};
  const std::int64_t block_rows = meta(index::kMetaBlockRows);
  constexpr std::int64_t kRowChunk = 256;
  // Row offsets in bounds and ascending, first: the pass below finds its rows
  // by binary search and reads their entries.
  parallel_for((ix.n_ + kRowChunk - 1) / kRowChunk, threads, [&](std::int64_t chunk) {
    const std::int64_t r0 = chunk * kRowChunk, r1 = std::min(r0 + kRowChunk, ix.n_);
    for (std::int64_t r = r0; r < r1; ++r)
      if (ix.indptr_[r] < 0 || ix.indptr_[r] > ix.indptr_[r + 1] || ix.indptr_[r + 1] > ix.z_)
        rows_ok = false;
  });
  if (!rows_ok) throw fail("corrupt index: CSR rows inconsistent (offsets or column ids)");
  // Column ids in range, finite values, ids increasing within each row; with
  // column blocks, the entries' fingerprint, to hold the blocks' to. One unit
  // of work is a checksum block of the columns and of the values (the same
  // entries) and the rows that start in it.
  std::atomic<std::uint64_t> csr_fingerprint{0};
  BlockHashes index_hashes(ix.indices_, z * 4), data_hashes(ix.data_, z * 4);
  const std::int64_t per_unit = static_cast<std::int64_t>(index::kChecksumBlock / 4);
  const std::int64_t units = std::max<std::int64_t>(1, (ix.z_ + per_unit - 1) / per_unit);
  const auto first_row_from = [&](std::int64_t entry) {
    return static_cast<std::int64_t>(std::lower_bound(ix.indptr_, ix.indptr_ + ix.n_ + 1, entry) -
                                     ix.indptr_);
  };
  parallel_for(units, threads, [&](std::int64_t u) {
    const std::int64_t e0 = u * per_unit, e1 = std::min(ix.z_, e0 + per_unit);
    const std::int64_t r_end = u + 1 == units ? ix.n_ : std::min(ix.n_, first_row_from(e1));
    std::int64_t r = u == 0 ? 0 : std::min(r_end, first_row_from(e0));
    std::uint32_t bad = 0;
    std::uint64_t sum = 0;
    // Rows starting below `below` (all that are left when `all`).
    const auto check_rows = [&](std::int64_t below, bool all) {
      std::int64_t end = r;
      while (end < r_end && (all || ix.indptr_[end] < below)) ++end;
      const RowScan scan = scan_rows(ix.indptr_, ix.indices_, ix.data_, r, end,
                                     static_cast<std::int32_t>(ix.v_), block_rows > 0);
      bad |= scan.bad ? 1u : 0u;
      sum += scan.fingerprint;
      r = end;
    };
    hash_in_pieces(hashed_in_checks ? &index_hashes : nullptr, 4,
                   hashed_in_checks ? &data_hashes : nullptr, 4, e0, e1,
                   [&](std::int64_t piece_end, bool last) { check_rows(piece_end, last); });
    check_rows(0, true);  // a matrix without entries: its empty rows
    if (bad != 0) rows_ok = false;
    csr_fingerprint += sum;
  });
  if (hashed_in_checks) {
    compare_checksum(ix.sections_, IndexSection::kIndices, index_hashes, path);
    compare_checksum(ix.sections_, IndexSection::kData, data_hashes, path);
  }
  parallel_for((ix.n_ + kRowChunk - 1) / kRowChunk, threads, [&](std::int64_t chunk) {
    const std::int64_t r0 = chunk * kRowChunk, r1 = std::min(r0 + kRowChunk, ix.n_);
    for (std::int64_t r = r0; r < r1 && ix.k_ > 0; ++r) {
      bool ended = false;
      for (std::int64_t i = 0; i < ix.k_; ++i) {
        const std::int64_t d = ix.topk_docs_[r * ix.k_ + i];
        const float score = ix.topk_scores_[r * ix.k_ + i];
        if (d == -1) {
          ended = true;
        } else if (ended || d < 0 || d >= ix.n_ || d == r || !std::isfinite(score)) {
          lists_ok = false;
        } else if (i > 0) {
          // The one total order: score descending, then lower doc.
          const std::int64_t pd = ix.topk_docs_[r * ix.k_ + i - 1];
          const float ps = ix.topk_scores_[r * ix.k_ + i - 1];
          if (!(ps > score || (ps == score && pd < d))) lists_ok = false;
        }
      }
    }
  });
  // The model: a bad weight would give wrong answers, not a crash, so it is checked too.
  for (std::int64_t c = 0; c < ix.v_; ++c) {
    if (ix.df_[c] < 0 || ix.df_[c] > ix.model_docs_)
      throw fail("corrupt index: document frequency out of range");
    if (ix.idf_ != nullptr && !(std::isfinite(ix.idf_[c]) && ix.idf_[c] > 0))
      throw fail("corrupt index: idf weight not a positive number");
  }
  if (!rows_ok) throw fail("corrupt index: CSR rows inconsistent (offsets or column ids)");
  if (!lists_ok) throw fail("corrupt index: stored top-k lists inconsistent");

  // Column blocks: bounds and order are checked, so the engine can read the
  // postings in place, and their entries' fingerprint must be the CSR's (a
  // block disagreeing with the rows would give wrong approximate scores).
  const bool any_block_section =
      std::any_of(ix.sections_.begin(), ix.sections_.end(),
                  [&](const SectionEntry& se) { return is_block_section(se.kind); });
  if (block_rows < 0 || block_rows > kMaxColumnBlockRows ||
      (ix.version_ < index::kColumnBlocksVersion && block_rows != 0))
    throw fail("corrupt index: bad column block size in the meta section");
  if (block_rows == 0 && any_block_section)
    throw fail("corrupt index: column block sections without a block size");
  if (block_rows > 0) {
    // Only the sizes here, from the table; the contents are checked when the
    // blocks are first read (verify_blocks).
    const std::int64_t blocks = (ix.n_ + block_rows - 1) / block_rows;
    const std::uint64_t columns = ix.section(IndexSection::kBlockTerms).second / 4;
    ColumnBlocksView& b = ix.blocks_;
    b.block_rows = block_rows;
    b.blocks = blocks;
    b.term_offsets = reinterpret_cast<const std::uint64_t*>(
        need(IndexSection::kBlockTermOffsets, static_cast<std::uint64_t>(blocks + 1) * 8));
    b.terms = reinterpret_cast<const std::int32_t*>(need(IndexSection::kBlockTerms, columns * 4));
    b.starts =
        reinterpret_cast<const std::uint32_t*>(need(IndexSection::kBlockTermStarts, columns * 4));
    b.rows = reinterpret_cast<const std::uint16_t*>(need(IndexSection::kBlockRows, z * 2));
    b.values = reinterpret_cast<const float*>(need(IndexSection::kBlockValues, z * 4));
    b.release = release_block;
    auto check = std::make_unique<BlockCheck>();
    check->path = path;
    check->version = ix.version_;
    for (const auto& se : ix.sections_)
      if (is_block_section(se.kind)) check->sections.push_back(se);
    check->base = ix.base_;
    check->indptr = ix.indptr_;
    check->indices = ix.indices_;
    check->data = ix.data_;
    check->n = ix.n_;
    check->v = ix.v_;
    check->z = ix.z_;
    check->csr_fingerprint = csr_fingerprint;
    b.verify = &Index::verify_blocks;
    b.owner = check.get();
    ix.block_check_ = std::move(check);
  }
  ix.verify_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ix;
}

void Index::verify_blocks(const ColumnBlocksView& b) {
  auto& c = *static_cast<BlockCheck*>(const_cast<void*>(b.owner));
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.verified) return;
  const auto t0 = std::chrono::steady_clock::now();
  const auto fail = [&](const std::string& why) { return InputError(c.path, 0, why); };
  const int threads = resolve_threads(0);
  const std::int64_t block_rows = b.block_rows, blocks = b.blocks;
  const auto z = static_cast<std::uint64_t>(c.z);
  // A run that reads the blocks reads the rows' columns and values only for a
  // few candidates: their pages, resident since `open` verified them, go back
  // to the page cache, so the rows and the blocks are not resident together.
  release_pages(reinterpret_cast<const unsigned char*>(c.indices), z * 4);
  release_pages(reinterpret_cast<const unsigned char*>(c.data), z * 4);
  const std::int64_t* const indptr = c.indptr;
  // The term offsets, terms and starts whole; the rows and values (the entry
  // arrays) by the pass below, piece by piece.
  compare_whole_checksums(c.sections, c.version, c.base, threads, c.path, [](IndexSection kind) {
    return kind == IndexSection::kBlockRows || kind == IndexSection::kBlockValues;
  });
  const std::uint64_t* off = b.term_offsets;
  const std::int32_t* terms = b.terms;
  const std::uint32_t* starts = b.starts;
  const std::uint16_t* rows = b.rows;
  const float* values = b.values;
  std::uint64_t columns = 0;
  for (const auto& se : c.sections)
    if (se.kind == IndexSection::kBlockTerms) columns = se.bytes / 4;
  if (!offsets_valid(off, blocks, columns, threads))
    throw fail("corrupt index: column block offsets inconsistent");
  std::atomic<bool> blocks_ok{true};
  std::atomic<std::uint64_t> block_fingerprint{0};
  // One unit of work is a checksum block of the rows (8 MiB: 4Mi entries, two
  // blocks of the values) and the column blocks that start in it, each
  // checked as soon as its pieces are hashed.
  const auto block_first = [&](std::int64_t blk) {
    return indptr[std::min(blk * block_rows, c.n)];
  };
  const auto first_block_from = [&](std::int64_t entry) {
    std::int64_t lo = 0, hi = blocks;  // first block starting at or after `entry`
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      if (block_first(mid) < entry)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  };
  BlockHashes row_hashes(rows, z * 2), value_hashes(values, z * 4);
  const std::int64_t per_unit = static_cast<std::int64_t>(index::kChecksumBlock / 2);
  const std::int64_t units = std::max<std::int64_t>(1, (c.z + per_unit - 1) / per_unit);
  std::vector<std::vector<std::uint64_t>> prints_of(
      static_cast<std::size_t>(resolve_threads(threads)));
  parallel_for_worker(units, threads, [&](std::int64_t u, int w) {
    std::vector<std::uint64_t>& prefix = prints_of[w];
    const auto check_block = [&](std::int64_t blk) {
      const std::int64_t r0 = blk * block_rows, r1 = std::min(r0 + block_rows, c.n);
      const std::int64_t first = indptr[r0], nnz = indptr[r1] - first;
      const auto block_height = static_cast<std::uint16_t>(r1 - r0 - 1);
      const std::uint64_t t0 = off[blk], t1 = off[blk + 1];
      if ((t0 == t1) != (nnz == 0)) {
        blocks_ok = false;
        return;
      }
      // Rows within the block and increasing within each column (the engine reads
      // a column's postings as distinct rows), values finite; the row prints,
      // summed up to prefix sums (the only loop that does not vectorize).
      const std::uint16_t* pr = rows + first;
      prefix.resize(static_cast<std::size_t>(nnz + 1));
      const BlockScan scan = scan_block(static_cast<std::uint32_t>(r0), block_height, pr,
                                        values + first, nnz, prefix.data());
      // The running sum in a register: `prefix[i] += prefix[i - 1]` waits on
      // the store it just made (store forwarding, ~5 cycles an entry).
      std::uint64_t running = 0;
      for (std::int64_t i = 1; i <= nnz; ++i) prefix[i] = running += prefix[i];
      // Columns in range and increasing; postings starting at 0, each column's
      // non-empty; each column's print times its postings' sum.
      std::uint64_t at_starts = 0, sum = 0;
      for (std::uint64_t e = t0; e < t1; ++e) {
        const std::int32_t col = terms[e];
        const std::int64_t s0 = starts[e], s1 = e + 1 < t1 ? starts[e + 1] : nnz;
        if (!(col >= 0 && col < c.v && (e == t0 ? s0 == 0 : col > terms[e - 1]) && s0 < s1 &&
              s1 <= nnz)) {
          blocks_ok = false;
          return;
        }
        if (e > t0) at_starts += pr[s0] <= pr[s0 - 1] ? 1 : 0;
        sum += column_print(static_cast<std::uint32_t>(col)) * (prefix[s1] - prefix[s0]);
      }
      if (scan.bad || scan.descents != at_starts) blocks_ok = false;
      block_fingerprint += sum;
    };
    const std::int64_t e0 = u * per_unit, e1 = std::min(c.z, e0 + per_unit);
    const std::int64_t b_end = u + 1 == units ? blocks : first_block_from(e1);
    std::int64_t next = u == 0 ? 0 : std::min(b_end, first_block_from(e0));
    hash_in_pieces(&row_hashes, 2, &value_hashes, 4, e0, e1,
                   [&](std::int64_t piece_end, bool last) {
                     // Blocks whose entries are all hashed now (the rest after the last piece).
                     for (; next < b_end && (last || block_first(next + 1) <= piece_end); ++next)
                       check_block(next);
                   });
    for (; next < b_end; ++next) check_block(next);
  });
  compare_checksum(c.sections, IndexSection::kBlockRows, row_hashes, c.path);
  compare_checksum(c.sections, IndexSection::kBlockValues, value_hashes, c.path);
  if (!blocks_ok) throw fail("corrupt index: column blocks inconsistent");
  if (block_fingerprint != c.csr_fingerprint)
    throw fail("corrupt index: column blocks do not hold the rows' entries");
  release_pages(reinterpret_cast<const unsigned char*>(rows), z * 2);
  release_pages(reinterpret_cast<const unsigned char*>(values), z * 4);
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.verified = true;
}

ColumnBlocksView Index::column_blocks() const {
  blocks_.ensure_verified();
  return blocks_;
}

double Index::verify_seconds() const {
  if (block_check_ == nullptr) return verify_seconds_;
  std::lock_guard<std::mutex> lock(block_check_->mutex);
  return verify_seconds_ + block_check_->seconds;
}

bool Index::fully_verified() const {
  if (block_check_ == nullptr) return true;
  std::lock_guard<std::mutex> lock(block_check_->mutex);
  return block_check_->verified;
}

std::string_view Index::term(std::int64_t c) const {
  return {vocab_bytes_ + vocab_off_[c],
          static_cast<std::size_t>(vocab_off_[c + 1] - vocab_off_[c])};
}

std::string_view Index::doc_string(std::int64_t i) const {
  return {doc_bytes_ + doc_off_[i], static_cast<std::size_t>(doc_off_[i + 1] - doc_off_[i])};
}

TfidfModel Index::model() const {
  TfidfModel m;
  m.vocabulary.reserve(static_cast<std::size_t>(v_));
  for (std::int64_t c = 0; c < v_; ++c) m.vocabulary.emplace_back(term(c));
  m.df.assign(df_, df_ + v_);
  if (idf_ != nullptr) m.idf.assign(idf_, idf_ + v_);
  m.documents = model_docs_;
  return m;
}

std::int32_t Index::find_term(std::string_view term) const {
  std::int64_t lo = 0, hi = v_;  // first column whose term is not below `term`
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (this->term(mid) < term)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < v_ && this->term(lo) == term ? static_cast<std::int32_t>(lo) : -1;
}

TfidfModelView Index::model_view() const {
  TfidfModelView view;
  view.columns = v_;
  view.find = [this](std::string_view term) { return find_term(term); };
  view.idf = idf_;
  return view;
}

CsrView Index::matrix() const { return {n_, v_, indptr_, indices_, data_}; }

std::vector<Neighbor> Index::neighbors(std::int64_t doc) const {
  std::vector<Neighbor> out;
  for (std::int64_t i = 0; i < k_; ++i) {
    const std::int64_t d = topk_docs_[doc * k_ + i];
    if (d < 0) break;
    out.push_back({d, topk_scores_[doc * k_ + i]});
  }
  return out;
}

IndexDrift Index::drift() const {
  IndexDrift d;
  d.added_documents = added_docs_;
  d.terms_in_vocabulary = added_in_;
  d.terms_out_of_vocabulary = added_out_;
  d.new_terms = new_terms_;
  for (std::int64_t i = 0; i < new_terms_; ++i) {
    if (new_term_df_[i] > d.top_new_term_df) {
      d.top_new_term_df = new_term_df_[i];
      d.top_new_term.assign(new_term_bytes_ + new_term_off_[i],
                            new_term_bytes_ + new_term_off_[i + 1]);
    }
  }
  if (added_docs_ == 0) return d;
  const double n0 = static_cast<double>(model_docs_);
  const double n1 = n0 + static_cast<double>(added_docs_);
  const double s = options_.smooth_idf ? 1.0 : 0.0;
  for (std::int64_t c = 0; c < v_; ++c) {
    const double df0 = static_cast<double>(df_[c]);
    if (df0 <= 0.0) continue;
    const double df1 = df0 + static_cast<double>(added_df_[c]);
    const double p0 = df0 / n0, p1 = df1 / n1;
    const double change = std::fabs(p1 - p0) / p0;
    if (change > d.df_change) {
      d.df_change = change;
      d.df_change_term = term(c);
      d.df_before = df_[c];
      d.df_after = df_[c] + added_df_[c];
    }
    const double idf0 = std::log((n0 + s) / (df0 + s)) + 1.0;
    const double idf1 = std::log((n1 + s) / (df1 + s)) + 1.0;
    const double idf_change = std::fabs(idf1 - idf0) / idf0;
    if (idf_change > d.idf_change) {
      d.idf_change = idf_change;
      d.idf_change_term = term(c);
    }
  }
  return d;
}

}  // namespace papersim
