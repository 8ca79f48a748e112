#pragma once
// Shared by the libFuzzer targets: an in-memory file to hand the readers a
// path, an independent UTF-8 check, and an invariant check that aborts (so
// libFuzzer saves the input) with a message.

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace papersim::fuzz {

#define PAPERSIM_FUZZ_CHECK(cond, what)                                                          \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d): %s\n", #cond, __FILE__, __LINE__, \
                   std::string(what).c_str());                                                   \
      std::abort();                                                                              \
    }                                                                                            \
  } while (0)

/// A memfd rewritten per input; path() names it for APIs that take paths.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("papersim-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) std::abort();
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string& write(std::string_view data) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n =
          pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

/// UTF-8 as RFC 3629 defines it (no overlongs, no surrogates, <= U+10FFFF),
/// written independently of the simdjson validator the readers use.
inline bool utf8_ok(std::string_view s) {
  std::size_t i = 0;
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    const unsigned c = u[i];
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c >> 5) == 0x6) {
      n = 1, cp = c & 0x1F;
    } else if ((c >> 4) == 0xE) {
      n = 2, cp = c & 0x0F;
    } else if ((c >> 3) == 0x1E) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // the continuation bytes are cut off
    for (std::size_t k = 1; k <= n; ++k) {
      if ((u[i + k] >> 6) != 0x2) return false;
      cp = (cp << 6) | (u[i + k] & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

/// Whether `data` starts like a compressed stream the readers decode.
inline bool compressed_magic(std::string_view d) {
  auto starts = [&](std::string_view m) { return d.substr(0, m.size()) == m; };
  return starts(std::string_view("\x1f\x8b", 2)) ||
         starts(std::string_view("\xfd"
                                 "7zXZ\0",
                                 6)) ||
         starts(std::string_view("\x28\xb5\x2f\xfd", 4));
}

}  // namespace papersim::fuzz
