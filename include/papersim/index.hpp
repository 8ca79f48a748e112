#pragma once
/// @file index.hpp
/// @brief A saved index: a fitted TF-IDF model, the vectors and document table of
/// every indexed paper and, optionally, every paper's top-k list, in one
/// versioned, checksummed binary file (`.psx`) that is loaded by mmap.
///
/// The model is frozen when the index is built: documents added later and
/// queries are vectorized with the saved vocabulary, document frequencies and
/// options (scikit-learn `transform` semantics), so the stored vectors never
/// change and stored top-k lists can be updated exactly, without a recompute.
///
/// File layout (little-endian; every section starts at a multiple of 64 bytes):
///
///     offset 0   header, 64 bytes:
///                  char     magic[8]       "PSXINDEX"
///                  uint32   version        kIndexFormatVersion
///                  uint32   sections       number of entries in the section table
///                  uint64   file_bytes     total size of the file
///                  uint32   table_crc      CRC-32 of the section table
///                  uint32   header_crc     CRC-32 of bytes [0, 28) of the header
///                  zero padding to 64 bytes
///     offset 64  section table, 32 bytes per section:
///                  uint32 kind, uint32 reserved (0), uint64 offset, uint64 bytes,
///                  uint64 checksum of the section's bytes (below)
///     then the sections, each zero-padded to the next multiple of 64 bytes.
///
/// CRC-32 is zlib's `crc32` (the ISO-HDLC / gzip polynomial). A section's
/// checksum is the XXH3-64 (xxHash 0.8) of the little-endian XXH3-64 hashes of
/// its consecutive 8 MiB blocks, so it is computed in parallel; XXH3 runs at
/// memory speed where CRC-32 took 18% of a 100-query run's CPU time. Version 3
/// adds the rows' column blocks (the kBlock* sections); version 2 files are the
/// same without them. Version 1 and 2 files are still read, and `index add`
/// rewrites them as version 3. Version 1 files had instead a
/// uint32 CRC-32 of the section, computed over 8 MiB blocks combined with
/// `crc32_combine`, and a uint32 reserved (0). The kinds of section are listed
/// in `IndexSection`; their contents are described there.
/// A file whose magic, version, size, table or any section checksum does not
/// match, or whose arrays are inconsistent, is rejected with an InputError.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "papersim/csr.hpp"
#include "papersim/similarity.hpp"
#include "papersim/tfidf.hpp"

