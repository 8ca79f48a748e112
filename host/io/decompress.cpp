// Whole-file input with transparent gzip / xz / zstd decompression, chosen by
// magic bytes so a misnamed file still reads.
#include <fcntl.h>
#include <lzma.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>

#include "common/util.hpp"
#include "io/reader_internal.hpp"
#include "papersim/error.hpp"
#include "papersim/reader.hpp"

namespace papersim::io {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

bool starts_with(std::string_view s, const unsigned char* magic, std::size_t n) {
  return s.size() >= n && std::memcmp(s.data(), magic, n) == 0;
}

constexpr unsigned char kGzip[] = {0x1f, 0x8b};
constexpr unsigned char kXz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
constexpr unsigned char kZstd[] = {0x28, 0xb5, 0x2f, 0xfd};

}  // namespace

// Output buffer on malloc/realloc: capacity never written is never resident
// (large blocks are fresh mappings), and growth can move pages instead of
// copying them. `size` bytes are content; kPadding spare bytes always follow.
Sink::Sink(std::size_t hint) : cap(std::max<std::size_t>(hint, 1 << 16) + kPadding) {
  buf = static_cast<char*>(std::malloc(cap));
  if (!buf) throw std::bad_alloc();
}

Sink::~Sink() { std::free(buf); }

std::size_t Sink::avail() {
  if (cap - size < kPadding + (1 << 16)) {
    char* grown = static_cast<char*>(std::realloc(buf, cap * 2));
    if (!grown) throw std::bad_alloc();
    buf = grown;
    cap *= 2;
  }
  return cap - size - kPadding;
}

char* Sink::release(std::size_t& capacity) {
  char* out = buf;
  capacity = cap;
  buf = nullptr;
  cap = size = 0;
  return out;
}

namespace {

// Read a file that cannot be mapped, or stdin, whole.
void read_raw(const std::string& path, Sink& out) {
  std::unique_ptr<std::FILE, FileCloser> owned;
  std::FILE* f = stdin;
  if (path != "-") {
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) throw InputError(path, 0, std::string("cannot open: ") + std::strerror(errno));
    f = owned.get();
  }
  for (;;) {
    const std::size_t want = out.avail();
    const std::size_t got = std::fread(out.tail(), 1, want, f);
    out.size += got;
    if (got < want) {
      if (std::ferror(f)) {
        throw InputError(path == "-" ? "stdin" : path, 0,
                         std::string("read error: ") + std::strerror(errno));
      }
      return;
    }
  }
}

void gunzip(const std::string& name, std::string_view in, Sink& out) {
  z_stream zs{};
  // 15 + 32: zlib or gzip header, detected automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw InputError(name, 0, "zlib init failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  std::size_t left = in.size();
  for (;;) {
    // zlib counts in 32-bit units: feed large inputs piecewise.
    if (zs.avail_in == 0 && left > 0) {
      zs.avail_in = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
      left -= zs.avail_in;
    }
    std::size_t room = std::min<std::size_t>(out.avail(), 1u << 30);
    zs.next_out = reinterpret_cast<Bytef*>(out.tail());
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.size += room - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members (as `cat a.gz b.gz` makes) continue the stream.
      if (zs.avail_in == 0 && left == 0) return;
      if (inflateReset(&zs) != Z_OK) throw InputError(name, 0, "corrupt gzip data");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
      throw InputError(name, 0, "truncated gzip data");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw InputError(name, 0,
                       std::string("corrupt gzip data: ") + (zs.msg ? zs.msg : "inflate failed"));
    }
  }
}

void unxz(const std::string& name, std::string_view in, Sink& out, int threads) {
  lzma_stream zs = LZMA_STREAM_INIT;
  lzma_ret rc;
#if LZMA_VERSION >= 50040000
  // Files with several blocks decode in parallel; single-block files just run
  // on one thread.
  lzma_mt mt{};
  mt.flags = LZMA_CONCATENATED;
  mt.threads = static_cast<uint32_t>(std::max(1, threads));
  mt.memlimit_threading = std::max<uint64_t>(lzma_physmem() / 4, 1u << 28);
  mt.memlimit_stop = std::numeric_limits<uint64_t>::max();
  rc = lzma_stream_decoder_mt(&zs, &mt);
#else
  (void)threads;
  rc = lzma_stream_decoder(&zs, std::numeric_limits<uint64_t>::max(), LZMA_CONCATENATED);
#endif
  if (rc != LZMA_OK) throw InputError(name, 0, "xz decoder init failed");
  std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&zs, lzma_end);
  zs.next_in = reinterpret_cast<const uint8_t*>(in.data());
  zs.avail_in = in.size();
  for (;;) {
    std::size_t room = out.avail();
    zs.next_out = reinterpret_cast<uint8_t*>(out.tail());
    zs.avail_out = room;
    rc = lzma_code(&zs, zs.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
    out.size += room - zs.avail_out;
    if (rc == LZMA_STREAM_END) return;
    if (rc == LZMA_OK) continue;
    const char* why = rc == LZMA_DATA_ERROR      ? "corrupt xz data"
                      : rc == LZMA_BUF_ERROR     ? "truncated xz data"
                      : rc == LZMA_FORMAT_ERROR  ? "not xz data"
                      : rc == LZMA_MEM_ERROR     ? "out of memory decoding xz"
                      : rc == LZMA_OPTIONS_ERROR ? "unsupported xz options"
                                                 : "xz decoding failed";
    throw InputError(name, 0, why);
  }
}

