#pragma once
/// @file synth.hpp
/// @brief Synthetic abstract corpora with planted near-duplicates.
///
/// Documents are JSON Lines records `{"id": "synth-0000000", "title": "...",
/// "abstract": "..."}` of pseudo-words (syllable strings derived from a word's
/// rank, so the vocabulary is the same for every seed). Lengths, vocabulary
/// growth and term frequencies are fitted to the distinct arXiv-daily abstracts
/// (bench/synth_stats.py measures them; bench/results/synth-stats.md compares
/// the two corpora). A fraction of documents are edited copies of an earlier
/// document; every such pair is reported, so duplicate detection can be scored.
///
/// Every document is a pure function of (seed, doc index): the output bytes do
/// not depend on the thread count, and any document can be regenerated alone.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace papersim {

class TempFileRegistry;  // host/common/atomic_file.hpp

/// Parameters of a synthetic corpus. Defaults give the corpus of the quick start.
struct SynthOptions {
  /// Number of documents (records) to generate.
  std::int64_t docs = 10000;
  /// Seed; the same seed gives the same bytes.
  std::uint64_t seed = 1;
  /// Expected fraction of documents that are edited copies of an earlier one, in [0, 1).
  double dup_fraction = 0.02;
  /// Each copy's word edit rate is drawn uniformly from [edit_rate_min, edit_rate_max];
  /// every abstract word is then substituted, deleted or followed by an inserted
  /// word with that probability (a third each).
  double edit_rate_min = 0.05;
  double edit_rate_max = 0.15;
  /// Probability that a copy's title is edited (words changed at 3x the edit rate).
  double title_edit_prob = 0.2;
  /// Probability that a copy gets an entirely new title.
  double title_new_prob = 0.05;
  /// Prefix of the ids; the id is the prefix and the 0-based doc index padded to 7 digits.
  std::string id_prefix = "synth-";
  /// Worker threads; 0 = all cores. Does not change the output.
  int threads = 0;
  /// zlib level for `.gz` outputs (1 = fastest).
  int gzip_level = 1;
};

/// One generated record.
struct SynthDocument {
  std::int64_t doc = 0;  ///< 0-based record index.
  std::string id;
  std::string title;
  std::string abstract;
};

/// A planted near-duplicate pair (ground truth), `doc_a < doc_b`.
/// Either doc_b is an edited copy of the original doc_a (`siblings` false), or
/// both are copies of the same original `source` (`siblings` true).
struct PlantedPair {
  std::int64_t doc_a = 0;
  std::int64_t doc_b = 0;
  std::int64_t source = 0;     ///< The original both texts derive from.
  double edit_rate = 0.0;      ///< Copy's edit rate; the sum of both rates for siblings.
  std::int64_t edits = 0;      ///< Abstract word edits applied (summed for siblings).
  bool title_changed = false;  ///< Either title differs from the original's.
  bool siblings = false;
};

/// Counters of one run.
struct SynthStats {
  std::int64_t docs = 0;
  std::int64_t copies = 0;       ///< Documents that are edited copies.
  std::int64_t pairs = 0;        ///< Ground-truth pairs (copies plus sibling pairs).
  std::int64_t words = 0;        ///< Pseudo-words written (titles and abstracts).
  std::uint64_t json_bytes = 0;  ///< Uncompressed JSON Lines bytes.
  std::uint64_t out_bytes = 0;   ///< Bytes written to the output (compressed when `.gz`).
  double seconds = 0.0;
};

/// Progress callback: documents done and the total.
using SynthProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

/// Record `doc` exactly as `synthesize` writes it (0 <= doc < options.docs).
SynthDocument synth_document(const SynthOptions& options, std::int64_t doc);

/// The ground truth of a corpus: every planted pair, sorted by (doc_a, doc_b).
/// Generates the copies' texts (to count their edits) but not the other documents.
std::vector<PlantedPair> synth_planted_pairs(const SynthOptions& options);

/// `{"id": ..., "title": ..., "abstract": ...}` followed by a newline.
std::string synth_json_line(const SynthDocument& doc);

/// `{"doc_a": i, "doc_b": j, "id_a": ..., "id_b": ..., "edit_rate": r, ...}` plus newline.
std::string planted_pair_json(const PlantedPair& pair, const SynthOptions& options);

/// The id of document `doc` ("synth-0000042").
std::string synth_id(const SynthOptions& options, std::int64_t doc);

/// Generate the corpus in order, in parallel chunks, handing the JSON Lines
/// text to `write` chunk by chunk (memory stays bounded by a few chunks per
/// thread) and each ground-truth pair, sorted, to `on_pair` at the end (may be empty).
/// @throws UsageError for invalid options.
SynthStats synthesize(const SynthOptions& options,
                      const std::function<void(std::string_view)>& write,
                      const std::function<void(const PlantedPair&)>& on_pair = {},
                      const SynthProgressFn& progress = {});

/// Write the corpus to `out_path` ("-" = standard output; gzip when the name
/// ends in ".gz", compressed in parallel as one gzip member) and, unless
/// `truth_path` is empty, the ground truth as JSON Lines (gzip when ".gz").
/// Both files are written safely: each appears, complete, when the run
/// succeeds; a failed run leaves earlier files of those names as they were.
/// `temps`, when given, tracks the temporaries for signal cleanup (the CLI's).
/// @throws UsageError for invalid options, Error when a file cannot be written.
SynthStats synthesize_to_file(const SynthOptions& options, const std::string& out_path,
                              const std::string& truth_path = "",
                              const SynthProgressFn& progress = {},
                              TempFileRegistry* temps = nullptr);

}  // namespace papersim
