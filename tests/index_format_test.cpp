// The .psx index format: a round trip keeps every array; a truncated file, any
// flipped byte, another version or bad magic is an InputError (exit 3 in the
// CLI), never a crash or a silently different index; writing is atomic;
// version 1 files (CRC-32 sections) and version 2 files (no column blocks) are
// still read, and `add` upgrades them; column blocks are the rows inverted by
// block, and blocks no build writes are rejected.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>
#include <xxhash.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "index/format.hpp"
#include "papersim/error.hpp"
#include "papersim/index.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace papersim;

namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const std::string& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> small_corpus() {
  return {"sparse matrix multiplication on graphics processors",
          "graphics processors accelerate sparse matrix products",
          "a survey of word embeddings for scientific text",
          "scientific text mining with word embeddings",
          "",  // No terms: an empty row, no neighbours.
          "quantum error correction with surface codes",
          "surface codes for quantum error correction at scale"};
}

IndexContents contents(const std::vector<std::string>& texts, std::int64_t k,
                       const std::string& preset = "abstracts") {
  IndexContents c;
  c.options = tfidf_preset(preset);
  c.x = fit_transform(texts, c.options, &c.model);
  c.k = k;
  for (std::size_t i = 0; i < texts.size(); ++i)
    c.docs.push_back({"id" + std::to_string(i), "title " + std::to_string(i),
                      "file.jsonl:" + std::to_string(i + 1)});
  if (k > 0) {
    auto backend = make_backend(BackendKind::kCpu);
    SimilarityParams p;
    p.k = k;
    c.topk = topk_lists(*backend, c.x, p, nullptr);
  }
  return c;
}

// Rejected on load, the column blocks' deferred checks included.
void expect_rejected(const std::string& path, const std::string& what) {
  try {
    (void)Index::open(path).column_blocks();
    ADD_FAILURE() << what << ": accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), path) << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not an InputError: " << e.what();
  }
}

// A current file rewritten as version 1 wrote it: sections with a CRC-32 and a
// zero word, then the table's and the header's CRC-32.
std::string as_version_1(std::string b) {
  const auto crc = [&](std::size_t at, std::size_t bytes) {
    return index::crc32_chunks({{b.data() + at, bytes}}, 1);
  };
  index::store_field<std::uint32_t>(b.data() + 8, 1);
  const auto n = index::load_field<std::uint32_t>(b.data() + 12);
  for (std::uint32_t s = 0; s < n; ++s) {
    const std::size_t e = index::kHeaderBytes + s * index::kTableEntryBytes;
    index::store_field<std::uint32_t>(b.data() + e + 24,
                                      crc(index::load_field<std::uint64_t>(b.data() + e + 8),
                                          index::load_field<std::uint64_t>(b.data() + e + 16)));
    index::store_field<std::uint32_t>(b.data() + e + 28, 0);
  }
  index::store_field<std::uint32_t>(b.data() + 24,
                                    crc(index::kHeaderBytes, n * index::kTableEntryBytes));
  index::store_field<std::uint32_t>(b.data() + 28, crc(0, 28));
  return b;
}

// A current file whose sections were edited in place, with every checksum
// recomputed: what no build writes, under checksums that match.
std::string resealed(std::string b) {
  const auto n = index::load_field<std::uint32_t>(b.data() + 12);
  for (std::uint32_t s = 0; s < n; ++s) {
    const std::size_t e = index::kHeaderBytes + s * index::kTableEntryBytes;
    const auto at = index::load_field<std::uint64_t>(b.data() + e + 8);
    const auto bytes = index::load_field<std::uint64_t>(b.data() + e + 16);
    index::store_field<std::uint64_t>(
        b.data() + e + 24,
        index::section_checksum(kIndexFormatVersion, {{b.data() + at, bytes}}, 1));
  }
  index::store_field<std::uint32_t>(
      b.data() + 24,
      index::crc32_chunks({{b.data() + index::kHeaderBytes, n * index::kTableEntryBytes}}, 1));
  index::store_field<std::uint32_t>(b.data() + 28, index::crc32_chunks({{b.data(), 28}}, 1));
  return b;
}

// Offset of section `kind` in the file bytes `b`.
std::size_t section_at(const std::string& b, IndexSection kind) {
  const auto n = index::load_field<std::uint32_t>(b.data() + 12);
  for (std::uint32_t s = 0; s < n; ++s) {
    const std::size_t e = index::kHeaderBytes + s * index::kTableEntryBytes;
    if (index::load_field<std::uint32_t>(b.data() + e) == static_cast<std::uint32_t>(kind))
      return index::load_field<std::uint64_t>(b.data() + e + 8);
  }
  ADD_FAILURE() << "no section " << index::section_name(kind);
  return 0;
}

