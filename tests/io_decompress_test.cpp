// Transparent decompression: fixtures are compressed at test time with the
// real zlib / liblzma / libzstd encoders, then read back through the readers.
#include <gtest/gtest.h>
#include <lzma.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "papersim/error.hpp"
#include "papersim/reader.hpp"
#include "temp_dir.hpp"

namespace papersim {
namespace {

using test::TempDir;

std::string gzip(const std::string& in) {
  z_stream zs{};
  // 15 + 16: a gzip wrapper, as the gzip tool writes.
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string xz(const std::string& in) {
  std::string out(lzma_stream_buffer_bound(in.size()), '\0');
  std::size_t pos = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, nullptr,
                                    reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                                    reinterpret_cast<uint8_t*>(&out[0]), &pos, out.size()),
            LZMA_OK);
  out.resize(pos);
  return out;
}

std::string zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  std::size_t n = ZSTD_compress(&out[0], out.size(), in.data(), in.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// A corpus large enough (about 1.5 MB) to cross every internal buffer size.
std::string sample_jsonl() {
  std::mt19937 rng(7);
  std::string out;
  for (int i = 0; i < 3000; ++i) {
    std::string words;
    for (int w = 0; w < 60; ++w) words += "w" + std::to_string(rng() % 5000) + " ";
    out += "{\"id\": \"d" + std::to_string(i) + "\", \"title\": \"Title " + std::to_string(i) +
           "\", \"summary\": \"" + words + "\"}\n";
  }
  return out;
}

void expect_same(const Corpus& a, const Corpus& b) {
  ASSERT_EQ(a.docs.size(), b.docs.size());
  for (std::size_t i = 0; i < a.docs.size(); ++i) {
    ASSERT_EQ(a.docs[i].id, b.docs[i].id);
    ASSERT_EQ(a.docs[i].text, b.docs[i].text);
    // Sources name the file as given, so compare only the line part.
    ASSERT_EQ(a.docs[i].source.substr(a.docs[i].source.find(':')),
              b.docs[i].source.substr(b.docs[i].source.find(':')));
  }
}

TEST(IoDecompress, EachCodecReadsLikeThePlainFile) {
  TempDir dir;
  const std::string plain = sample_jsonl();
  const Corpus expected = read_corpus({dir.write("s.jsonl", plain)}, ReaderOptions{});
  ASSERT_EQ(expected.docs.size(), 3000u);
  const std::string gz = dir.write("s.jsonl.gz", gzip(plain));
  const std::string x = dir.write("s.jsonl.xz", xz(plain));
  const std::string zs = dir.write("s.jsonl.zst", zstd(plain));
  for (const auto& p : {gz, x, zs}) {
    SCOPED_TRACE(p);
    EXPECT_EQ(read_file_decompressed(p), plain);
    Corpus c = read_corpus({p}, ReaderOptions{});
    expect_same(expected, c);
    EXPECT_EQ(c.docs[5].source, "s.jsonl" + p.substr(p.rfind('.')) + ":6");
  }
}

TEST(IoDecompress, MagicBytesNotNames) {
  TempDir dir;
  const std::string csv = "id,title,abstract\n1,A,\"x, y\"\n";
  // Misnamed: gzip data without .gz, and the format still comes from the
  // name under the compression suffix.
  const std::string p = dir.write("table.csv", gzip(csv));
  EXPECT_EQ(read_file_decompressed(p), csv);
  Corpus c = read_corpus({p}, ReaderOptions{});
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].text, "A\nx, y");
  const std::string q = dir.write("table.tsv.zst", zstd("title\tabstract\nT\tA\n"));
  c = read_corpus({q}, ReaderOptions{});
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].text, "T\nA");
  // Uncompressed data under a .gz name reads as it is.
  const std::string r = dir.write("plain.jsonl.gz", "{\"title\": \"P\"}\n");
  EXPECT_EQ(read_corpus({r}, ReaderOptions{}).docs.at(0).text, "P");
}