namespace papersim {

/// Temporaries of a run, removed by signal handlers (host/common/atomic_file.hpp).
class TempFileRegistry;

/// Version written by this build. Versions 1 and 2 are still read; files of any
/// other version are rejected.
inline constexpr std::uint32_t kIndexFormatVersion = 3;

/// Rows per column block in the indexes this build writes: the CPU engine's
/// default tile edge, so a cross join against the index reads one saved block
/// per column block of tiles.
inline constexpr std::int64_t kIndexBlockRows = 2048;

/// Section kinds of the `.psx` format (the `kind` field of the section table).
/// Counts are N = documents, V = vocabulary terms, Z = non-zeros, K = stored k,
/// T = drift terms outside the vocabulary. Integers are little-endian.
enum class IndexSection : std::uint32_t {
  /// uint64[16]: N, V, Z, K, model documents (the N of the idf), added documents,
  /// added in-vocabulary term occurrences, added out-of-vocabulary term
  /// occurrences, T, E (rows per column block; 0 = no kBlock* sections; always 0
  /// before version 3), then zeros.
  kMeta = 1,
  /// UTF-8 text, one `key=value` per line: the TfidfOptions the model was fitted with.
  kOptions = 2,
  /// uint64[V + 1] byte offsets into kVocabularyBytes; term c is bytes [off[c], off[c+1]).
  kVocabularyOffsets = 3,
  kVocabularyBytes = 4,
  kDf = 5,           ///< int64[V]: document frequency of each term when the model was fitted.
  kIdf = 6,          ///< float64[V]: the idf used (absent with use_idf = false).
  kIndptr = 7,       ///< int64[N + 1]: CSR row offsets, from 0 to Z.
  kIndices = 8,      ///< int32[Z]: CSR column ids, strictly increasing per row.
  kData = 9,         ///< float32[Z]: CSR values (the TF-IDF weights).
  kDocOffsets = 10,  ///< uint64[3N + 1]: doc d's id, title, source are strings 3d, 3d+1, 3d+2.
  kDocBytes = 11,
  kTopkDocs = 12,        ///< int64[N * K]: row d's list in slots [dK, dK + K), unused slots -1.
  kTopkScores = 13,      ///< float32[N * K]: the matching scores (0 in unused slots).
  kAddedDf = 14,         ///< int64[V]: per term, the added documents containing it (drift).
  kNewTermOffsets = 15,  ///< uint64[T + 1]: added terms outside the vocabulary (drift)...
  kNewTermBytes = 16,    ///< ...their bytes, sorted by bytes...
  kNewTermDf = 17,       ///< int64[T]: ...and the added documents containing each.
  /// The rows' column blocks (ColumnBlocksView in papersim/csr.hpp), B = ceil(N / E)
  /// blocks holding C block columns. Present from version 3 when E > 0.
  kBlockTermOffsets = 18,  ///< uint64[B + 1]: block b's columns are [off[b], off[b + 1]).
  kBlockTerms = 19,        ///< int32[C]: column ids, strictly increasing within a block.
  kBlockTermStarts = 20,   ///< uint32[C]: first posting, relative to the block's first entry.
  kBlockRows = 21,         ///< uint16[Z]: postings' row offsets within their block.
  kBlockValues = 22,       ///< float32[Z]: postings' values (the CSR's, transposed by block).
};

/// One indexed document's table entry.
struct IndexedDocument {
  std::string id;
  std::string title;
  std::string source;
};

/// How far the frozen model has drifted from the documents added since the
/// build, so a user can tell when to rebuild.
struct IndexDrift {
  std::int64_t added_documents = 0;
  std::int64_t terms_in_vocabulary = 0;      ///< Term occurrences of added documents kept.
  std::int64_t terms_out_of_vocabulary = 0;  ///< Term occurrences ignored (not in the vocabulary).
  std::int64_t new_terms = 0;                ///< Distinct terms ignored.
  /// Most frequent ignored term and its document count among the added documents.
  std::string top_new_term;
  std::int64_t top_new_term_df = 0;
  /// Largest relative change of a term's document proportion df/N had the
  /// added documents been counted: |p_after - p_before| / p_before, its term,
  /// and df before and after.
  double df_change = 0.0;
  std::string df_change_term;
  std::int64_t df_before = 0, df_after = 0;
  /// Largest relative change of a term's idf, and its term.
  double idf_change = 0.0;
  std::string idf_change_term;

  /// Share of the added documents' term occurrences that the model ignored.
  double out_of_vocabulary_share() const {
    const std::int64_t all = terms_in_vocabulary + terms_out_of_vocabulary;
    return all > 0 ? static_cast<double>(terms_out_of_vocabulary) / static_cast<double>(all) : 0.0;
  }
};

/// Everything `write_index` stores for a newly built index.
struct IndexContents {
  TfidfOptions options;
  TfidfModel model;
  CsrMatrix x;  ///< Rows = documents, cols = model.vocabulary.size().
  std::vector<IndexedDocument> docs;
  std::int64_t k = 0;  ///< Top-k lists stored per row (0 = none).
  /// One list per row (empty when k = 0), by descending score then lower doc.
  std::vector<std::vector<Neighbor>> topk;
  /// Rows per saved column block (0: none; at most kMaxColumnBlockRows).
  std::int64_t block_rows = kIndexBlockRows;
};

/// Write a new index file atomically: to a temporary file in the destination's
/// directory, flushed to disk (fsync), then renamed over `path`; on any failure
/// the temporary file is removed and an existing `path` is left untouched.
/// `temps` (may be null) is the registry through which the CLI's signal
/// handlers remove the temporary file on Ctrl-C or kill.
/// @throws UsageError for inconsistent contents; Error for write failures.
void write_index(const std::string& path, const IndexContents& contents,
                 TempFileRegistry* temps = nullptr);

/// A loaded (memory-mapped) index. Every accessor reads the mapping; the
/// views it returns are valid while the Index is alive.
class Index {
 public:
  /// Map and verify `path`: magic, version, sizes, every section's checksum and
  /// the consistency of every array (offsets ascending and in bounds, column ids
  /// in range and increasing, stored neighbours in range). The column blocks'
  /// checks (their sections' checksums; within their bounds, in order, and
  /// holding exactly the rows' entries, by a fingerprint) are deferred until the
  /// blocks are first read: column_blocks() runs them, and the view of
  /// deferred_column_blocks() runs them when its reader asks (the engine, when
  /// its pass reads blocks). When the blocks are verified, the pages of the
  /// rows' columns and values go back to the page cache (a run reading the
  /// blocks reads the rows only for candidates), and so do the blocks' own once
  /// verified (they fault back in on use).
  /// @throws InputError (file, 0, reason) for a missing, truncated, corrupt or
  ///   other-version file.
  static Index open(const std::string& path);

