#pragma once
// Which bytes of a set of inputs each rank of a distributed run parses. The
// inputs are laid end to end and cut into one byte range per rank, in rank
// order; a JSON Lines, CSV or TSV file is cut inside at record boundaries, any
// other file (compressed, a JSON array, the text layouts, a pipe) goes whole to
// the rank whose range holds its first byte. So the ranks' records are
// contiguous in input order, and numbering them by an exclusive scan gives one
// process's numbering. The steps below do not communicate: the caller
// exchanges what each returns (every rank's, in rank order) between them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/reader_internal.hpp"

namespace papersim::io {

/// One input as the ranks see it.
struct ShareFile {
  std::string path;
  InputBuffer map;           ///< A file cut by bytes: mapped, read only where touched.
  std::uint64_t size = 0;    ///< Bytes on disk: the file's weight in the cut.
  std::uint64_t offset = 0;  ///< Where it starts among the inputs laid end to end.
  bool split = false;        ///< Cut by bytes (else read whole by one rank).
  InputFormat format = InputFormat::kAuto;
  char delimiter = 0;             ///< kCsv / kTsv.
  std::size_t bom = 0;            ///< Bytes of a UTF-8 byte order mark at the start.
  std::size_t header_end = 0;     ///< kCsv / kTsv: first byte after the header row.
  std::int64_t header_lines = 0;  ///< Line ends in [bom, header_end).
  /// Per rank r (and r = ranks, the end): line ends and quotes before the start
  /// of rank r's part of the file (from count_parts).
  std::vector<std::int64_t> lines_before, quotes_before;
};

/// The inputs of one read and their cut over `ranks` ranks.
struct SharePlan {
  std::vector<ShareFile> files;
  std::uint64_t total = 0;
  int ranks = 1;

  /// First byte (among the inputs end to end) of rank r's range; r = ranks is the end.
  std::uint64_t range_begin(int r) const;
  /// Rank r's part [part_begin(f, r), part_begin(f, r + 1)) of file f, in the
  /// file's bytes, before moving to record boundaries.
  std::uint64_t part_begin(std::size_t f, int r) const;
  /// The rank that reads file f when it is not cut: the one whose range holds its first byte.
  int owner(std::size_t f) const;
};

/// Map and probe every input (compression, binary data, format, a delimited
/// file's header). A file that cannot be opened or probed is read whole, so its
/// owner reports the error where one process would.
/// @throws UsageError for field options that name nothing (as read_corpus).
SharePlan plan_shares(const std::vector<std::string>& paths, const ReaderOptions& options,
                      int ranks);

/// Round 1: for each file, this rank's part's line ends, quotes and whether it
/// holds a carriage return without a line feed (3 numbers per file).
std::vector<std::int64_t> count_parts(const SharePlan& plan, int rank);
/// Take every rank's count_parts (indexed by rank). A delimited file with a bare
/// carriage return (a line end the line count would miss) is read whole.
void apply_counts(SharePlan& plan, const std::vector<std::vector<std::int64_t>>& counts);

/// Whether a delimited file is still cut (then round 2 runs).
bool needs_quote_check(const SharePlan& plan);
/// Round 2: for each file, 1 when this rank's part of a cut delimited file has a
/// quote the CSV parser reads as a literal (a quote inside an unquoted field):
/// from there on, the count of quotes no longer tells whether a line end is
/// inside a quoted field, so the file must be read whole.
std::vector<std::int64_t> quote_anomalies(const SharePlan& plan, int rank);
/// Take the element-wise maximum of every rank's quote_anomalies.
void apply_anomalies(SharePlan& plan, const std::vector<std::int64_t>& any);

/// Round 3: this rank's pieces, in input order: its share of every cut file
/// (from the first record boundary at or after its part's start to the one at
/// or after its end; line numbers the file's) and the whole files it owns.
std::vector<FilePiece> read_share(SharePlan& plan, int rank, const ReaderOptions& options,
                                  const FieldPlan& fields, int threads);

/// Pieces as bytes (metadata only, no texts) and back (not local).
std::string pack_pieces(const std::vector<FilePiece>& pieces);
std::vector<FilePiece> unpack_pieces(std::string_view bytes);

}  // namespace papersim::io