void expect_same_index(const Index& a, const Index& b) {
  ASSERT_EQ(a.documents(), b.documents());
  ASSERT_EQ(a.vocabulary_size(), b.vocabulary_size());
  EXPECT_EQ(a.k(), b.k());
  EXPECT_EQ(a.options_text(), b.options_text());
  const CsrMatrix x = to_matrix(a.matrix()), y = to_matrix(b.matrix());
  EXPECT_EQ(x.indptr, y.indptr);
  EXPECT_EQ(x.indices, y.indices);
  EXPECT_EQ(x.data, y.data);
  for (std::int64_t c = 0; c < a.vocabulary_size(); ++c) EXPECT_EQ(a.term(c), b.term(c));
  for (std::int64_t d = 0; d < a.documents(); ++d) {
    EXPECT_EQ(a.id(d), b.id(d));
    const auto la = a.neighbors(d), lb = b.neighbors(d);
    ASSERT_EQ(la.size(), lb.size());
    for (std::size_t i = 0; i < la.size(); ++i) {
      EXPECT_EQ(la[i].doc, lb[i].doc);
      EXPECT_EQ(la[i].score, lb[i].score);
    }
  }
}

}  // namespace

TEST(IndexFormat, RoundTripKeepsEveryArray) {
  test::TempDir dir;
  const IndexContents c = contents(small_corpus(), 3);
  const std::string path = dir / "a.psx";
  write_index(path, c);
  const Index ix = Index::open(path);
  EXPECT_EQ(ix.version(), kIndexFormatVersion);
  EXPECT_EQ(ix.file_bytes() % index::kAlign, 0u);
  ASSERT_EQ(ix.documents(), c.x.rows);
  ASSERT_EQ(ix.vocabulary_size(), c.x.cols);
  EXPECT_EQ(ix.model_documents(), c.model.documents);
  EXPECT_EQ(ix.k(), 3);
  const TfidfModel m = ix.model();
  EXPECT_EQ(m.vocabulary, c.model.vocabulary);
  EXPECT_EQ(m.df, c.model.df);
  EXPECT_EQ(m.idf, c.model.idf);
  EXPECT_EQ(serialize_tfidf_options(ix.options()), serialize_tfidf_options(c.options));
  EXPECT_EQ(ix.options().stop_words, c.options.stop_words);
  const CsrMatrix x = to_matrix(ix.matrix());
  EXPECT_EQ(x.indptr, c.x.indptr);
  EXPECT_EQ(x.indices, c.x.indices);
  EXPECT_EQ(x.data, c.x.data);
  for (std::int64_t d = 0; d < ix.documents(); ++d) {
    EXPECT_EQ(ix.id(d), c.docs[d].id);
    EXPECT_EQ(ix.title(d), c.docs[d].title);
    EXPECT_EQ(ix.source(d), c.docs[d].source);
    const auto got = ix.neighbors(d);
    ASSERT_EQ(got.size(), c.topk[d].size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].doc, c.topk[d][i].doc);
      EXPECT_EQ(got[i].score, c.topk[d][i].score);
    }
  }
  EXPECT_TRUE(ix.neighbors(4).empty());
  EXPECT_EQ(ix.drift().added_documents, 0);
}

TEST(IndexFormat, ColumnBlocksAreTheRowsInvertedByBlock) {
  test::TempDir dir;
  for (const std::int64_t rows :
       {kIndexBlockRows, std::int64_t{3}, std::int64_t{1}, std::int64_t{0}}) {
    IndexContents c = contents(small_corpus(), 2, "sklearn");
    c.block_rows = rows;
    const std::string path = dir / ("b" + std::to_string(rows) + ".psx");
    write_index(path, c);
    const Index ix = Index::open(path);
    const ColumnBlocksView got = ix.column_blocks();
    if (rows == 0) {
      EXPECT_TRUE(got.empty());
      EXPECT_EQ(ix.section(IndexSection::kBlockTerms).first, nullptr);
      continue;
    }
    const ColumnBlocks want = build_column_blocks(c.x.view(), rows, 1);
    ASSERT_TRUE(got.covers(ix.documents())) << rows;
    ASSERT_EQ(got.block_rows, rows);
    EXPECT_TRUE(std::equal(want.term_offsets.begin(), want.term_offsets.end(), got.term_offsets));
    EXPECT_TRUE(std::equal(want.terms.begin(), want.terms.end(), got.terms));
    EXPECT_TRUE(std::equal(want.starts.begin(), want.starts.end(), got.starts));
    EXPECT_TRUE(std::equal(want.rows.begin(), want.rows.end(), got.rows));
    EXPECT_TRUE(std::equal(want.values.begin(), want.values.end(), got.values));
    EXPECT_NE(got.release, nullptr) << "a mapped index lets the engine drop finished blocks";
  }
  IndexContents c = contents(small_corpus(), 0);
  c.block_rows = kMaxColumnBlockRows + 1;
  EXPECT_THROW(write_index(dir / "wide.psx", c), UsageError);
}

