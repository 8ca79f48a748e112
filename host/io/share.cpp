// The cut of a distributed read (io/share.hpp).
#include "io/share.hpp"

#include <algorithm>
#include <cstring>

#include "common/byte_message.hpp"
#include "papersim/error.hpp"

namespace papersim::io {

namespace {

bool delimited(InputFormat f) { return f == InputFormat::kCsv || f == InputFormat::kTsv; }

char delimiter_of(InputFormat f, const ReaderOptions& options) {
  if (options.delimiter) return options.delimiter;
  return f == InputFormat::kTsv ? '\t' : ',';
}

std::int64_t count_char(std::string_view s, char c) {
  return static_cast<std::int64_t>(std::count(s.begin(), s.end(), c));
}

}  // namespace

std::uint64_t SharePlan::range_begin(int r) const {
  // 128 bits: total · r overflows 64 bits for many-terabyte inputs on many ranks.
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(total) *
                                    static_cast<unsigned>(r) / static_cast<unsigned>(ranks));
}

std::uint64_t SharePlan::part_begin(std::size_t f, int r) const {
  const ShareFile& file = files[f];
  const std::uint64_t b = range_begin(r);
  if (b <= file.offset) return 0;
  return std::min(b - file.offset, file.size);
}

int SharePlan::owner(std::size_t f) const {
  const std::uint64_t at = files[f].offset;
  for (int r = 0; r < ranks; ++r) {
    if (range_begin(r) <= at && at < range_begin(r + 1)) return r;
  }
  return ranks - 1;  // an empty file at the very end
}

SharePlan plan_shares(const std::vector<std::string>& paths, const ReaderOptions& options,
                      int ranks) {
  if (options.fields.empty()) throw UsageError("--fields needs at least one field");
  SharePlan plan;
  plan.ranks = ranks;
  plan.files.resize(paths.size());
  for (std::size_t f = 0; f < paths.size(); ++f) {
    ShareFile& file = plan.files[f];
    file.path = paths[f];
    file.offset = plan.total;
    try {
      file.map = map_input(file.path);
    } catch (const InputError&) {
      continue;  // read whole: its owner reports the error in input order
    }
    file.size = file.map.view().size();
    plan.total += file.size;
    std::string_view text = file.map.view();
    if (text.empty() || is_compressed(text)) {
      file.map.release();
      continue;
    }
    try {
      check_binary(file.path, text);
    } catch (const InputError&) {
      file.map.release();
      continue;
    }
    if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) file.bom = 3;
    text.remove_prefix(file.bom);
    file.format = options.format == InputFormat::kAuto ? detect_format(file.path, text, options)
                                                       : options.format;
    file.split = file.format == InputFormat::kJsonl || delimited(file.format);
    if (!file.split) {
      file.map.release();
      continue;
    }
    if (delimited(file.format)) {
      file.delimiter = delimiter_of(file.format, options);
      file.header_end = file.bom + delimited_header_end(text, file.delimiter);
      file.header_lines =
          count_char(file.map.view().substr(file.bom, file.header_end - file.bom), '\n');
    }
  }
  return plan;
}

std::vector<std::int64_t> count_parts(const SharePlan& plan, int rank) {
  std::vector<std::int64_t> out(plan.files.size() * 3, 0);
  for (std::size_t f = 0; f < plan.files.size(); ++f) {
    const ShareFile& file = plan.files[f];
    if (!file.split) continue;
    const std::uint64_t lo = plan.part_begin(f, rank), hi = plan.part_begin(f, rank + 1);
    const std::string_view part = file.map.view().substr(lo, hi - lo);
    out[3 * f] = count_char(part, '\n');
    if (!delimited(file.format)) continue;
    out[3 * f + 1] = count_char(part, '"');
    const std::string_view all = file.map.view();
    for (std::size_t i = 0; i < part.size(); ++i) {
      // The next byte may lie in the next rank's part: read it there.
      if (part[i] == '\r' && (lo + i + 1 >= all.size() || all[lo + i + 1] != '\n')) {
        out[3 * f + 2] = 1;
        break;
      }
    }
  }
  return out;
}

