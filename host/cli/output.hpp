#pragma once
// Writers of the CLI's outputs: related lists, pairs, clusters, document table.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "papersim/clusters.hpp"
#include "papersim/document.hpp"
#include "papersim/similarity.hpp"

namespace papersim::cli {

enum class OutFormat { kJsonl, kCsv, kTsv };
OutFormat parse_out_format(const std::string& name);

/// An output file or standard output ("-"); throws InputError if it cannot be created.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  std::ostream& stream() { return *out_; }
  /// Flush and check for write errors (disk full); throws Error.
  void close();

 private:
  std::string path_;
  std::unique_ptr<std::ostream> owned_;
  std::ostream* out_;
};

/// What each neighbour of a related list carries (--neighbor-fields).
struct NeighborFields {
  bool doc = true, id = true, title = true, source = false, score = true;
  /// Parse a comma-separated list of doc, id, title, source, score (e.g. "id,score").
  /// @throws UsageError for an unknown name or a list without doc or id.
  static NeighborFields parse(const std::string& list);
};

/// Related lists: one record per query document. `query_offset` maps query row
/// r to doc r + query_offset; `ref_offset` maps neighbour rows likewise.
void write_related(std::ostream& out, OutFormat format, const std::vector<Document>& docs,
                   const std::vector<std::vector<Neighbor>>& topk, std::int64_t query_offset,
                   std::int64_t ref_offset, int threads, const NeighborFields& fields = {});

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
