// The StreamGuard that bounds streamed inputs, fed in chunks of fuzzed sizes.
// Invariant: the kept bytes are the input with the content of every line
// longer than the limit removed (its line end kept), each such line reported
// once with its number and length, whatever the chunking; or an InputError
// for binary data / a line without end past 64x the limit.
#include <cstring>
#include <vector>

#include "fuzz_support.hpp"
#include "io/reader_internal.hpp"
#include "papersim/error.hpp"

using namespace papersim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max = 1 + data[0] % 64;
  const std::size_t step = 1 + data[1] % 97;
  const std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);
  // Compressed streams pass unchecked (read_raw's first call holds the magic).
  if (fuzz::compressed_magic(in)) return 0;
  // The expected result, line by line.
  std::string want;
  std::vector<io::ElidedLine> want_elided;
  std::int64_t line = 1;
  std::size_t longest_open = 0;
  std::size_t first = 0;
  while (first < in.size() && io::is_record_space(in[first])) ++first;
  // A JSON array is cut into elements later, not into lines; white space
  // alone is never cut either (the guard waits for a first byte).
  const bool array = first == in.size() || in[first] == '[';
  for (std::size_t p = 0; p <= in.size();) {
    const std::size_t nl = in.find('\n', p);
    const std::size_t end = nl == std::string_view::npos ? in.size() : nl;
    const std::size_t len = end - p;
    if (!array && len > max) {
      want_elided.push_back({line, len});
    } else {
      want.append(in.substr(p, len));
    }
    if (nl == std::string_view::npos) {
      longest_open = len;
      break;
    }
    want.push_back('\n');
    ++line;
    p = nl + 1;
  }
  const bool binary =
      std::memchr(in.data(), '\0', std::min(in.size(), io::StreamGuard::kProbeBytes));
  io::Sink sink(1);
  io::StreamGuard guard("s", max);
  sink.guard = &guard;
  try {
    for (std::size_t p = 0; p < in.size(); p += step) {
      const std::size_t n = std::min(step, in.size() - p);
      while (sink.avail() < n) {
      }
      std::memcpy(sink.tail(), in.data() + p, n);
      sink.grew(n);
    }
    guard.finish();
  } catch (const InputError& e) {
    PAPERSIM_FUZZ_CHECK(binary || (!array && longest_open > 0) || want_elided.size() > 0, e.what());
    return 0;
  }
  PAPERSIM_FUZZ_CHECK(!binary, "binary data accepted");
  PAPERSIM_FUZZ_CHECK(std::string_view(sink.buf, sink.size) == want, "kept bytes differ");
  const auto& got = guard.elided();
  PAPERSIM_FUZZ_CHECK(got.size() == want_elided.size(), "elided line count");
  for (std::size_t i = 0; i < got.size(); ++i) {
    PAPERSIM_FUZZ_CHECK(got[i].line == want_elided[i].line && got[i].bytes == want_elided[i].bytes,
                        "elided line " + std::to_string(want_elided[i].line));
  }
  return 0;
}