// Column blocks no build writes, under valid checksums: rejected before any
// engine reads a posting out of its block or a column out of the vocabulary.
TEST(IndexFormat, BadColumnBlocksUnderValidChecksumsAreRejected) {
  test::TempDir dir;
  IndexContents c = contents(small_corpus(), 2, "sklearn");
  c.block_rows = 3;  // 7 documents: blocks of 3, 3 and 1 rows
  write_index(dir / "good.psx", c);
  const std::string good = slurp(dir / "good.psx");
  const std::size_t rows = section_at(good, IndexSection::kBlockRows);
  const std::size_t terms = section_at(good, IndexSection::kBlockTerms);
  const std::size_t starts = section_at(good, IndexSection::kBlockTermStarts);
  const std::size_t values = section_at(good, IndexSection::kBlockValues);
  const std::size_t meta = section_at(good, IndexSection::kMeta);
  const ColumnBlocks blocks = build_column_blocks(c.x.view(), 3, 1);
  // A column of block 0 with two postings, for the order case.
  std::size_t pair = 0;
  while (pair + 1 < blocks.term_offsets[1] && blocks.starts[pair + 1] - blocks.starts[pair] < 2)
    ++pair;
  ASSERT_LT(pair + 1, blocks.term_offsets[1]) << "no column of block 0 in two rows";
  const std::size_t p0 = blocks.starts[pair];
  const std::vector<std::pair<std::string, std::function<void(std::string&)>>> cases = {
      {"posting row past its block",
       [&](std::string& b) { index::store_field<std::uint16_t>(b.data() + rows, 3); }},
      {"postings of a column out of row order",
       [&](std::string& b) {
         const auto r0 = index::load_field<std::uint16_t>(b.data() + rows + 2 * p0);
         const auto r1 = index::load_field<std::uint16_t>(b.data() + rows + 2 * p0 + 2);
         index::store_field<std::uint16_t>(b.data() + rows + 2 * p0, r1);
         index::store_field<std::uint16_t>(b.data() + rows + 2 * p0 + 2, r0);
       }},
      {"block columns out of order",
       [&](std::string& b) {
         const auto t0 = index::load_field<std::int32_t>(b.data() + terms);
         const auto t1 = index::load_field<std::int32_t>(b.data() + terms + 4);
         index::store_field<std::int32_t>(b.data() + terms, t1);
         index::store_field<std::int32_t>(b.data() + terms + 4, t0);
       }},
      {"block column outside the vocabulary",
       [&](std::string& b) {
         index::store_field<std::int32_t>(b.data() + terms, static_cast<std::int32_t>(c.x.cols));
       }},
      {"a column without postings",
       [&](std::string& b) {
         index::store_field<std::uint32_t>(b.data() + starts + 4,
                                           index::load_field<std::uint32_t>(b.data() + starts));
       }},
      {"first posting not at the block's start",
       [&](std::string& b) { index::store_field<std::uint32_t>(b.data() + starts, 1); }},
      {"posting value NaN",
       [&](std::string& b) { index::store_field<float>(b.data() + values, std::nanf("")); }},
      {"block size without blocks of that size",
       [&](std::string& b) {
         index::store_field<std::uint64_t>(b.data() + meta + 8 * index::kMetaBlockRows, 4);
       }},
      {"block sections without a block size",
       [&](std::string& b) {
         index::store_field<std::uint64_t>(b.data() + meta + 8 * index::kMetaBlockRows, 0);
       }},
      {"block size past 16-bit row offsets",
       [&](std::string& b) {
         index::store_field<std::uint64_t>(b.data() + meta + 8 * index::kMetaBlockRows,
                                           kMaxColumnBlockRows + 1);
       }},
  };
  for (const auto& [what, spoil] : cases) {
    std::string b = good;
    spoil(b);
    spit(dir / "bad.psx", resealed(b));
    expect_rejected(dir / "bad.psx", what);
  }
  // The unspoiled file resealed is still accepted (the helper itself is sound).
  spit(dir / "same.psx", resealed(good));
  EXPECT_NO_THROW(Index::open(dir / "same.psx"));
}

