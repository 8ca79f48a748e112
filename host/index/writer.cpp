// Writing .psx files: checksums, the atomic temp-file + rename writer, the
// serialized TF-IDF options, and the sections of a newly built index.

#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>
#if defined(__x86_64__)
#include <xxh_x86dispatch.h>  // XXH3 on the widest vectors the CPU has (AVX2, AVX-512)
#endif
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/util.hpp"
#include "index/format.hpp"
#include "papersim/error.hpp"

namespace papersim::index {

namespace {

std::string parent_dir(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string dir = p.parent_path().string();
  return dir.empty() ? std::string(".") : dir;
}

}  // namespace

std::uint32_t crc32_chunks(const std::vector<Chunk>& chunks, int threads) {
  struct Block {
    const unsigned char* p;
    std::uint64_t n;
    uLong crc;
  };
  std::vector<Block> blocks;
  for (const Chunk& c : chunks) {
    const auto* p = static_cast<const unsigned char*>(c.data);
    for (std::uint64_t off = 0; off < c.bytes; off += kChecksumBlock)
      blocks.push_back({p + off, std::min(kChecksumBlock, c.bytes - off), 0});
  }
  parallel_for(static_cast<std::int64_t>(blocks.size()), resolve_threads(threads),
               [&](std::int64_t b) {
                 Block& blk = blocks[b];
                 blk.crc = crc32_z(crc32(0L, Z_NULL, 0), blk.p, static_cast<z_size_t>(blk.n));
               });
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const Block& b : blocks) crc = crc32_combine(crc, b.crc, static_cast<z_off_t>(b.n));
  return static_cast<std::uint32_t>(crc);
}

std::uint64_t section_checksum(std::uint32_t version, const std::vector<Chunk>& chunks,
                               int threads) {
  if (version == 1) return crc32_chunks(chunks, threads);
  std::uint64_t total = 0;
  for (const Chunk& c : chunks) total += c.bytes;
  const auto n_blocks = static_cast<std::int64_t>((total + kChecksumBlock - 1) / kChecksumBlock);
  // Blocks are positions in the section, not in its chunks: each block is fed
  // the pieces of the chunks it covers (add writes old arrays as chunks).
  std::vector<std::uint64_t> chunk_start(chunks.size() + 1, 0);
  for (std::size_t i = 0; i < chunks.size(); ++i)
    chunk_start[i + 1] = chunk_start[i] + chunks[i].bytes;
  std::vector<std::uint64_t> hashes(static_cast<std::size_t>(n_blocks));
  parallel_for(n_blocks, resolve_threads(threads), [&](std::int64_t b) {
    const std::uint64_t begin = static_cast<std::uint64_t>(b) * kChecksumBlock;
    const std::uint64_t end = std::min(total, begin + kChecksumBlock);
    // The state lives on the stack (XXH_STATIC_LINKING_ONLY): nothing to allocate or fail.
    XXH3_state_t state;
    XXH3_INITSTATE(&state);
    XXH3_64bits_reset(&state);
    std::size_t i = static_cast<std::size_t>(
        std::upper_bound(chunk_start.begin(), chunk_start.end(), begin) - chunk_start.begin() - 1);
    for (std::uint64_t at = begin; at < end; ++i) {
      const std::uint64_t stop = std::min(end, chunk_start[i + 1]);
      if (stop > at)
        XXH3_64bits_update(
            &state, static_cast<const unsigned char*>(chunks[i].data) + (at - chunk_start[i]),
            static_cast<std::size_t>(stop - at));
      at = stop;
    }
    hashes[static_cast<std::size_t>(b)] = XXH3_64bits_digest(&state);
  });
  return checksum_of_block_hashes(hashes);
}

std::uint64_t checksum_of_block_hashes(const std::vector<std::uint64_t>& hashes) {
  std::vector<unsigned char> bytes(hashes.size() * 8);
  for (std::size_t b = 0; b < hashes.size(); ++b)
    store_field<std::uint64_t>(bytes.data() + 8 * b, hashes[b]);
  return XXH3_64bits(bytes.data(), bytes.size());
}

