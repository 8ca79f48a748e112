#pragma once
// Writers of the CLI's outputs: related lists, pairs, clusters, document table.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "papersim/clusters.hpp"
#include "papersim/document.hpp"
#include "papersim/similarity.hpp"

namespace papersim::cli {

enum class OutFormat { kJsonl, kCsv, kTsv };
OutFormat parse_out_format(const std::string& name);

/// An output file or standard output ("-") as a std::ostream, written safely
/// (common/atomic_file.hpp): a regular file appears, complete, only when
/// close() succeeds; destroyed without close() (an exception, a failed run),
/// it removes its temporary and leaves any earlier file of that name as it
/// was. Create it after the options are validated and the outputs checked
/// against the inputs (check_outputs_not_inputs).
class OutputFile {
 public:
  /// @throws InputError when the output cannot be created (exit 3).
  OutputFile(const std::string& path, TempFileRegistry& temps);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  std::ostream& stream() { return stream_; }
  /// Flush, sync and put the file in place; throws Error naming the file and
  /// the cause (disk full, file too large) when any write failed (exit 1).
  void close();

 private:
  class Buffer;
  AtomicFile file_;
  std::unique_ptr<Buffer> buffer_;
  std::ostream stream_;
};

/// What each neighbour of a related list carries (--neighbor-fields).
struct NeighborFields {
  bool doc = true, id = true, title = true, source = false, score = true;
  /// Parse a comma-separated list of doc, id, title, source, score (e.g. "id,score").
  /// @throws UsageError for an unknown name or a list without doc or id.
  static NeighborFields parse(const std::string& list);
};

/// An OutputFile for `path`, or null when `path` is empty (an output not asked for).
std::unique_ptr<OutputFile> open_optional_output(const std::string& path, TempFileRegistry& temps);

/// Refuse outputs that would overwrite an input, before anything is read or
/// written: an output naming the same file as an input (by device and inode,
/// so "./x", "/abs/x" and hard links match) or as another output (the same
/// path once resolved) is a UsageError (exit 2). An input "-" is compared as
/// the file standard input is (`< x`). Empty names, an output "-", inputs
/// that do not exist and special files (/dev/null) are not compared.
void check_outputs_not_inputs(const std::vector<std::string>& outputs,
                              const std::vector<std::string>& inputs);

/// Related lists: one record per query document. `query_offset` maps query row
/// r to doc r + query_offset; `ref_offset` maps neighbour rows likewise.
void write_related(std::ostream& out, OutFormat format, const std::vector<Document>& docs,
                   const std::vector<std::vector<Neighbor>>& topk, std::int64_t query_offset,
                   std::int64_t ref_offset, int threads, const NeighborFields& fields = {});

/// The CSV/TSV header of write_related ("" for JSON Lines).
std::string related_header(OutFormat format, const NeighborFields& fields);

/// write_related's rows without the header, as bytes (a rank's share of the output).
std::string format_related(OutFormat format, const std::vector<Document>& docs,
                           const std::vector<std::vector<Neighbor>>& topk,
                           std::int64_t query_offset, std::int64_t ref_offset, int threads,
                           const NeighborFields& fields = {});

/// Threshold pairs, one per unordered pair, sorted by (doc_a, doc_b).
void write_pairs(std::ostream& out, OutFormat format, const std::vector<Document>& docs,
                 const std::vector<ScoredPair>& pairs, std::int64_t a_offset,
                 std::int64_t b_offset);

/// Clusters as JSON Lines.
void write_clusters(std::ostream& out, const std::vector<Document>& docs,
                    const std::vector<Cluster>& clusters);

/// `"doc":N,"id":"...","source":"file:line","title":"..."` (no braces) appended to `out`.
void append_doc_fields(std::string& out, const Document& d);

/// docs.jsonl of `vectorize`: doc, id, source, title.
void write_docs(std::ostream& out, const std::vector<Document>& docs);

}  // namespace papersim::cli