TEST(IndexFormat, ColumnBlocksAreVerifiedWhenFirstRead) {
  // Open checks the rows; the blocks' checks wait for a reader of the blocks.
  // A file whose blocks alone are damaged (under valid checksums, or with a
  // checksum mismatch) opens, serves a run that reads only the rows (the
  // dense-queries kernel, few queries), and is rejected, naming the file, by
  // every reader of its blocks: column_blocks(), and the engine through the
  // deferred view when its pass reads blocks.
  test::TempDir dir;
  IndexContents c = contents(small_corpus(), 2, "sklearn");
  c.block_rows = 3;
  write_index(dir / "good.psx", c);
  const std::string good = slurp(dir / "good.psx");
  {
    const Index ix = Index::open(dir / "good.psx");
    EXPECT_FALSE(ix.fully_verified());
    const double before = ix.verify_seconds();
    EXPECT_TRUE(ix.column_blocks().covers(ix.documents()));
    EXPECT_TRUE(ix.fully_verified());
    EXPECT_GE(ix.verify_seconds(), before);
    EXPECT_NO_THROW(ix.deferred_column_blocks().ensure_verified()) << "checked once, then free";
  }
  const auto backend = make_backend(BackendKind::kCpu);
  const CsrMatrix queries = c.x.slice_rows(0, 2);
  SimilarityParams p;
  p.k = 3;
  p.threads = 2;
  const SimilarityResult want = backend->cross_join(queries.view(), c.x.view(), p);
  {
    // A pass reading the blocks verifies them first, timed apart.
    const Index ix = Index::open(dir / "good.psx");
    SimilarityParams tiles = p;
    tiles.head_dim = 1;
    tiles.tile = 3;
    const SimilarityResult got =
        backend->cross_join(queries.view(), ix.matrix(), ix.deferred_column_blocks(), tiles);
    EXPECT_TRUE(got.stats.column_blocks);
    EXPECT_TRUE(ix.fully_verified());
    EXPECT_GT(got.stats.verify_seconds, 0.0);
    EXPECT_LE(got.stats.verify_seconds, got.stats.seconds);
  }
  std::string spoiled_value = good;
  index::store_field<float>(spoiled_value.data() + section_at(good, IndexSection::kBlockValues),
                            std::nanf(""));
  std::string flipped_row = good;
  flipped_row[section_at(good, IndexSection::kBlockRows)] ^= 1;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a NaN posting under valid checksums", resealed(spoiled_value)},
      {"a flipped bit in the blocks' rows", flipped_row}};
  for (const auto& [what, bytes] : cases) {
    const std::string path = dir / "bad.psx";
    spit(path, bytes);
    const Index ix = Index::open(path);
    EXPECT_FALSE(ix.fully_verified()) << what;
    SimilarityParams dense = p;  // the head size left to the engine: two queries, dense kernel
    const SimilarityResult got =
        backend->cross_join(queries.view(), ix.matrix(), ix.deferred_column_blocks(), dense);
    EXPECT_TRUE(got.stats.dense_queries) << what;
    EXPECT_FALSE(ix.fully_verified()) << what << ": blocks not read, not verified";
    ASSERT_EQ(got.topk.size(), want.topk.size()) << what;
    for (std::size_t i = 0; i < want.topk.size(); ++i) {
      ASSERT_EQ(got.topk[i].size(), want.topk[i].size()) << what;
      for (std::size_t n = 0; n < want.topk[i].size(); ++n) {
        EXPECT_EQ(got.topk[i][n].doc, want.topk[i][n].doc) << what;
        EXPECT_EQ(got.topk[i][n].score, want.topk[i][n].score) << what;
      }
    }
    SimilarityParams tiles = p;
    tiles.head_dim = 1;  // the head/tail tiles, which read the blocks
    tiles.tile = 3;
    for (int attempt = 0; attempt < 2; ++attempt) {  // a failed check is not remembered as passed
      try {
        backend->cross_join(queries.view(), ix.matrix(), ix.deferred_column_blocks(), tiles);
        ADD_FAILURE() << what << ": a pass read damaged blocks";
      } catch (const InputError& e) {
        EXPECT_EQ(e.file(), path) << what;
      }
    }
    EXPECT_THROW((void)ix.column_blocks(), InputError) << what;
    EXPECT_FALSE(ix.fully_verified()) << what;
  }
}

TEST(IndexFormat, VectorizeWithIndexMatchesTransformOfTheModel) {
  test::TempDir dir;
  std::vector<std::string> texts = small_corpus();
  // Bytes above 0x7f sort after ASCII: the binary search must order them as the
  // vocabulary does (unsigned bytes).
  texts.push_back(
      "\xc3\xa9nergie and \xc3\xbc"
      "ber zeta alpha");
  for (const std::string preset : {"abstracts", "sklearn"}) {
    const IndexContents c = contents(texts, 0, preset);
    const std::string path = dir / (preset + ".psx");
    write_index(path, c);
    const Index ix = Index::open(path);
    for (std::int64_t col = 0; col < ix.vocabulary_size(); ++col)
      EXPECT_EQ(ix.find_term(ix.term(col)), col) << ix.term(col);
    EXPECT_EQ(ix.find_term(""), -1);
    EXPECT_EQ(ix.find_term("aaaa-not-a-term"), -1);
    EXPECT_EQ(ix.find_term("\xff\xff"), -1);
    const std::vector<std::string_view> queries = {
        "sparse matrix products on processors, a new survey",
        "nothing here is in the vocabulary: xyzzy plugh", "",
        "\xc3\xa9nergie zeta quantum surface codes surface codes"};
    TransformStats by_view, by_model;
    const CsrMatrix got = vectorize_with_index(ix, queries, 2, &by_view);
    TfidfOptions o = ix.options();
    o.threads = 2;
    const CsrMatrix want = transform(queries, ix.model(), o, &by_model);
    EXPECT_EQ(got.cols, want.cols);
    EXPECT_EQ(got.indptr, want.indptr) << preset;
    EXPECT_EQ(got.indices, want.indices) << preset;
    EXPECT_EQ(got.data, want.data) << preset;
    EXPECT_GT(got.indptr.back(), 0);
    EXPECT_EQ(by_view.terms_in_vocabulary, by_model.terms_in_vocabulary);
    EXPECT_EQ(by_view.terms_out_of_vocabulary, by_model.terms_out_of_vocabulary);
    EXPECT_GT(by_view.terms_out_of_vocabulary, 0);
    EXPECT_EQ(by_view.df, by_model.df);
    EXPECT_EQ(by_view.new_terms, by_model.new_terms);
  }
}

