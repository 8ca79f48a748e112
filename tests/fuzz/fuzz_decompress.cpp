// Decompression on arbitrary bytes, and round trips. Invariants: bytes that
// are not compressed read back unchanged (or are refused as binary when a
// NUL byte is among the first 64 KiB); the input compressed with gzip, xz or
// zstd (chosen by the first byte) decodes to exactly the input; corrupt data
// is an InputError, never a crash or another exception.
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "fuzz_support.hpp"
#include "io/reader_internal.hpp"
#include "papersim/error.hpp"
#include "papersim/reader.hpp"

using namespace papersim;

namespace {

std::string gzip(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string xz(std::string_view in) {
  std::string out(lzma_stream_buffer_bound(in.size()), '\0');
  std::size_t pos = 0;
  if (lzma_easy_buffer_encode(0, LZMA_CHECK_CRC32, nullptr,
                              reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                              reinterpret_cast<uint8_t*>(&out[0]), &pos, out.size()) != LZMA_OK)
    std::abort();
  out.resize(pos);
  return out;
}

std::string zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const std::size_t n = ZSTD_compress(&out[0], out.size(), in.data(), in.size(), 1);
  if (ZSTD_isError(n)) std::abort();
  out.resize(n);
  return out;
}

bool has_nul_in_probe(std::string_view d) {
  const std::string_view probe = d.substr(0, io::StreamGuard::kProbeBytes);
  return std::memchr(probe.data(), '\0', probe.size()) != nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemFile file;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // 1. The bytes as they are.
  try {
    const std::string out = read_file_decompressed(file.write(in));
    if (!fuzz::compressed_magic(in)) PAPERSIM_FUZZ_CHECK(out == in, "plain bytes changed");
    PAPERSIM_FUZZ_CHECK(!has_nul_in_probe(out), "binary data accepted");
  } catch (const InputError& e) {
    PAPERSIM_FUZZ_CHECK(fuzz::compressed_magic(in) || has_nul_in_probe(in), e.what());
  }
  // 2. A round trip through a real encoder; 3. the same, cut short or with bytes appended.
  if (size == 0) return 0;
  const std::string_view body = in.substr(1);
  const std::string packed = data[0] % 3 == 0   ? gzip(body)
                             : data[0] % 3 == 1 ? xz(body)
                                                : zstd(body);
  try {
    const std::string out = read_file_decompressed(file.write(packed));
    PAPERSIM_FUZZ_CHECK(out == body, "round trip differs");
  } catch (const InputError& e) {
    PAPERSIM_FUZZ_CHECK(has_nul_in_probe(body), e.what());
  }
  const std::size_t cut = data[0] % packed.size();
  try {
    read_file_decompressed(file.write(packed.substr(0, cut)));
  } catch (const InputError&) {
  }
  try {
    read_file_decompressed(file.write(packed + std::string(body.substr(0, 16))));
  } catch (const InputError&) {
  }
  return 0;
}
