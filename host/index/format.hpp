#pragma once
// Internals of the .psx index format (documented in include/papersim/index.hpp):
// constants, checksums and the atomic section writer shared by build and add.

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "papersim/index.hpp"

namespace papersim::index {

inline constexpr char kMagic[8] = {'P', 'S', 'X', 'I', 'N', 'D', 'E', 'X'};
inline constexpr std::uint64_t kAlign = 64;
inline constexpr std::uint64_t kHeaderBytes = 64;
inline constexpr std::uint64_t kTableEntryBytes = 32;
inline constexpr int kMetaWords = 16;

/// A little-endian field of the format, read or written in place (the
/// supported hosts are little-endian; any alignment).
template <class T>
T load_field(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
void store_field(void* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

/// Word positions in the kMeta section.
enum MetaWord {
  kMetaDocuments = 0,
  kMetaVocabulary = 1,
  kMetaNnz = 2,
  kMetaK = 3,
  kMetaModelDocuments = 4,
  kMetaAddedDocuments = 5,
  kMetaAddedInVocabulary = 6,
  kMetaAddedOutOfVocabulary = 7,
  kMetaNewTerms = 8,
  kMetaBlockRows = 9,
};

/// A run of bytes of a section (sections are concatenations of chunks, so
/// `add` writes the old arrays straight from the mapping, without copies).
struct Chunk {
  const void* data = nullptr;
  std::uint64_t bytes = 0;
};

struct SectionData {
  IndexSection kind;
  std::vector<Chunk> chunks;
  std::uint64_t bytes() const {
    std::uint64_t n = 0;
    for (const Chunk& c : chunks) n += c.bytes;
    return n;
  }
};

template <class T>
Chunk chunk_of(const std::vector<T>& v) {
  return {v.data(), v.size() * sizeof(T)};
}

/// The oldest format version this build still reads (its section checksums are CRC-32).
inline constexpr std::uint32_t kOldestReadableVersion = 1;

/// The first format version with column blocks (kMetaBlockRows, the kBlock* sections).
inline constexpr std::uint32_t kColumnBlocksVersion = 3;

/// Bytes of the blocks that section checksums are computed over in parallel.
inline constexpr std::uint64_t kChecksumBlock = 8u << 20;

/// zlib CRC-32 of the concatenated chunks, computed on `threads` threads over
/// 8 MiB blocks combined with crc32_combine (equal to a sequential crc32).
std::uint32_t crc32_chunks(const std::vector<Chunk>& chunks, int threads);

/// Checksum of a section (the concatenated chunks) as format `version` defines
/// it: version 1, the CRC-32 (crc32_chunks); from version 2, the XXH3-64 of the
/// little-endian XXH3-64 hashes of its consecutive kChecksumBlock-byte blocks
/// (the last one shorter; no blocks for an empty section). The blocks are
/// hashed on `threads` threads; chunk boundaries do not matter.
std::uint64_t section_checksum(std::uint32_t version, const std::vector<Chunk>& chunks,
                               int threads);

/// A section's checksum (version 2 on) from its blocks' XXH3-64 hashes, in order.
std::uint64_t checksum_of_block_hashes(const std::vector<std::uint64_t>& hashes);

/// Name of a section kind for messages and `index info` ("indices", ...).
const char* section_name(IndexSection kind);

/// Called with the bytes written so far, after each write; may throw to abort
/// (failure injection in tests) — the previous file then stays as it was.
using WriteHook = std::function<void(std::uint64_t written)>;

/// Append the kBlock* sections of `blocks` (none when it has no block rows).
void push_block_sections(std::vector<SectionData>& sections, const ColumnBlocks& blocks);

/// Write header, section table and sections to `path` through an AtomicFile
/// (temporary in the same directory, fsync, rename, fsync of the directory);
/// `temps` (may be null) lets a signal handler remove the temporary.
void write_sections(const std::string& path, const std::vector<SectionData>& sections, int threads,
                    const WriteHook& hook = {}, TempFileRegistry* temps = nullptr);

/// Fail early (before any work) when `path` could not be written: its directory
/// must exist and be writable. @throws InputError (exit 3).
void check_writable(const std::string& path);

/// Lists of `a` and `b` merged under (score desc, doc asc), the first `k` kept.
std::vector<Neighbor> merge_lists(const std::vector<Neighbor>& a, const std::vector<Neighbor>& b,
                                  std::int64_t k);

/// Both directions of an exact top-k join of `rows` (many) with `fresh` (few).
struct ExactJoin {
  std::vector<std::vector<Neighbor>> row_lists;    ///< Per row of `rows`: its best `fresh` rows.
  std::vector<std::vector<Neighbor>> fresh_lists;  ///< Per row of `fresh`: its best `rows`.
  /// With a threshold: (fresh row, row, score) for every score >= threshold, sorted.
  std::vector<ScoredPair> pairs;
  std::int64_t pairs_evaluated = 0;
};

struct ExactJoinOptions {
  std::int64_t k = 10;            ///< List length (0: no lists).
  bool exclude_diagonal = false;  ///< `rows` and `fresh` are the same rows: skip (i, i).
  bool row_lists = true;          ///< Also each row's best fresh rows.
  float threshold = -1.0f;        ///< Collect pairs with score >= threshold (negative: none).
  int threads = 0;
  ProgressFn progress;  ///< Called now and then with pairs done and the total; may be empty.
};

/// Exact top-k (exact_dot scores, order score desc then doc asc, scores > 0)
/// between every row of `rows` and every row of `fresh` (same columns), by
/// sparse accumulation over `fresh`'s postings. Memory: `fresh`'s non-zeros
/// plus, per thread, `fresh.rows` accumulators and k-lists.
ExactJoin exact_join(const CsrView& rows, const CsrView& fresh, const ExactJoinOptions& options);

/// Batches of up to this many new documents are joined by `exact_join` in
/// `add`; larger ones by the similarity backend.
inline constexpr std::int64_t kExactJoinMaxRows = 50000;

/// `add_to_index` with a write hook (tests inject failures through it).
IndexAddResult add_documents(const std::string& path, const std::vector<IndexedDocument>& docs,
                             const std::vector<std::string_view>& texts, SimilarityBackend& backend,
                             const SimilarityParams& params, const WriteHook& hook,
                             std::int64_t exact_join_max_rows = kExactJoinMaxRows,
                             TempFileRegistry* temps = nullptr);

}  // namespace papersim::index