void apply_counts(SharePlan& plan, const std::vector<std::vector<std::int64_t>>& counts) {
  for (std::size_t f = 0; f < plan.files.size(); ++f) {
    ShareFile& file = plan.files[f];
    if (!file.split) continue;
    file.lines_before.assign(static_cast<std::size_t>(plan.ranks) + 1, 0);
    file.quotes_before.assign(file.lines_before.size(), 0);
    bool bare_cr = false;
    for (int r = 0; r < plan.ranks; ++r) {
      const std::vector<std::int64_t>& c = counts[static_cast<std::size_t>(r)];
      if (c.size() != plan.files.size() * 3) throw Error("internal: ranks disagree on the inputs");
      file.lines_before[r + 1] = file.lines_before[r] + c[3 * f];
      file.quotes_before[r + 1] = file.quotes_before[r] + c[3 * f + 1];
      bare_cr = bare_cr || c[3 * f + 2] != 0;
    }
    // The CSV parser ends a row at a lone CR, and its line numbers count it.
    if (bare_cr) file.split = false;
  }
}

bool needs_quote_check(const SharePlan& plan) {
  return std::any_of(plan.files.begin(), plan.files.end(),
                     [](const ShareFile& f) { return f.split && delimited(f.format); });
}

std::vector<std::int64_t> quote_anomalies(const SharePlan& plan, int rank) {
  std::vector<std::int64_t> out(plan.files.size(), 0);
  for (std::size_t f = 0; f < plan.files.size(); ++f) {
    const ShareFile& file = plan.files[f];
    if (!file.split || !delimited(file.format)) continue;
    const std::string_view all = file.map.view();
    const std::uint64_t lo = plan.part_begin(f, rank), hi = plan.part_begin(f, rank + 1);
    std::int64_t quotes = file.quotes_before[static_cast<std::size_t>(rank)];
    // With the quote count even, a quote opens a quoted field only at a field's
    // start; after a quote it is the second of an escaped pair (the one before
    // it was inside quotes). Anywhere else the parser keeps it as a letter.
    for (std::uint64_t i = lo; i < hi; ++i) {
      if (all[i] != '"') continue;
      if (quotes % 2 == 0 && i > file.bom) {
        const char before = all[i - 1];
        if (before != file.delimiter && before != '\n' && before != '\r' && before != '"') {
          out[f] = 1;
          break;
        }
      }
      ++quotes;
    }
  }
  return out;
}

void apply_anomalies(SharePlan& plan, const std::vector<std::int64_t>& any) {
  for (std::size_t f = 0; f < plan.files.size(); ++f) {
    if (f < any.size() && any[f] != 0) plan.files[f].split = false;
  }
}

namespace {

// The first record start at or after byte x of a cut file: x = 0, the end, or
// the byte after a line end (outside quotes, and after the header, in a
// delimited file). `quotes` counts the quotes before x.
std::uint64_t boundary(const ShareFile& file, std::uint64_t x, std::int64_t quotes) {
  const std::string_view all = file.map.view();
  if (x == 0) return 0;
  if (x >= all.size()) return all.size();
  std::uint64_t b = all.size();
  if (!delimited(file.format)) {
    const void* hit = std::memchr(all.data() + x - 1, '\n', all.size() - (x - 1));
    if (hit) b = static_cast<std::uint64_t>(static_cast<const char*>(hit) - all.data()) + 1;
    return b;
  }
  if (all[x - 1] == '"') --quotes;  // the count before byte x - 1
  for (std::uint64_t i = x - 1; i < all.size(); ++i) {
    if (all[i] == '"') {
      ++quotes;
    } else if (all[i] == '\n' && quotes % 2 == 0) {
      b = i + 1;
      break;
    }
  }
  return std::max<std::uint64_t>(b, std::min<std::uint64_t>(file.header_end, all.size()));
}

void shift_lines(FileResult& r, std::int64_t from, std::int64_t by) {
  for (auto& d : r.docs)
    if (d.line > from) d.line += by;
  for (auto& s : r.skips)
    if (s.line > from) s.line += by;
  if (r.fatal_line > from) r.fatal_line += by;
}

}  // namespace