  Index(Index&& other) noexcept;
  Index& operator=(Index&& other) noexcept;
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;
  ~Index();

  const std::string& path() const { return path_; }
  std::uint32_t version() const { return version_; }
  std::uint64_t file_bytes() const { return size_; }
  /// Seconds spent verifying checksums and arrays: in `open`, and the column
  /// blocks' checks once they ran.
  double verify_seconds() const;
  /// Whether every check ran: those of `open`, and the blocks' (if any).
  bool fully_verified() const;

  std::int64_t documents() const { return n_; }
  std::int64_t vocabulary_size() const { return v_; }
  std::int64_t nnz() const { return z_; }
  /// Documents the model was fitted on (the N of its idf).
  std::int64_t model_documents() const { return model_docs_; }
  const TfidfOptions& options() const { return options_; }
  /// The options section as stored (one `key=value` per line).
  const std::string& options_text() const { return options_text_; }

  std::string_view term(std::int64_t column) const;
  const std::int64_t* df() const { return df_; }
  /// The model as a TfidfModel (copies the vocabulary).
  TfidfModel model() const;
  /// The model read in place, for `transform`: terms are found by binary search
  /// of the vocabulary (verified strictly sorted when the index was opened).
  TfidfModelView model_view() const;
  /// The column of `term`, or -1 when it is not in the vocabulary.
  std::int32_t find_term(std::string_view term) const;

  /// All rows, columns = vocabulary.
  CsrView matrix() const;
  /// The rows' column blocks (empty for an index without them: version 1 or 2,
  /// or built with block_rows 0); `covers(documents())` when present. Verified
  /// on the first call (thread-safe).
  /// @throws InputError (file, 0, reason) when they are corrupt.
  ColumnBlocksView column_blocks() const;
  /// The same blocks, verified when the reader calls ensure_verified() on the
  /// view (before reading them): for a run that may not read them at all.
  ColumnBlocksView deferred_column_blocks() const { return blocks_; }

  std::string_view id(std::int64_t doc) const { return doc_string(3 * doc); }
  std::string_view title(std::int64_t doc) const { return doc_string(3 * doc + 1); }
  std::string_view source(std::int64_t doc) const { return doc_string(3 * doc + 2); }

  /// Stored k (0 = the index holds no top-k lists).
  std::int64_t k() const { return k_; }
  /// Row `doc`'s stored list, by descending score, ties by lower doc.
  std::vector<Neighbor> neighbors(std::int64_t doc) const;
  /// Raw slots of row `doc` (k() entries each; unused: doc -1).
  const std::int64_t* topk_docs(std::int64_t doc) const { return topk_docs_ + doc * k_; }
  const float* topk_scores(std::int64_t doc) const { return topk_scores_ + doc * k_; }

  /// Drift of the documents added since the build.
  IndexDrift drift() const;

