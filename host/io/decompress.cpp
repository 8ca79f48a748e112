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

std::string too_large_detail(std::uint64_t bytes, std::uint64_t max) {
  return std::to_string(bytes) + " bytes, limit " + std::to_string(max);
}

namespace {

bool compressed(std::string_view in) {
  return starts_with(in, kGzip, sizeof kGzip) || starts_with(in, kXz, sizeof kXz) ||
         starts_with(in, kZstd, sizeof kZstd);
}

// A NUL byte among the first bytes: not text (UTF-8 text corpora have none).
// `head` starts at byte `offset` of the input.
void check_text(const std::string& name, std::string_view head, std::size_t offset = 0) {
  if (offset >= StreamGuard::kProbeBytes) return;
  head = head.substr(0, StreamGuard::kProbeBytes - offset);
  if (const void* nul = std::memchr(head.data(), '\0', head.size())) {
    throw InputError(name, 0,
                     "binary data (a NUL byte at offset " +
                         std::to_string(offset + static_cast<std::size_t>(
                                                     static_cast<const char*>(nul) - head.data())) +
                         "): not a text corpus in a format papersim reads");
  }
}

std::uint64_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0
             ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)
             : std::numeric_limits<std::uint64_t>::max();
}

}  // namespace

StreamGuard::StreamGuard(std::string name, std::size_t max_record, bool cut_lines)
    : name_(std::move(name)),
      max_record_(max_record > 0 ? max_record : ReaderOptions::kDefaultMaxRecordBytes),
      max_total_(physical_memory()),
      lines_(cut_lines) {}

void StreamGuard::check(Sink& sink, std::size_t from) {
  if (off_) return;
  char* b = sink.buf;
  std::size_t end = sink.size;
  const bool first_call = !seen_bytes_;
  seen_bytes_ = true;
  if (first_call && compressed(std::string_view(b, end))) {
    // Compressed bytes are checked once decoded. (A raw read's first call
    // holds a full buffer, or the whole input when shorter.)
    off_ = true;
    return;
  }
  check_text(name_, std::string_view(b + from, end - from), from);
  if (!started_) {
    std::size_t p = from;  // the bytes before `from` are all white space
    while (p < end && is_record_space(b[p])) ++p;
    if (p < end) {
      started_ = true;
      lines_ = lines_ && b[p] != '[';
    }
  }
  if (sink.size > max_total_) {
    throw InputError(name_, 0,
                     "more than " + format_bytes(max_total_) +
                         " (the physical memory) read without an end: an endless input?");
  }
  // Lines are only cut once the first non-space byte tells a JSON array from
  // the rest; the bytes before it are scanned then.
  if (!started_ || !lines_) return;
  std::size_t p = pos_;
  while (p < end) {
    const void* hit = std::memchr(b + p, '\n', end - p);
    if (!dropping_) {
      if (hit == nullptr) {
        if (end - run_start_ > max_record_) {
          // The line is already over the limit: stop keeping its bytes.
          dropped_ = end - run_start_;
          end = run_start_;
          dropping_ = true;
        }
        break;
      }
      std::size_t q = static_cast<std::size_t>(static_cast<const char*>(hit) - b);
      if (q - run_start_ > max_record_) {
        elided_.push_back({line_, q - run_start_});
        std::memmove(b + run_start_, b + q, end - q);
        end -= q - run_start_;
        q = run_start_;
      }
      ++line_;
      p = q + 1;
      run_start_ = p;
    } else {
      if (hit == nullptr) {
        dropped_ += end - p;
        end = p;
        break;
      }
      const std::size_t q = static_cast<std::size_t>(static_cast<const char*>(hit) - b);
      dropped_ += q - p;
      elided_.push_back({line_, dropped_});
      std::memmove(b + p, b + q, end - q);
      end -= q - p;
      dropping_ = false;
      ++line_;
      p = p + 1;
      run_start_ = p;
    }
  }
  sink.size = end;
  pos_ = end;
  if (dropping_ && dropped_ > kEndlessFactor * max_record_) {
    throw InputError(name_, line_,
                     kReasonTooLarge + std::string(" and has no line end after ") +
                         format_bytes(dropped_) + ": an endless input?");
  }
}