std::vector<FilePiece> read_share(SharePlan& plan, int rank, const ReaderOptions& options,
                                  const FieldPlan& fields, int threads) {
  std::vector<FilePiece> pieces;
  for (std::size_t f = 0; f < plan.files.size(); ++f) {
    ShareFile& file = plan.files[f];
    const auto index = static_cast<std::int32_t>(f);
    if (!file.split) {
      if (plan.owner(f) == rank)
        pieces.push_back(read_file_piece(file.path, index, options, fields, threads));
      continue;
    }
    const std::uint64_t x0 = plan.part_begin(f, rank), x1 = plan.part_begin(f, rank + 1);
    const std::uint64_t lo = boundary(file, x0, file.quotes_before[rank]);
    const std::uint64_t hi = boundary(file, x1, file.quotes_before[rank + 1]);
    if (lo >= hi) continue;
    const std::string_view all = file.map.view();
    // Line ends before the share: those before the part, counted by the ranks
    // before, and those between the part's start and the share's.
    const std::int64_t lines =
        file.lines_before[rank] + (lo > x0 ? count_char(all.substr(x0, lo - x0), '\n') : 0);
    FilePiece piece;
    piece.file = index;
    piece.format = file.format;
    piece.first = lo == 0;
    const std::uint64_t begin = lo == 0 ? file.bom : lo;
    const std::string_view text = all.substr(begin, hi - begin);
    InputBuffer& map = file.map;
    const ReleaseFn release = [&map](const char* end) { map.release_before(end); };
    if (!delimited(file.format)) {
      piece.result = parse_jsonl(text, map.readable() - begin, fields, threads, release);
      shift_lines(piece.result, 0, lines);
    } else if (lo == 0) {
      piece.result = parse_delimited(text, file.delimiter, fields);
    } else {
      // The parser needs the header to map columns: the header row, then the share.
      std::string joined(all.substr(file.bom, file.header_end - file.bom));
      joined.append(text);
      piece.result = parse_delimited(joined, file.delimiter, fields);
      const std::int64_t h = file.header_lines;
      const bool header_failed = !piece.result.fatal.empty() ||
                                 std::any_of(piece.result.skips.begin(), piece.result.skips.end(),
                                             [h](const Skip& s) { return s.line <= h; });
      // A header that fails fails the file once, at the piece that starts it.
      if (header_failed) piece.result = FileResult();
      shift_lines(piece.result, h, lines - h);
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

std::string pack_pieces(const std::vector<FilePiece>& pieces) {
  detail::ByteWriter w;
  w.put(static_cast<std::int64_t>(pieces.size()));
  for (const FilePiece& p : pieces) {
    const FileResult& r = p.result;
    w.put(static_cast<std::int64_t>(p.file));
    w.put(static_cast<std::int64_t>(p.format));
    w.put(static_cast<std::int64_t>(p.first));
    w.put_string(p.error);
    w.put(p.error_line);
    w.put(r.records);
    w.put_string(r.fatal);
    w.put(r.fatal_line);
    w.put(static_cast<std::int64_t>(r.warnings.size()));
    for (const auto& s : r.warnings) w.put_string(s);
    w.put(static_cast<std::int64_t>(r.skips.size()));
    for (const Skip& s : r.skips) {
      w.put(s.line);
      w.put_string(s.reason);
      w.put_string(s.detail);
    }
    w.put(static_cast<std::int64_t>(r.docs.size()));
    for (const PendingDoc& d : r.docs) {
      w.put(d.line);
      w.put(d.record);
      w.put(static_cast<std::int64_t>(d.title_only));
      w.put_string(d.id);
      w.put_string(d.title);
    }
  }
  return std::move(w.bytes());
}

std::vector<FilePiece> unpack_pieces(std::string_view bytes) {
  detail::ByteReader r(bytes);
  const std::int64_t n = r.get<std::int64_t>();
  if (n < 0 || static_cast<std::size_t>(n) > r.left())
    throw Error("internal: malformed documents between ranks");
  std::vector<FilePiece> pieces(static_cast<std::size_t>(n));
  // A count never exceeds the bytes left (each item takes at least one value).
  const auto count = [&r] {
    const auto c = r.get<std::int64_t>();
    if (c < 0 || static_cast<std::size_t>(c) > r.left())
      throw Error("internal: malformed documents between ranks");
    return static_cast<std::size_t>(c);
  };
  for (FilePiece& p : pieces) {
    FileResult& res = p.result;
    p.local = false;
    p.file = static_cast<std::int32_t>(r.get<std::int64_t>());
    p.format = static_cast<InputFormat>(r.get<std::int64_t>());
    p.first = r.get<std::int64_t>() != 0;
    p.error = r.get_string();
    p.error_line = r.get<std::int64_t>();
    res.records = r.get<std::int64_t>();
    res.fatal = r.get_string();
    res.fatal_line = r.get<std::int64_t>();
    res.warnings.resize(count());
    for (auto& s : res.warnings) s = r.get_string();
    res.skips.resize(count());
    for (Skip& s : res.skips) {
      s.line = r.get<std::int64_t>();
      s.reason = r.get_string();
      s.detail = r.get_string();
    }
    res.docs.resize(count());
    for (PendingDoc& d : res.docs) {
      d.line = r.get<std::int64_t>();
      d.record = r.get<std::int64_t>();
      d.title_only = r.get<std::int64_t>() != 0;
      d.id = r.get_string();
      d.title = r.get_string();
    }
  }
  if (!r.done()) throw Error("internal: malformed documents between ranks");
  return pieces;
}

}  // namespace papersim::io