TEST(IndexFormat, OptionsSurviveTheRoundTrip) {
  TfidfOptions o;
  o.lowercase = false;
  o.strip_accents = StripAccents::kUnicode;
  o.token_pattern = R"((?u)\b\w+\b)";
  o.ngram_min = 1;
  o.ngram_max = 3;
  o.min_df = DfBound::count(2);
  o.max_df = DfBound::fraction(0.123456789012345);
  o.max_features = 1000;
  o.binary = true;
  o.sublinear_tf = true;
  o.smooth_idf = false;
  o.use_idf = false;
  o.norm = Norm::kL1;
  o.stemmer = "english";
  o.strip_latex = true;
  o.stop_words = {"a", "the"};
  const std::string text = serialize_tfidf_options(o);
  const TfidfOptions back = parse_tfidf_options(text, "x");
  EXPECT_EQ(serialize_tfidf_options(back), text);
  EXPECT_EQ(back.max_df.value, o.max_df.value);
  EXPECT_THROW(parse_tfidf_options(text + "future_option=1\n", "x"), InputError);
  EXPECT_THROW(parse_tfidf_options("lowercase=1\n", "x"), InputError);
}

TEST(IndexFormat, TruncatedFileIsRejected) {
  test::TempDir dir;
  const std::string path = dir / "a.psx";
  write_index(path, contents(small_corpus(), 2));
  const std::string bytes = slurp(path);
  for (std::size_t keep :
       {std::size_t{0}, std::size_t{7}, std::size_t{63}, std::size_t{64}, std::size_t{200},
        bytes.size() / 2, bytes.size() - 64, bytes.size() - 1}) {
    const std::string p = dir / ("t" + std::to_string(keep) + ".psx");
    spit(p, bytes.substr(0, keep));
    expect_rejected(p, "truncated to " + std::to_string(keep) + " bytes");
  }
  spit(dir / "long.psx", bytes + std::string(64, '\0'));
  expect_rejected(dir / "long.psx", "extended by 64 bytes");
  expect_rejected(dir / "missing.psx", "missing file");
}

TEST(IndexFormat, EveryFlippedByteIsRejected) {
  test::TempDir dir;
  const std::string path = dir / "a.psx";
  // The sklearn preset keeps the options section (no stop words) and the file small.
  write_index(path, contents(small_corpus(), 2, "sklearn"));
  const std::string bytes = slurp(path);
  const std::string p = dir / "flip.psx";
  int accepted = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string b = bytes;
    b[i] = static_cast<char>(b[i] ^ (1 << (i % 8)));
    spit(p, b);
    try {
      (void)Index::open(p).column_blocks();
      ++accepted;
      ADD_FAILURE() << "flipped bit in byte " << i << " of " << bytes.size() << " accepted";
    } catch (const InputError&) {
    }
    if (accepted > 5) break;
  }
}

TEST(IndexFormat, OtherVersionAndBadMagicAreNamed) {
  test::TempDir dir;
  const std::string path = dir / "a.psx";
  write_index(path, contents(small_corpus(), 0));
  std::string b = slurp(path);
  for (const int version : {0, 4}) {
    b[8] = static_cast<char>(version);  // the header checksum is checked after the version
    spit(path, b);
    try {
      Index::open(path);
      ADD_FAILURE() << "version " << version << " accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("version " + std::to_string(version)), std::string::npos)
          << e.what();
    }
  }
  b[0] = 'X';
  spit(path, b);
  try {
    Index::open(path);
    ADD_FAILURE() << "bad magic accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a papersim index"), std::string::npos) << e.what();
  }
}

