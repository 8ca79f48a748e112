#pragma once
/// @file report.hpp
/// @brief The self-contained HTML report: summary, best-neighbour score histogram,
/// duplicate clusters with word-level diffs, and a searchable per-paper list of
/// related papers. One file, no network access, readable offline.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "papersim/clusters.hpp"
#include "papersim/csr.hpp"
#include "papersim/document.hpp"
#include "papersim/similarity.hpp"

namespace papersim {

/// What the summary section shows. Every field is optional (empty / zero is omitted).
struct ReportSummary {
  std::string title = "papersim report";  ///< Page title and heading.
  std::string command;                    ///< The command line that produced the report.
  std::vector<std::string> inputs;        ///< Input paths, as given.
  ReadStats read_stats;                   ///< Files, records, skipped counts by reason.
  /// Options as (name, value text) pairs, shown in order ("k" -> "10", "preset" -> "abstracts").
  std::vector<std::pair<std::string, std::string>> options;
  std::string backend;  ///< "cpu", "cuda: NVIDIA H100 ...".
  /// Phases and their wall-clock seconds, shown in order ("read", "tf-idf", "similarity").
  std::vector<std::pair<std::string, double>> timings;
  std::int64_t pairs_evaluated = 0;  ///< From SimilarityStats.
  std::int64_t zero_rows = 0;        ///< Documents without terms (no neighbours).
  std::string generated_at;          ///< Free text, e.g. an ISO 8601 time stamp.
};

/// One row of the triage view (`papersim check`): a document to look at and its best match.
struct TriageItem {
  std::int64_t doc = 0;      ///< Position in `ReportData::docs`.
  std::int64_t match = 0;    ///< Its best match (position in `docs`).
  float score = 0.0f;        ///< Their score.
  std::int64_t matches = 0;  ///< Documents it matches at or above the threshold.
  bool published = false;    ///< The match is a published paper (else another submission).
};

/// Everything the report shows. Document indices everywhere (pairs, clusters,
/// top-k lists, `best_scores`) are positions in `docs`.
struct ReportData {
  ReportSummary summary;
  /// The documents, `docs.size()` = N. `text` is what the diffs compare; an empty
  /// `text` means the text is not at hand (a saved index stores id, title and source
  /// only), and its pairs are shown without a diff.
  std::vector<Document> docs;
  /// Duplicate threshold; negative when no threshold pass was run (no line is drawn).
  float threshold = -1.0f;
  /// Threshold pairs, `a < b`, each < N.
  std::vector<ScoredPair> pairs;
  /// Connected components of `pairs`, largest first (as `connected_components` returns them).
  /// A negative `score_to_representative` means "unknown" and is shown as a dash.
  std::vector<Cluster> clusters;
  /// Per-document top-k lists: empty (no related section) or N lists by descending score.
  std::vector<std::vector<Neighbor>> topk;
  /// Best-neighbour score of every document: empty or N values; negative = no neighbour.
  /// When empty it is derived from `topk` (top-1), else from `pairs`.
  std::vector<float> best_scores;
  /// Cross-corpus runs: documents [0, queries) are the inputs (submissions), the rest
  /// the references (published papers); 0 = one corpus. The summary then counts the
  /// submissions and the histogram shows their best scores only.
  std::int64_t queries = 0;
  /// The triage view, shown first when not empty: the documents to look at, in the
  /// order given (the most suspicious first), each beside its best match with the
  /// word-level diff (the first `ReportOptions::max_diff_clusters`; the rest listed).
  std::vector<TriageItem> triage;
};

/// Size and cost bounds of the report. Defaults keep a 100k-document report
/// small enough to open quickly; raise them for a deeper look at fewer documents.
struct ReportOptions {
  int histogram_bins = 50;  ///< Bins over [0, 1].
  /// Words of each text compared by the diff; longer texts are cut (and marked so).
  std::size_t max_diff_words = 3000;
  /// Largest edit distance (inserted + deleted words) the diff searches; beyond it the
  /// two texts are shown side by side without highlighting. Bounds the cost per pair
  /// at O((words_a + words_b) * max_diff_edits) time and O(max_diff_edits^2) memory.
  std::size_t max_diff_edits = 600;
  /// Members diffed against the representative per cluster; the rest are listed only.
  std::size_t max_diffs_per_cluster = 20;
  /// Clusters rendered in the page with their text comparisons (the largest first). The
  /// rest are listed, members only, by the inline script from the data blob a page at a
  /// time: cluster markup is what makes a big report slow to open.
  std::size_t max_diff_clusters = 1000;
  /// Clusters whose details start expanded (the largest), and as many more among those whose
  /// texts differ (near-duplicates rather than exact copies).
  std::size_t open_clusters = 10;
  /// Titles longer than this many bytes are cut (at a character boundary) in the related list.
  std::size_t max_title_bytes = 400;
  /// Rows per page of the related-papers list.
  int page_size = 50;
};

/// Write the report as one HTML5 document (UTF-8) to `out`. All input text is
/// escaped; the inline data blob is JSON made safe inside `<script>`.
/// @throws Error when the data is inconsistent (an index out of range, a list of the wrong length).
void write_report(const ReportData& data, std::ostream& out, const ReportOptions& options = {});

/// Fill `data->pairs`, `data->topk`, `data->clusters` and `data->best_scores` from the
/// JSON Lines outputs of `papersim duplicates` (`pairs_jsonl`) and `papersim related`
/// (`related_jsonl`); either path may be empty to skip it. `data->docs` must already hold
/// the documents of the same inputs: every `doc` must be < N and its id must match.
/// Clusters are the connected components of the pairs (representative: largest sum of
/// edge scores, ties by lower doc); `score_to_representative` is `exact_dot` when `x`
/// (the TF-IDF rows of `docs`) is given, else the direct pair score when there is one, else -1.
/// When `data->threshold` is negative it becomes the lowest pair score (a lower bound of the
/// threshold used).
/// @throws InputError naming the file and line of a malformed or inconsistent record.
void load_report_inputs(const std::string& pairs_jsonl, const std::string& related_jsonl,
                        ReportData* data, const CsrMatrix* x = nullptr);

}  // namespace papersim