  /// One entry of the section table, for `index info`.
  struct SectionEntry {
    IndexSection kind;
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;
    /// Version 1: the CRC-32; later versions: the XXH3-64 block checksum.
    std::uint64_t checksum = 0;
  };
  const std::vector<SectionEntry>& sections() const { return sections_; }
  /// Bytes of section `kind` (null, 0 when absent).
  std::pair<const unsigned char*, std::uint64_t> section(IndexSection kind) const;

 private:
  Index() = default;
  std::string_view doc_string(std::int64_t i) const;
  void release();
  struct BlockCheck;  // the column blocks' deferred checks (reader.cpp)
  static void verify_blocks(const ColumnBlocksView& blocks);
  std::unique_ptr<BlockCheck> block_check_;

  std::string path_;
  const unsigned char* base_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint32_t version_ = 0;
  double verify_seconds_ = 0;
  std::vector<SectionEntry> sections_;
  std::int64_t n_ = 0, v_ = 0, z_ = 0, k_ = 0, model_docs_ = 0;
  std::int64_t added_docs_ = 0, added_in_ = 0, added_out_ = 0, new_terms_ = 0;
  TfidfOptions options_;
  std::string options_text_;
  const std::uint64_t* vocab_off_ = nullptr;
  const char* vocab_bytes_ = nullptr;
  const std::int64_t* df_ = nullptr;
  const double* idf_ = nullptr;
  const std::int64_t* indptr_ = nullptr;
  const std::int32_t* indices_ = nullptr;
  const float* data_ = nullptr;
  const std::uint64_t* doc_off_ = nullptr;
  const char* doc_bytes_ = nullptr;
  const std::int64_t* topk_docs_ = nullptr;
  const float* topk_scores_ = nullptr;
  const std::int64_t* added_df_ = nullptr;
  const std::uint64_t* new_term_off_ = nullptr;
  const char* new_term_bytes_ = nullptr;
  const std::int64_t* new_term_df_ = nullptr;
  ColumnBlocksView blocks_;
};

/// Vectorize `texts` with the index's frozen model (`transform` semantics).
CsrMatrix vectorize_with_index(const Index& index, const std::vector<std::string_view>& texts,
                               int threads, TransformStats* stats);

/// Top-k lists of every row of `x` (a self join), with `params.k` neighbours, on `backend`.
/// Used by `index build`; exposed so tools and tests share one definition.
std::vector<std::vector<Neighbor>> topk_lists(SimilarityBackend& backend, const CsrMatrix& x,
                                              const SimilarityParams& params,
                                              SimilarityStats* stats);

/// What `add_to_index` did.
struct IndexAddResult {
  std::int64_t added = 0;      ///< Documents appended.
  std::int64_t documents = 0;  ///< Documents in the index afterwards.
  TransformStats transform;    ///< Of the added documents alone.
  IndexDrift drift;            ///< Cumulative since the build, after this add.
  std::int64_t pairs_evaluated = 0;
  std::int64_t lists_changed = 0;  ///< Stored lists of existing documents that changed.
  double vectorize_seconds = 0, similarity_seconds = 0, write_seconds = 0;
};

/// Append documents to the index at `path`, vectorized with its frozen model,
/// and update every stored top-k list exactly: each new row gets its top-k over
/// all documents (new × new and new × old), each old row's list is merged with
/// its best new neighbours (old × new), under the order (score desc, doc asc).
/// The lists equal those of a full recompute over the frozen-model vectors.
/// The new index is written to a temporary file and renamed over `path`, so a
/// failure or kill at any point leaves the previous index intact.
/// `params` supplies the engine settings (k is the index's own).
/// @throws InputError for an unreadable or invalid index; Error on write failure.
IndexAddResult add_to_index(const std::string& path, const std::vector<IndexedDocument>& docs,
                            const std::vector<std::string_view>& texts, SimilarityBackend& backend,
                            const SimilarityParams& params, TempFileRegistry* temps = nullptr);

/// Serialize options as the kOptions section holds them, and parse them back.
/// @throws InputError (named `source`) for an unknown key or a bad value.
std::string serialize_tfidf_options(const TfidfOptions& options);
TfidfOptions parse_tfidf_options(const std::string& text, const std::string& source);

}  // namespace papersim