// Found by fuzz_index_load: checksums that match bytes which no build writes
// (a file rewritten by other software, or a checksum collision) must not give
// wrong answers either. Each case is written with valid checksums.
TEST(IndexFormat, BadValuesUnderValidChecksumsAreRejected) {
  test::TempDir dir;
  const std::vector<std::pair<std::string, std::function<void(IndexContents&)>>> cases = {
      {"idf NaN", [](IndexContents& c) { c.model.idf[0] = std::nan(""); }},
      {"idf negative", [](IndexContents& c) { c.model.idf[1] = -2.0; }},
      {"df above N", [](IndexContents& c) { c.model.df[0] = c.model.documents + 1; }},
      {"df negative", [](IndexContents& c) { c.model.df[2] = -1; }},
      {"list out of order",
       [](IndexContents& c) {
         for (auto& list : c.topk) {
           if (list.size() >= 2 && list[0].score != list[1].score) {
             std::swap(list[0], list[1]);
             return;
           }
         }
         FAIL() << "no list with two different scores";
       }},
      {"list score NaN", [](IndexContents& c) { c.topk[0].at(0).score = std::nanf(""); }},
      {"unsupported token pattern",
       [](IndexContents& c) { c.options.token_pattern = "(?u)\\b\\w\\\\bw+"; }},
      {"unknown stemmer", [](IndexContents& c) { c.options.stemmer = "klingon"; }},
      {"matrix weight infinite",
       [](IndexContents& c) { c.x.data[0] = std::numeric_limits<float>::infinity(); }},
      // Row 0 ends before it starts, so row 1 starts before the arrays do.
      {"vocabulary repeats a term",
       [](IndexContents& c) { c.model.vocabulary.at(1) = c.model.vocabulary.at(0); }},
      {"vocabulary out of order",
       [](IndexContents& c) { std::swap(c.model.vocabulary.at(0), c.model.vocabulary.at(1)); }},
      {"negative row offset", [](IndexContents& c) { c.x.indptr.at(1) = -1; }},
  };
  for (const auto& [what, spoil] : cases) {
    IndexContents c = contents(small_corpus(), 3, "sklearn");
    spoil(c);
    const std::string path = dir / "bad.psx";
    write_index(path, c);
    expect_rejected(path, what);
  }
  // Rows are checked in chunks of a few hundred: an offset past the non-zeros at
  // the end of one chunk, ascending within it and coming down in the next, must
  // be caught before the first chunk reads its entries.
  std::vector<std::string> many;
  for (int i = 0; i < 100; ++i)
    for (const std::string& t : small_corpus()) many.push_back(t + " copy" + std::to_string(i));
  IndexContents c = contents(many, 0, "sklearn");
  c.block_rows = 0;  // the blocks would be built from the spoiled rows
  ASSERT_GT(c.x.rows, 600);
  c.x.indptr.at(256) = c.x.nnz() + (std::int64_t{1} << 32);
  write_index(dir / "far.psx", c);
  expect_rejected(dir / "far.psx", "row offset past the non-zeros at a chunk's end");
}

// The reader hashes the four arrays of an entry each (the CSR's columns and
// values, the blocks' rows and values) piece by piece and checks what it just
// hashed: an index larger than one checksum block of each (2Mi entries of the
// CSR, 4Mi of the blocks' rows), with rows and blocks across those bounds.
TEST(IndexFormat, ArraysAcrossChecksumBlocksAreHashedAndCheckedPieceByPiece) {
  test::TempDir dir;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> word(0, 19999);
  std::vector<std::string> texts;
  const std::int64_t per_unit = index::kChecksumBlock / 2;  // entries of a rows block
  for (std::int64_t entries = 0; entries < per_unit + per_unit / 4;) {
    std::string t;
    for (int w = 0; w < 150; ++w) t += "w" + std::to_string(word(rng)) + " ";
    texts.push_back(t);
    entries += 140;  // about: repeats are few among 20,000 words
  }
  IndexContents c = contents(texts, 0, "sklearn");
  c.block_rows = 512;
  const std::int64_t csr_block = index::kChecksumBlock / 4;
  ASSERT_GT(c.x.nnz(), per_unit);
  const std::string path = dir / "big.psx";
  write_index(path, c);
  {
    const Index ix = Index::open(path);
    const CsrMatrix back = to_matrix(ix.matrix());
    EXPECT_EQ(back.indices, c.x.indices);
    EXPECT_EQ(back.data, c.x.data);
    EXPECT_TRUE(ix.column_blocks().covers(ix.documents()));
  }
  const std::string good = slurp(path);
  const auto expect_named = [&](const std::string& b, const std::string& what,
                                const std::string& message) {
    spit(dir / "bad.psx", b);
    try {
      (void)Index::open(dir / "bad.psx").column_blocks();
      ADD_FAILURE() << what << ": accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << what << ": " << e.what();
    }
  };
  // A flipped bit in the last checksum block of each array, hashed by a later unit.
  const std::vector<std::pair<IndexSection, std::size_t>> arrays = {
      {IndexSection::kIndices, 4},
      {IndexSection::kData, 4},
      {IndexSection::kBlockRows, 2},
      {IndexSection::kBlockValues, 4}};
  for (const auto& [kind, width] : arrays) {
    std::string b = good;
    const std::size_t at = section_at(b, kind) + (static_cast<std::size_t>(c.x.nnz()) - 7) * width;
    b[at] = static_cast<char>(b[at] ^ 0x10);
    expect_named(b, index::section_name(kind),
                 std::string("checksum mismatch in section '") + index::section_name(kind) + "'");
  }
  // Under valid checksums: the row across the CSR's first block bound, its ids
  // out of order past the bound (its check reads on beyond the piece it starts in).
  std::int64_t across = 0;
  while (c.x.indptr[across + 1] <= csr_block) ++across;
  ASSERT_LT(c.x.indptr[across], csr_block);
  ASSERT_GT(c.x.indptr[across + 1], csr_block + 1);
  {
    std::string b = good;
    const std::size_t ind = section_at(b, IndexSection::kIndices);
    const auto e = static_cast<std::size_t>(csr_block);
    const auto x = index::load_field<std::int32_t>(b.data() + ind + 4 * e);
    const auto y = index::load_field<std::int32_t>(b.data() + ind + 4 * (e + 1));
    index::store_field<std::int32_t>(b.data() + ind + 4 * e, y);
    index::store_field<std::int32_t>(b.data() + ind + 4 * (e + 1), x);
    expect_named(resealed(b), "row across a block bound out of order", "CSR rows inconsistent");
  }
  // A column block that starts in the blocks' second unit, its first posting
  // past the block.
  std::int64_t later = 0;
  while (c.x.indptr[later * c.block_rows] < per_unit) ++later;
  {
    std::string b = good;
    const std::size_t rows = section_at(b, IndexSection::kBlockRows);
    index::store_field<std::uint16_t>(
        b.data() + rows + 2 * static_cast<std::size_t>(c.x.indptr[later * c.block_rows]), 600);
    expect_named(resealed(b), "posting past its block in a later unit",
                 "column blocks inconsistent");
  }
  // And the file resealed unspoiled is accepted.
  spit(dir / "same.psx", resealed(good));
  EXPECT_NO_THROW(Index::open(dir / "same.psx"));
}