const char* section_name(IndexSection kind) {
  switch (kind) {
    case IndexSection::kMeta:
      return "meta";
    case IndexSection::kOptions:
      return "options";
    case IndexSection::kVocabularyOffsets:
      return "vocabulary offsets";
    case IndexSection::kVocabularyBytes:
      return "vocabulary bytes";
    case IndexSection::kDf:
      return "df";
    case IndexSection::kIdf:
      return "idf";
    case IndexSection::kIndptr:
      return "indptr";
    case IndexSection::kIndices:
      return "indices";
    case IndexSection::kData:
      return "data";
    case IndexSection::kDocOffsets:
      return "document offsets";
    case IndexSection::kDocBytes:
      return "document bytes";
    case IndexSection::kTopkDocs:
      return "top-k docs";
    case IndexSection::kTopkScores:
      return "top-k scores";
    case IndexSection::kAddedDf:
      return "added df";
    case IndexSection::kNewTermOffsets:
      return "new-term offsets";
    case IndexSection::kNewTermBytes:
      return "new-term bytes";
    case IndexSection::kNewTermDf:
      return "new-term df";
    case IndexSection::kBlockTermOffsets:
      return "block term offsets";
    case IndexSection::kBlockTerms:
      return "block terms";
    case IndexSection::kBlockTermStarts:
      return "block term starts";
    case IndexSection::kBlockRows:
      return "block rows";
    case IndexSection::kBlockValues:
      return "block values";
  }
  return "unknown";
}

void check_writable(const std::string& path) {
  const std::string dir = parent_dir(path);
  if (!std::filesystem::is_directory(dir))
    throw InputError(path, 0, "cannot create output file: directory '" + dir + "' does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw InputError(path, 0, "cannot create output file: directory not writable");
  if (std::filesystem::is_directory(path)) throw InputError(path, 0, "is a directory");
}

void push_block_sections(std::vector<SectionData>& sections, const ColumnBlocks& blocks) {
  if (blocks.block_rows == 0) return;
  sections.push_back({IndexSection::kBlockTermOffsets, {chunk_of(blocks.term_offsets)}});
  sections.push_back({IndexSection::kBlockTerms, {chunk_of(blocks.terms)}});
  sections.push_back({IndexSection::kBlockTermStarts, {chunk_of(blocks.starts)}});
  sections.push_back({IndexSection::kBlockRows, {chunk_of(blocks.rows)}});
  sections.push_back({IndexSection::kBlockValues, {chunk_of(blocks.values)}});
}

void write_sections(const std::string& path, const std::vector<SectionData>& sections, int threads,
                    const WriteHook& hook, TempFileRegistry* temps) {
  const auto n = static_cast<std::uint32_t>(sections.size());
  const auto align = [](std::uint64_t x) { return (x + kAlign - 1) / kAlign * kAlign; };
  std::vector<unsigned char> table(n * kTableEntryBytes, 0);
  std::uint64_t offset = align(kHeaderBytes + table.size());
  std::vector<std::uint64_t> offsets(n);
  for (std::uint32_t s = 0; s < n; ++s) {
    const std::uint64_t bytes = sections[s].bytes();
    const std::uint64_t checksum =
        section_checksum(kIndexFormatVersion, sections[s].chunks, threads);
    const auto kind = static_cast<std::uint32_t>(sections[s].kind);
    unsigned char* e = table.data() + s * kTableEntryBytes;
    std::memcpy(e, &kind, 4);
    std::memcpy(e + 8, &offset, 8);
    std::memcpy(e + 16, &bytes, 8);
    std::memcpy(e + 24, &checksum, 8);
    offsets[s] = offset;
    offset = align(offset + bytes);
  }
  const std::uint64_t file_bytes = offset;
  unsigned char header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, 8);
  const std::uint32_t version = kIndexFormatVersion;
  std::memcpy(header + 8, &version, 4);
  std::memcpy(header + 12, &n, 4);
  std::memcpy(header + 16, &file_bytes, 8);
  const auto table_crc = static_cast<std::uint32_t>(crc32(0L, table.data(), table.size()));
  std::memcpy(header + 24, &table_crc, 4);
  const auto header_crc = static_cast<std::uint32_t>(crc32(0L, header, 28));
  std::memcpy(header + 28, &header_crc, 4);

  check_writable(path);
  AtomicFile file(path, temps);
  std::uint64_t written = 0;
  static const unsigned char kZeros[kAlign] = {};
  const auto put = [&](const void* p, std::uint64_t bytes) {
    file.write({static_cast<const char*>(p), static_cast<std::size_t>(bytes)});
    written += bytes;
    if (hook) hook(written);
  };
  put(header, kHeaderBytes);
  put(table.data(), table.size());
  for (std::uint32_t s = 0; s < n; ++s) {
    put(kZeros, offsets[s] - written);
    for (const Chunk& c : sections[s].chunks)
      if (c.bytes > 0) put(c.data, c.bytes);
  }
  put(kZeros, file_bytes - written);
  file.commit();
}