void StreamGuard::finish() {
  if (dropping_) elided_.push_back({line_, dropped_});
  dropping_ = false;
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
    out.grew(got);
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
    out.grew(room - zs.avail_out);
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members (as `cat a.gz b.gz` makes) continue the stream.
      if (zs.avail_in == 0 && left == 0) return;
      const std::size_t rest = zs.avail_in + left;
      if (!starts_with(in.substr(in.size() - rest), kGzip, sizeof kGzip)) {
        throw InputError(name, 0,
                         "corrupt gzip data: " + std::to_string(rest) +
                             " bytes after the end of the gzip stream");
      }
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

lzma_ret xz_decoder(lzma_stream& zs, int threads) {
#if LZMA_VERSION >= 50040000
  // Files with several blocks decode in parallel; single-block files just run
  // on one thread.
  lzma_mt mt{};
  mt.flags = 0;
  mt.threads = static_cast<uint32_t>(std::max(1, threads));
  mt.memlimit_threading = std::max<uint64_t>(lzma_physmem() / 4, 1u << 28);
  mt.memlimit_stop = std::numeric_limits<uint64_t>::max();
  return lzma_stream_decoder_mt(&zs, &mt);
#else
  (void)threads;
  return lzma_stream_decoder(&zs, std::numeric_limits<uint64_t>::max(), 0);
#endif
}

// Streams one after another (as `cat a.xz b.xz` makes) are decoded one by
// one, so that bytes after the last stream that are not another stream are
// "corrupt" (as for gzip and zstd), and "truncated" means what it says.
void unxz(const std::string& name, std::string_view in, Sink& out, int threads) {
  std::size_t offset = 0;
  for (;;) {
    lzma_stream zs = LZMA_STREAM_INIT;
    if (xz_decoder(zs, threads) != LZMA_OK) throw InputError(name, 0, "xz decoder init failed");
    std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&zs, lzma_end);
    zs.next_in = reinterpret_cast<const uint8_t*>(in.data() + offset);
    zs.avail_in = in.size() - offset;
    for (;;) {
      std::size_t room = out.avail();
      zs.next_out = reinterpret_cast<uint8_t*>(out.tail());
      zs.avail_out = room;
      const lzma_ret rc = lzma_code(&zs, zs.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
      out.grew(room - zs.avail_out);
      if (rc == LZMA_STREAM_END) break;
      if (rc == LZMA_OK) continue;
      const char* why = rc == LZMA_DATA_ERROR      ? "corrupt xz data"
                        : rc == LZMA_BUF_ERROR     ? "truncated xz data"
                        : rc == LZMA_FORMAT_ERROR  ? "corrupt xz data: not an xz stream"
                        : rc == LZMA_MEM_ERROR     ? "out of memory decoding xz"
                        : rc == LZMA_OPTIONS_ERROR ? "unsupported xz options"
                                                   : "xz decoding failed";
      throw InputError(name, 0, why);
    }
    offset = in.size() - zs.avail_in;
    // Stream padding: NUL bytes between and after streams.
    while (offset < in.size() && in[offset] == '\0') ++offset;
    if (offset == in.size()) return;
    if (!starts_with(in.substr(offset), kXz, sizeof kXz)) {
      throw InputError(name, 0,
                       "corrupt xz data: " + std::to_string(in.size() - offset) +
                           " bytes after the end of the xz stream");
    }
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
    out.grew(dst.pos);
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
  elided_ = std::move(other.elided_);
  other.elided_.clear();
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
void* map_file(const std::string& path, std::size_t& size, bool populate = true) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path, 0, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  void* map = nullptr;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    size = static_cast<std::size_t>(st.st_size);
    map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
    if (map == MAP_FAILED) map = nullptr;
  } else if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw InputError(path, 0, "is a directory");
  }
  ::close(fd);
  return map;
}

void decompress(const std::string& name, std::string_view in, int threads, std::size_t max_record,
                bool cut_lines, InputBuffer& out) {
  Sink sink(in.size() * 8);
  StreamGuard guard(name, max_record, cut_lines);
  sink.guard = &guard;
  if (starts_with(in, kGzip, sizeof kGzip)) {
    gunzip(name, in, sink);
  } else if (starts_with(in, kXz, sizeof kXz)) {
    unxz(name, in, sink, resolve_threads(threads));
  } else if (starts_with(in, kZstd, sizeof kZstd)) {
    unzstd(name, in, sink);
  } else {
    return;
  }
  guard.finish();
  out.own(sink);
  out.elided() = std::move(guard.elided());
}

}  // namespace

InputBuffer map_input(const std::string& path) {
  InputBuffer result;
  std::size_t size = 0;
  if (void* map = map_file(path, size, false)) result.adopt_map(map, size, size);
  return result;
}

bool is_compressed(std::string_view head) { return compressed(head); }

void check_binary(const std::string& name, std::string_view head) { check_text(name, head); }

InputBuffer read_input(const std::string& path, int threads, std::size_t max_record,
                       bool cut_lines) {
  const std::string name = path == "-" ? "stdin" : path;
  InputBuffer result;
  if (path != "-") {
    std::size_t size = 0;
    if (void* map = map_file(path, size)) {
      result.adopt_map(map, size, size);
      if (compressed(result.view())) {
        InputBuffer plain;
        decompress(name, result.view(), threads, max_record, cut_lines, plain);
        return plain;
      }
      check_text(name, result.view());
      return result;
    }
  }
  Sink raw(1 << 20);
  StreamGuard guard(name, max_record, cut_lines);
  raw.guard = &guard;
  read_raw(path, raw);
  guard.finish();
  const std::string_view view(raw.buf, raw.size);
  if (compressed(view)) {
    decompress(name, view, threads, max_record, cut_lines, result);
  } else {
    result.own(raw);
    result.elided() = std::move(guard.elided());
  }
  return result;
}

}  // namespace papersim::io

namespace papersim {

std::string read_file_decompressed(const std::string& path) {
  return io::read_input(path, 0).take_string();
}

}  // namespace papersim