TEST(IndexFormat, ChecksumsMatchASequentialCrc) {
  std::mt19937 rng(5);
  std::vector<unsigned char> data(20u << 20);
  for (auto& c : data) c = static_cast<unsigned char>(rng());
  const std::uint32_t one = index::crc32_chunks({{data.data(), data.size()}}, 1);
  const std::uint32_t split =
      index::crc32_chunks({{data.data(), 12345}, {data.data() + 12345, data.size() - 12345}}, 4);
  EXPECT_EQ(one, split);
}

// The documented definition, computed here with xxHash directly: XXH3-64 of
// the little-endian XXH3-64 hashes of the 8 MiB blocks, whatever the chunks.
TEST(IndexFormat, SectionChecksumIsTheDocumentedBlockHash) {
  std::mt19937 rng(7);
  std::vector<unsigned char> data((20u << 20) + 12345);
  for (auto& c : data) c = static_cast<unsigned char>(rng());
  const auto reference = [](const unsigned char* p, std::size_t n) {
    std::vector<unsigned char> hashes;
    for (std::size_t at = 0; at < n; at += index::kChecksumBlock) {
      const XXH64_hash_t h =
          XXH3_64bits(p + at, std::min<std::size_t>(index::kChecksumBlock, n - at));
      for (int k = 0; k < 8; ++k) hashes.push_back(static_cast<unsigned char>(h >> (8 * k)));
    }
    return static_cast<std::uint64_t>(XXH3_64bits(hashes.data(), hashes.size()));
  };
  const std::uint64_t want = reference(data.data(), data.size());
  EXPECT_EQ(index::section_checksum(2, {{data.data(), data.size()}}, 1), want);
  // Chunk boundaries inside and across blocks, an empty chunk, more threads than blocks.
  const std::size_t cut1 = 12345, cut2 = (8u << 20) + 7;
  EXPECT_EQ(index::section_checksum(2,
                                    {{data.data(), cut1},
                                     {data.data() + cut1, 0},
                                     {data.data() + cut1, cut2 - cut1},
                                     {data.data() + cut2, data.size() - cut2}},
                                    8),
            want);
  EXPECT_EQ(index::section_checksum(2, {{data.data(), 100}}, 2), reference(data.data(), 100));
  EXPECT_EQ(index::section_checksum(2, {}, 2), reference(data.data(), 0));
  // Any changed byte changes it.
  data[(16u << 20) + 3] ^= 1;
  EXPECT_NE(index::section_checksum(2, {{data.data(), data.size()}}, 2), want);
  // Version 1: the CRC-32.
  EXPECT_EQ(index::section_checksum(1, {{data.data(), data.size()}}, 2),
            index::crc32_chunks({{data.data(), data.size()}}, 1));
}