std::vector<Neighbor> merge_lists(const std::vector<Neighbor>& a, const std::vector<Neighbor>& b,
                                  std::int64_t k) {
  std::vector<Neighbor> out;
  out.reserve(static_cast<std::size_t>(std::min<std::int64_t>(k, a.size() + b.size())));
  std::size_t i = 0, j = 0;
  const auto before = [](const Neighbor& x, const Neighbor& y) {
    return x.score != y.score ? x.score > y.score : x.doc < y.doc;
  };
  while (static_cast<std::int64_t>(out.size()) < k && (i < a.size() || j < b.size())) {
    if (j == b.size() || (i < a.size() && before(a[i], b[j]))) {
      out.push_back(a[i++]);
    } else {
      out.push_back(b[j++]);
    }
  }
  return out;
}

}  // namespace papersim::index

namespace papersim {

namespace {

const char* accents_name(StripAccents a) {
  return a == StripAccents::kNone ? "none" : a == StripAccents::kAscii ? "ascii" : "unicode";
}
const char* norm_name(Norm n) { return n == Norm::kL2 ? "l2" : n == Norm::kL1 ? "l1" : "none"; }

std::string df_text(const DfBound& b) {
  char buf[64];
  if (b.is_fraction) {
    std::snprintf(buf, sizeof buf, "fraction:%.17g", b.value);
  } else {
    std::snprintf(buf, sizeof buf, "count:%lld", static_cast<long long>(b.value));
  }
  return buf;
}

void check_line(const std::string& what, const std::string& value) {
  if (value.find_first_of("\r\n") != std::string::npos)
    throw UsageError("cannot store " + what + " containing a line break in an index");
}

}  // namespace

std::string serialize_tfidf_options(const TfidfOptions& o) {
  check_line("token_pattern", o.token_pattern);
  check_line("stemmer", o.stemmer);
  std::ostringstream s;
  s << "lowercase=" << o.lowercase << "\n"
    << "strip_accents=" << accents_name(o.strip_accents) << "\n"
    << "token_pattern=" << o.token_pattern << "\n"
    << "ngram_min=" << o.ngram_min << "\n"
    << "ngram_max=" << o.ngram_max << "\n"
    << "min_df=" << df_text(o.min_df) << "\n"
    << "max_df=" << df_text(o.max_df) << "\n"
    << "max_features=" << (o.max_features ? std::to_string(*o.max_features) : "none") << "\n"
    << "binary=" << o.binary << "\n"
    << "sublinear_tf=" << o.sublinear_tf << "\n"
    << "smooth_idf=" << o.smooth_idf << "\n"
    << "use_idf=" << o.use_idf << "\n"
    << "norm=" << norm_name(o.norm) << "\n"
    << "stemmer=" << o.stemmer << "\n"
    << "strip_latex=" << o.strip_latex << "\n"
    << "stop_words=" << o.stop_words.size() << "\n";
  for (const auto& w : o.stop_words) {
    check_line("a stop word", w);
    s << "stop_word=" << w << "\n";
  }
  return s.str();
}

TfidfOptions parse_tfidf_options(const std::string& text, const std::string& source) {
  TfidfOptions o;
  const auto bad = [&](const std::string& why) {
    return InputError(source, 0, "options section: " + why);
  };
  const auto boolean = [&](const std::string& key, const std::string& v) {
    if (v != "0" && v != "1") throw bad(key + " must be 0 or 1, got '" + v + "'");
    return v == "1";
  };
  const auto integer = [&](const std::string& key, const std::string& v) -> std::int64_t {
    try {
      std::size_t pos = 0;
      const long long x = std::stoll(v, &pos);
      if (pos != v.size()) throw std::invalid_argument(v);
      return x;
    } catch (const std::exception&) {
      throw bad(key + ": not an integer: '" + v + "'");
    }
  };
  const auto df = [&](const std::string& key, const std::string& v) {
    const auto colon = v.find(':');
    if (colon == std::string::npos) throw bad(key + ": expected count:N or fraction:F");
    const std::string kind = v.substr(0, colon), num = v.substr(colon + 1);
    if (kind == "count") return DfBound::count(integer(key, num));
    if (kind != "fraction") throw bad(key + ": expected count:N or fraction:F");
    try {
      return DfBound::fraction(std::stod(num));
    } catch (const std::exception&) {
      throw bad(key + ": not a number: '" + num + "'");
    }
  };
  std::istringstream in(text);
  std::string line;
  std::int64_t stop_words = -1;
  std::vector<std::string> seen;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw bad("line without '=': '" + line + "'");
    const std::string key = line.substr(0, eq), v = line.substr(eq + 1);
    if (key != "stop_word") seen.push_back(key);
    if (key == "lowercase") {
      o.lowercase = boolean(key, v);
    } else if (key == "strip_accents") {
      if (v == "none") {
        o.strip_accents = StripAccents::kNone;
      } else if (v == "ascii") {
        o.strip_accents = StripAccents::kAscii;
      } else if (v == "unicode") {
        o.strip_accents = StripAccents::kUnicode;
      } else {
        throw bad("strip_accents: '" + v + "'");
      }
    } else if (key == "token_pattern") {
      o.token_pattern = v;
    } else if (key == "ngram_min") {
      o.ngram_min = static_cast<int>(integer(key, v));
    } else if (key == "ngram_max") {
      o.ngram_max = static_cast<int>(integer(key, v));
    } else if (key == "min_df") {
      o.min_df = df(key, v);
    } else if (key == "max_df") {
      o.max_df = df(key, v);
    } else if (key == "max_features") {
      if (v == "none") {
        o.max_features.reset();
      } else {
        o.max_features = integer(key, v);
      }
    } else if (key == "binary") {
      o.binary = boolean(key, v);
    } else if (key == "sublinear_tf") {
      o.sublinear_tf = boolean(key, v);
    } else if (key == "smooth_idf") {
      o.smooth_idf = boolean(key, v);
    } else if (key == "use_idf") {
      o.use_idf = boolean(key, v);
    } else if (key == "norm") {
      if (v == "l2") {
        o.norm = Norm::kL2;
      } else if (v == "l1") {
        o.norm = Norm::kL1;
      } else if (v == "none") {
        o.norm = Norm::kNone;
      } else {
        throw bad("norm: '" + v + "'");
      }
    } else if (key == "stemmer") {
      o.stemmer = v;
    } else if (key == "strip_latex") {
      o.strip_latex = boolean(key, v);
    } else if (key == "stop_words") {
      stop_words = integer(key, v);
    } else if (key == "stop_word") {
      o.stop_words.push_back(v);
    } else {
      throw bad("unknown option '" + key + "' (written by a newer papersim?)");
    }
  }
  if (seen.size() != 16) throw bad("expected 16 options, found " + std::to_string(seen.size()));
  if (stop_words != static_cast<std::int64_t>(o.stop_words.size()))
    throw bad("stop word count does not match the stop words listed");
  return o;
}