void unzstd(const std::string& name, std::string_view in, Sink& out) {
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) throw InputError(name, 0, "zstd init failed");
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  std::size_t last = 1;
  while (src.pos < src.size || last != 0) {
    std::size_t room = out.avail();
    ZSTD_outBuffer dst{out.tail(), room, 0};
    std::size_t before = src.pos;
    last = ZSTD_decompressStream(ctx.get(), &dst, &src);
    out.size += dst.pos;
    if (ZSTD_isError(last)) {
      throw InputError(name, 0, std::string("corrupt zstd data: ") + ZSTD_getErrorName(last));
    }
    // Input exhausted inside a frame, and no progress possible: truncated.
    if (last != 0 && src.pos == src.size && src.pos == before && dst.pos == 0) {
      throw InputError(name, 0, "truncated zstd data");
    }
  }
}

}  // namespace

InputBuffer& InputBuffer::operator=(InputBuffer&& other) noexcept {
  if (this == &other) return *this;
  release();
  heap_ = other.heap_;
  map_ = other.map_;
  map_len_ = other.map_len_;
  data_ = other.data_;
  size_ = other.size_;
  readable_ = other.readable_;
  released_ = other.released_;
  other.released_ = nullptr;
  other.heap_ = nullptr;
  other.map_ = nullptr;
  other.map_len_ = other.size_ = other.readable_ = 0;
  other.data_ = nullptr;
  return *this;
}

void InputBuffer::own(Sink& sink) {
  release();
  size_ = sink.size;
  std::size_t cap = 0;
  heap_ = sink.release(cap);
  // Give back what the content does not use; spaces as padding keep the
  // memory initialized and are harmless to every parser.
  if (cap > size_ + kPadding + (1 << 20)) {
    if (char* shrunk = static_cast<char*>(std::realloc(heap_, size_ + kPadding))) heap_ = shrunk;
  }
  std::memset(heap_ + size_, ' ', kPadding);
  data_ = heap_;
  readable_ = size_ + kPadding;
}

void InputBuffer::adopt_map(void* map, std::size_t map_len, std::size_t size) {
  release();
  map_ = map;
  map_len_ = map_len;
  data_ = static_cast<const char*>(map);
  size_ = size;
  // The kernel zero-fills the last page past the end of the file.
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  readable_ = (size + page - 1) / page * page;
}

void InputBuffer::release_before(const char* end) {
  if (data_ == nullptr || end <= data_) return;
  if (end > data_ + size_) end = data_ + size_;
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  // Whole pages only, and none shared with bytes before data_ (a heap
  // buffer's allocator header) or at/after `end`.
  const std::uintptr_t lo =
      (reinterpret_cast<std::uintptr_t>(released_ ? released_ : data_) + page - 1) / page * page;
  const std::uintptr_t hi = reinterpret_cast<std::uintptr_t>(end) / page * page;
  if (hi <= lo) return;
  madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
  released_ = reinterpret_cast<const char*>(hi);
}

std::string InputBuffer::take_string() {
  std::string out(data_ ? data_ : "", size_);
  release();
  return out;
}

void InputBuffer::release() {
  if (map_) munmap(map_, map_len_);
  std::free(heap_);
  heap_ = nullptr;
  map_ = nullptr;
  map_len_ = 0;
  data_ = nullptr;
  released_ = nullptr;
  size_ = readable_ = 0;
}

namespace {

// Map a regular file read-only; nullptr when it cannot be mapped (a pipe, a
// special file, an empty file), in which case the caller reads it instead.
void* map_file(const std::string& path, std::size_t& size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path, 0, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  void* map = nullptr;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    size = static_cast<std::size_t>(st.st_size);
    map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (map == MAP_FAILED) map = nullptr;
  } else if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw InputError(path, 0, "is a directory");
  }
  ::close(fd);
  return map;
}

void decompress(const std::string& name, std::string_view in, int threads, InputBuffer& out) {
  Sink sink(in.size() * 8);
  if (starts_with(in, kGzip, sizeof kGzip)) {
    gunzip(name, in, sink);
  } else if (starts_with(in, kXz, sizeof kXz)) {
    unxz(name, in, sink, resolve_threads(threads));
  } else if (starts_with(in, kZstd, sizeof kZstd)) {
    unzstd(name, in, sink);
  } else {
    return;
  }
  out.own(sink);
}

bool compressed(std::string_view in) {
  return starts_with(in, kGzip, sizeof kGzip) || starts_with(in, kXz, sizeof kXz) ||
         starts_with(in, kZstd, sizeof kZstd);
}

}  // namespace

InputBuffer read_input(const std::string& path, int threads) {
  const std::string name = path == "-" ? "stdin" : path;
  InputBuffer result;
  if (path != "-") {
    std::size_t size = 0;
    if (void* map = map_file(path, size)) {
      result.adopt_map(map, size, size);
      if (compressed(result.view())) {
        InputBuffer plain;
        decompress(name, result.view(), threads, plain);
        return plain;
      }
      return result;
    }
  }
  Sink raw(1 << 20);
  read_raw(path, raw);
  const std::string_view view(raw.buf, raw.size);
  if (compressed(view)) {
    decompress(name, view, threads, result);
  } else {
    result.own(raw);
  }
  return result;
}

}  // namespace papersim::io

namespace papersim {

std::string read_file_decompressed(const std::string& path) {
  return io::read_input(path, 0).take_string();
}

}  // namespace papersim
