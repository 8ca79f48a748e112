// ReaderOptions::pack_texts: the packed corpus must hold exactly the texts of
// the unpacked one, numbered the same, for every format and for inputs large
// enough to be parsed (and their consumed pages handed back) in several chunks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "papersim/document.hpp"
#include "papersim/reader.hpp"
#include "temp_dir.hpp"

namespace papersim {
namespace {

using test::TempDir;

// Document d's text in a packed corpus, checking that the packs cover the
// documents in order.
std::vector<std::string> packed_texts(const Corpus& c) {
  std::vector<std::string> out;
  for (const TextPack& p : c.packs) {
    EXPECT_EQ(p.first_doc,
              c.docs.empty() ? 0 : c.docs[0].doc + static_cast<std::int64_t>(out.size()));
    for (std::size_t i = 0; i < p.size(); ++i) out.emplace_back(p.text(i));
  }
  return out;
}

// "big.jsonl.gz:12" -> "big.jsonl:12": the compressed copy names itself.
std::string plain_name(std::string s) {
  const std::size_t gz = s.find(".gz:");
  if (gz != std::string::npos) s.erase(gz, 3);
  return s;
}

void expect_same(const Corpus& plain, const Corpus& packed) {
  ASSERT_EQ(plain.docs.size(), packed.docs.size());
  EXPECT_TRUE(plain.packs.empty());
  EXPECT_EQ(plain.stats.kept, packed.stats.kept);
  EXPECT_EQ(plain.stats.records, packed.stats.records);
  EXPECT_EQ(plain.stats.skipped, packed.stats.skipped);
  EXPECT_EQ(plain.stats.duplicate_ids, packed.stats.duplicate_ids);
  const std::vector<std::string> texts = packed_texts(packed);
  ASSERT_EQ(texts.size(), plain.docs.size());
  for (std::size_t d = 0; d < plain.docs.size(); ++d) {
    const Document& a = plain.docs[d];
    const Document& b = packed.docs[d];
    EXPECT_EQ(a.doc, b.doc);
    EXPECT_EQ(a.id, plain_name(b.id));
    EXPECT_EQ(a.source, plain_name(b.source));
    EXPECT_EQ(a.title, b.title);
    EXPECT_TRUE(b.text.empty()) << "doc " << d;
    EXPECT_EQ(a.text, texts[d]) << "doc " << d;
  }
}

// `reference` (read unpacked on one thread) against `paths` read packed on `threads`.
void compare(const std::vector<std::string>& paths, int threads, std::int64_t first_doc = 0,
             const std::vector<std::string>& reference = {}) {
  ReaderOptions o;
  o.threads = 1;
  const Corpus plain = read_corpus(reference.empty() ? paths : reference, o, first_doc);
  o.threads = threads;
  o.pack_texts = true;
  const Corpus packed = read_corpus(paths, o, first_doc);
  expect_same(plain, packed);
}

// Many records of varied lengths, with blank lines, bad records, records
// without an id, escapes and a last line without a newline.
std::string big_jsonl(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i % 997 == 5) out += "\n";
    if (i % 1301 == 7) {
      out += "{\"id\": \"bad" + std::to_string(i) + "\", \"title\": \n";
      continue;
    }
    std::string abstract;
    const int words = static_cast<int>(rng() % 400);
    for (int w = 0; w < words; ++w) abstract += "w" + std::to_string(rng() % 5000) + " ";
    if (i % 3 == 0) abstract += "caf\\u00e9 \\\"quoted\\\" line\\nbreak";
    out += "{";
    if (i % 4 != 0) out += "\"id\": \"r" + std::to_string(i % 3000) + "\", ";
    out += "\"title\": \"Title " + std::to_string(i) + "\", \"abstract\": \"" + abstract + "\"}";
    if (i + 1 < n) out += "\n";
  }
  return out;
}

TEST(IoPack, JsonLinesInManyChunksMatchUnpacked) {
  TempDir dir;
  const std::string p = dir.write("big.jsonl", big_jsonl(6000, 1));
  compare({p}, 1);
  compare({p}, 2);
  compare({p}, 3, 100);
}

TEST(IoPack, CompressedJsonLinesMatchUnpacked) {
  TempDir dir;
  const std::string p = dir.write("big.jsonl", big_jsonl(5000, 2));
  if (std::system(("gzip -k '" + p + "'").c_str()) != 0) GTEST_SKIP() << "gzip not available";
  // The decompressed buffer is handed back as parsed (it would read as zeros
  // afterwards): the result must still be that of the plain file.
  compare({p + ".gz"}, 2, 0, {p});
  ReaderOptions o;
  o.threads = 2;
  const Corpus c = read_corpus({p + ".gz"}, o);
  EXPECT_EQ(c.stats.records, 5000);
  EXPECT_EQ(c.stats.skipped_total(), 4);  // i % 1301 == 7: 7, 1308, 2609, 3910.
}

TEST(IoPack, JsonArrayCsvAndPlainTextMatchUnpacked) {
  TempDir dir;
  const std::string json =
      dir.write("a.json",
                "[{\"id\": \"j1\", \"title\": \"T\", \"abstract\": \"One two.\"},\n"
                " {\"id\": \"j2\", \"title\": \"\", \"abstract\": \"\"},\n"
                " {\"title\": \"U\", \"summary\": \"Three.\"}]");
  const std::string csv = dir.write(
      "b.csv", "id,title,abstract\nc1,\"A, title\",\"Multi\nline\"\nc2,B,\"Quoted \"\"x\"\"\"\n");
  const std::string listing = dir.write(
      "c.txt", "First title\n\nFirst abstract, long enough.\n\nSecond title\n\nSecond abstract.\n");
  compare({json}, 2);
  compare({csv}, 1);
  compare({listing}, 1);
  // Several files in one corpus: packs continue the numbering across files.
  compare({json, csv, listing, json}, 2, 7);
}

TEST(IoPack, PackGrowsCopiesAndMoves) {
  TextPack p(1);
  std::vector<std::string> want;
  for (int i = 0; i < 3000; ++i) {
    want.push_back(std::string(static_cast<std::size_t>(i % 37), static_cast<char>('a' + i % 26)));
    p.append(want.back());
  }
  // Past the small-pack size, then growing again: both storage changes keep the bytes.
  for (std::size_t big : {std::size_t{300} << 10, std::size_t{3} << 20}) {
    want.push_back(std::string(big, 'z'));
    want.back()[big / 2] = 'y';
    p.append(want.back());
    p.append("");
    want.emplace_back();
  }
  p.first_doc = 5;
  ASSERT_EQ(p.size(), want.size());
  TextPack copy(p);
  TextPack moved(std::move(p));
  EXPECT_EQ(p.size(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from pack is empty.
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(copy.text(i), want[i]);
    EXPECT_EQ(moved.text(i), want[i]);
  }
  EXPECT_EQ(copy.first_doc, 5);
  EXPECT_EQ(moved.first_doc, 5);
  moved.release();
  EXPECT_EQ(moved.size(), 0u);
  EXPECT_EQ(moved.bytes(), 0u);
  EXPECT_EQ(copy.text(2999), want[2999]);
  EXPECT_EQ(copy.text(want.size() - 2), want[want.size() - 2]);
}

}  // namespace
}  // namespace papersim