TEST(IndexFormat, Versions1And2AreReadAndAddRewritesThemAsTheCurrentVersion) {
  test::TempDir dir;
  const std::string current = dir / "current.psx", old = dir / "old.psx";
  const std::string old2 = dir / "old2.psx", plain = dir / "plain.psx";
  write_index(current, contents(small_corpus(), 2, "sklearn"));
  // Versions 1 and 2 had no column blocks: made from a file written without them.
  IndexContents no_blocks = contents(small_corpus(), 2, "sklearn");
  no_blocks.block_rows = 0;
  write_index(plain, no_blocks);
  const std::string bytes = as_version_1(slurp(plain));
  spit(old, bytes);
  {
    // Version 2: the same sections and checksums, another version number.
    std::string b = slurp(plain);
    index::store_field<std::uint32_t>(b.data() + 8, 2);
    index::store_field<std::uint32_t>(b.data() + 28, index::crc32_chunks({{b.data(), 28}}, 1));
    spit(old2, b);
    const Index v2 = Index::open(old2);
    EXPECT_EQ(v2.version(), 2u);
    EXPECT_TRUE(v2.column_blocks().empty());
    expect_same_index(Index::open(current), v2);
    // Version 2 knew no block size: a non-zero one is rejected.
    const std::size_t meta = section_at(b, IndexSection::kMeta);
    index::store_field<std::uint64_t>(b.data() + meta + 8 * index::kMetaBlockRows, 2048);
    spit(dir / "v2-blocksize.psx", resealed(b));
    expect_rejected(dir / "v2-blocksize.psx", "a block size in a version 2 file");
  }
  {
    const Index a = Index::open(current), b = Index::open(old);
    EXPECT_EQ(a.version(), kIndexFormatVersion);
    EXPECT_EQ(b.version(), 1u);
    expect_same_index(a, b);
    for (const auto& s : b.sections()) EXPECT_LE(s.checksum, 0xffffffffu);
  }
  // A flipped bit anywhere in a version 1 file is caught too, by its CRC-32s.
  int accepted = 0;
  for (std::size_t i = 0; i < bytes.size() && accepted <= 5; i += 7) {
    std::string b = bytes;
    b[i] = static_cast<char>(b[i] ^ (1 << (i % 8)));
    spit(dir / "flip.psx", b);
    try {
      Index::open(dir / "flip.psx");
      ++accepted;
      ADD_FAILURE() << "flipped bit in byte " << i << " of a version 1 file accepted";
    } catch (const InputError&) {
    }
  }
  // Version 1's reserved word after each CRC must be zero (covered by the table CRC).
  {
    std::string b = bytes;
    index::store_field<std::uint32_t>(b.data() + index::kHeaderBytes + 28, 1);
    const std::uint64_t table_bytes =
        index::load_field<std::uint32_t>(b.data() + 12) * index::kTableEntryBytes;
    index::store_field<std::uint32_t>(
        b.data() + 24, index::crc32_chunks({{b.data() + index::kHeaderBytes, table_bytes}}, 1));
    index::store_field<std::uint32_t>(b.data() + 28, index::crc32_chunks({{b.data(), 28}}, 1));
    spit(dir / "reserved.psx", b);
    expect_rejected(dir / "reserved.psx", "non-zero reserved word of version 1");
  }
  // `add` to the old file writes the same bytes as `add` to the current one.
  const std::vector<std::string> more = {"sparse matrix products on processors",
                                         "quantum codes at scale"};
  const std::vector<std::string_view> views(more.begin(), more.end());
  const std::vector<IndexedDocument> docs = {{"n0", "", ""}, {"n1", "", ""}};
  auto backend = make_backend(BackendKind::kCpu);
  SimilarityParams params;
  params.k = 2;
  add_to_index(current, docs, views, *backend, params);
  add_to_index(old, docs, views, *backend, params);
  add_to_index(old2, docs, views, *backend, params);
  EXPECT_EQ(Index::open(old).version(), kIndexFormatVersion);
  EXPECT_FALSE(Index::open(old).column_blocks().empty()) << "add gives an old file its blocks";
  EXPECT_TRUE(slurp(old) == slurp(current)) << "add to a version 1 file wrote other bytes";
  EXPECT_TRUE(slurp(old2) == slurp(current)) << "add to a version 2 file wrote other bytes";
}

TEST(IndexFormat, FailedWriteLeavesThePreviousIndexAndNoTemporaryFile) {
  test::TempDir dir;
  const std::string path = dir / "a.psx";
  const auto texts = small_corpus();
  write_index(path, contents(texts, 2));
  const std::string before = slurp(path);
  auto backend = make_backend(BackendKind::kCpu);
  const std::vector<std::string> more = {"graphics processors for word embeddings",
                                         "brand new unseen vocabulary words"};
  const std::vector<std::string_view> views(more.begin(), more.end());
  const std::vector<IndexedDocument> docs = {{"n0", "t", "s"}, {"n1", "t", "s"}};
  for (std::uint64_t fail_at : {std::uint64_t{1}, std::uint64_t{700}, before.size() / 2}) {
    EXPECT_THROW(index::add_documents(path, docs, views, *backend, SimilarityParams{},
                                      [fail_at](std::uint64_t written) {
                                        if (written >= fail_at) throw Error("injected failure");
                                      }),
                 Error);
    EXPECT_EQ(slurp(path), before) << "after a failure at byte " << fail_at;
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file();
    EXPECT_EQ(files, 1u) << "temporary file left behind";
    Index::open(path);
  }
  const IndexAddResult r = add_to_index(path, docs, views, *backend, SimilarityParams{});
  EXPECT_EQ(r.documents, static_cast<std::int64_t>(texts.size() + 2));
  EXPECT_EQ(Index::open(path).documents(), r.documents);
}

TEST(IndexFormat, ConcurrentAddIsRefused) {
  test::TempDir dir;
  const std::string path = dir / "a.psx";
  write_index(path, contents(small_corpus(), 2));
  const std::string before = slurp(path);
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);  // As a running add holds it.
  auto backend = make_backend(BackendKind::kCpu);
  const std::vector<std::string> more = {"graphics processors"};
  try {
    add_to_index(path, {{"n", "t", "s"}}, {more.begin(), more.end()}, *backend, {});
    ADD_FAILURE() << "add ran while another held the index";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("another papersim"), std::string::npos) << e.what();
  }
  close(fd);
  EXPECT_EQ(slurp(path), before);
  add_to_index(path, {{"n", "t", "s"}}, {more.begin(), more.end()}, *backend, {});
  EXPECT_EQ(Index::open(path).documents(), 8);
}