TEST(IoDecompress, ConcatenatedMembersAndFrames) {
  TempDir dir;
  const std::string a = "{\"title\": \"A\"}\n", b = "{\"title\": \"B\"}\n";
  EXPECT_EQ(read_file_decompressed(dir.write("c.jsonl.gz", gzip(a) + gzip(b))), a + b);
  EXPECT_EQ(read_file_decompressed(dir.write("c.jsonl.xz", xz(a) + xz(b))), a + b);
  EXPECT_EQ(read_file_decompressed(dir.write("c.jsonl.zst", zstd(a) + zstd(b))), a + b);
}

TEST(IoDecompress, CorruptOrTruncatedDataIsAnError) {
  TempDir dir;
  const std::string plain = sample_jsonl();
  for (const auto& packed : {gzip(plain), xz(plain), zstd(plain)}) {
    const std::string truncated = dir.write("t.jsonl.z", packed.substr(0, packed.size() / 2));
    EXPECT_THROW(read_file_decompressed(truncated), InputError);
    std::string flipped = packed;
    for (std::size_t i = 40; i < flipped.size(); i += 997)
      flipped[i] = static_cast<char>(~flipped[i]);
    const std::string corrupt = dir.write("c.jsonl.z", flipped);
    EXPECT_THROW(read_corpus({corrupt}, ReaderOptions{}), InputError);
  }
}

// Bytes after the last stream are corrupt data, named alike for every codec;
// a stream cut short is truncated.
TEST(IoDecompress, TrailingGarbageIsCorruptTruncationIsTruncated) {
  TempDir dir;
  const std::string plain = sample_jsonl();
  const std::vector<std::pair<std::string, std::string>> codecs = {
      {"gzip", gzip(plain)}, {"xz", xz(plain)}, {"zstd", zstd(plain)}};
  for (const auto& [codec, packed] : codecs) {
    for (const std::string& tail : {std::string("garbage after"), std::string("x")}) {
      try {
        read_file_decompressed(dir.write("g.z", packed + tail));
        ADD_FAILURE() << codec << ": trailing bytes accepted";
      } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("corrupt " + codec + " data"), std::string::npos)
            << codec << ": " << e.what();
      }
    }
    try {
      read_file_decompressed(dir.write("t.z", packed.substr(0, packed.size() - 7)));
      ADD_FAILURE() << codec << ": truncated data accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(codec), std::string::npos) << e.what();
    }
  }
  // xz stream padding (NUL bytes in fours) and a second stream are not garbage.
  const std::string x = xz(plain);
  EXPECT_EQ(read_file_decompressed(dir.write("p.xz", x + std::string(8, '\0') + x)), plain + plain);
}

TEST(IoDecompress, StandardInput) {
  TempDir dir;
  const std::string plain =
      "{\"id\": \"s1\", \"title\": \"From stdin\", \"abstract\": \"Piped.\"}\n";
  const std::string p = dir.write("in.bin", xz(plain));
  ASSERT_NE(std::freopen(p.c_str(), "rb", stdin), nullptr);
  Corpus c = read_corpus({"-"}, ReaderOptions{});
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].id, "s1");
  EXPECT_EQ(c.docs[0].source, "stdin:1");
  EXPECT_EQ(c.docs[0].text, "From stdin\nPiped.");
}

TEST(IoDecompress, EmptyAndTinyFiles) {
  TempDir dir;
  EXPECT_EQ(read_file_decompressed(dir.write("empty", "")), "");
  EXPECT_EQ(read_file_decompressed(dir.write("one", "x")), "x");
  EXPECT_EQ(read_file_decompressed(dir.write("e.gz", gzip(""))), "");
  // A file whose size is a whole number of pages: the last record has no
  // readable bytes after it and must be parsed from a copy.
  std::string exact = "{\"title\": \"";
  exact += std::string(4096 - exact.size() - 3, 'a');
  exact += "\"}\n";
  ASSERT_EQ(exact.size(), 4096u);
  Corpus c = read_corpus({dir.write("page.jsonl", exact)}, ReaderOptions{});
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].title.size(), 4096u - 14);
  EXPECT_THROW(read_file_decompressed(dir.write("x", "") + ".missing"), InputError);
}

}  // namespace
}  // namespace papersim