namespace {

using index::Chunk;
using index::chunk_of;
using index::SectionData;

// Strings as (offsets, bytes) arrays: string i is bytes [off[i], off[i+1]).
struct StringTable {
  std::vector<std::uint64_t> offsets{0};
  std::string bytes;
  void add(std::string_view s) {
    bytes.append(s);
    offsets.push_back(bytes.size());
  }
};

}  // namespace

void write_index(const std::string& path, const IndexContents& c, TempFileRegistry* temps) {
  const auto n = c.x.rows;
  const auto v = static_cast<std::int64_t>(c.model.vocabulary.size());
  if (c.x.cols != v) throw UsageError("write_index: matrix columns differ from the vocabulary");
  if (static_cast<std::int64_t>(c.docs.size()) != n)
    throw UsageError("write_index: one document entry per matrix row needed");
  if (static_cast<std::int64_t>(c.model.df.size()) != v)
    throw UsageError("write_index: df does not match the vocabulary");
  if (c.k < 0 || (c.k > 0 && static_cast<std::int64_t>(c.topk.size()) != n))
    throw UsageError("write_index: one top-k list per row needed");
  if (c.options.use_idf && static_cast<std::int64_t>(c.model.idf.size()) != v)
    throw UsageError("write_index: idf does not match the vocabulary");
  if (c.block_rows < 0 || c.block_rows > kMaxColumnBlockRows)
    throw UsageError("write_index: block_rows outside [0, " + std::to_string(kMaxColumnBlockRows) +
                     "]");

  std::vector<std::uint64_t> meta(index::kMetaWords, 0);
  meta[index::kMetaDocuments] = static_cast<std::uint64_t>(n);
  meta[index::kMetaVocabulary] = static_cast<std::uint64_t>(v);
  meta[index::kMetaNnz] = static_cast<std::uint64_t>(c.x.nnz());
  meta[index::kMetaK] = static_cast<std::uint64_t>(c.k);
  meta[index::kMetaModelDocuments] = static_cast<std::uint64_t>(c.model.documents);
  meta[index::kMetaBlockRows] = static_cast<std::uint64_t>(c.block_rows);
  const ColumnBlocks blocks = c.block_rows > 0
                                  ? build_column_blocks(c.x.view(), c.block_rows, c.options.threads)
                                  : ColumnBlocks{};
  const std::string options = serialize_tfidf_options(c.options);
  StringTable vocab, docs;
  for (const auto& t : c.model.vocabulary) vocab.add(t);
  for (const auto& d : c.docs) {
    docs.add(d.id);
    docs.add(d.title);
    docs.add(d.source);
  }
  std::vector<std::int64_t> topk_docs(static_cast<std::size_t>(n * c.k), -1);
  std::vector<float> topk_scores(static_cast<std::size_t>(n * c.k), 0.0f);
  for (std::int64_t r = 0; r < n && c.k > 0; ++r) {
    const auto& list = c.topk[r];
    if (static_cast<std::int64_t>(list.size()) > c.k)
      throw UsageError("write_index: a top-k list is longer than k");
    for (std::size_t i = 0; i < list.size(); ++i) {
      topk_docs[r * c.k + i] = list[i].doc;
      topk_scores[r * c.k + i] = list[i].score;
    }
  }
  const std::vector<std::int64_t> added_df(static_cast<std::size_t>(v), 0);
  const std::vector<std::uint64_t> no_terms{0};

  std::vector<SectionData> s;
  s.push_back({IndexSection::kMeta, {chunk_of(meta)}});
  s.push_back({IndexSection::kOptions, {{options.data(), options.size()}}});
  s.push_back({IndexSection::kVocabularyOffsets, {chunk_of(vocab.offsets)}});
  s.push_back({IndexSection::kVocabularyBytes, {{vocab.bytes.data(), vocab.bytes.size()}}});
  s.push_back({IndexSection::kDf, {chunk_of(c.model.df)}});
  if (c.options.use_idf) s.push_back({IndexSection::kIdf, {chunk_of(c.model.idf)}});
  s.push_back({IndexSection::kIndptr, {chunk_of(c.x.indptr)}});
  s.push_back({IndexSection::kIndices, {chunk_of(c.x.indices)}});
  s.push_back({IndexSection::kData, {chunk_of(c.x.data)}});
  s.push_back({IndexSection::kDocOffsets, {chunk_of(docs.offsets)}});
  s.push_back({IndexSection::kDocBytes, {{docs.bytes.data(), docs.bytes.size()}}});
  s.push_back({IndexSection::kTopkDocs, {chunk_of(topk_docs)}});
  s.push_back({IndexSection::kTopkScores, {chunk_of(topk_scores)}});
  s.push_back({IndexSection::kAddedDf, {chunk_of(added_df)}});
  s.push_back({IndexSection::kNewTermOffsets, {chunk_of(no_terms)}});
  s.push_back({IndexSection::kNewTermBytes, {}});
  s.push_back({IndexSection::kNewTermDf, {}});
  index::push_block_sections(s, blocks);
  index::write_sections(path, s, c.options.threads, {}, temps);
}

}  // namespace papersim
