#include "common/util.hpp"

#include <sys/resource.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace papersim {

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void parallel_for_worker(std::int64_t n, int threads,
                         const std::function<void(std::int64_t, int)>& fn, std::int64_t grain) {
  if (n <= 0) return;
  threads = resolve_threads(threads);
  if (grain < 1) grain = 1;
  const std::int64_t chunks = (n + grain - 1) / grain;
  if (threads > chunks) threads = static_cast<int>(chunks);
  if (threads <= 1) {
    for (std::int64_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::atomic<std::int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&](int worker) {
    try {
      for (;;) {
        std::int64_t begin = next.fetch_add(grain);
        if (begin >= n) break;
        std::int64_t end = begin + grain < n ? begin + grain : n;
        for (std::int64_t i = begin; i < end; ++i) fn(i, worker);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(n);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

void parallel_for(std::int64_t n, int threads, const std::function<void(std::int64_t)>& fn,
                  std::int64_t grain) {
  parallel_for_worker(
      n, threads, [&](std::int64_t i, int) { fn(i); }, grain);
}

std::size_t peak_rss_bytes() {
  // VmHWM of this process: Linux carries ru_maxrss across execve, so a process
  // started by a large parent would report the parent's peak.
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f != nullptr) {
    char line[256];
    while (std::fgets(line, sizeof(line), f) != nullptr) {
      unsigned long long kib = 0;
      if (std::sscanf(line, "VmHWM: %llu kB", &kib) == 1) {
        std::fclose(f);
        return static_cast<std::size_t>(kib) * 1024;
      }
    }
    std::fclose(f);
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::size_t>(usage.ru_maxrss) * 1024;
}

std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t* code_point) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len;
  std::uint32_t min;
  if (c < 0x80) {
    *code_point = c;
    return 1;
  }
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  std::uint32_t cp = c & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *code_point = cp;
  return len;
}

void append_json_string(std::string& out, std::string_view s, bool script_safe) {
  static const char* kHex = "0123456789abcdef";
  auto escape_u = [&](std::uint32_t cp) {
    out += "\\u";
    out.push_back(kHex[(cp >> 12) & 15]);
    out.push_back(kHex[(cp >> 8) & 15]);
    out.push_back(kHex[(cp >> 4) & 15]);
    out.push_back(kHex[cp & 15]);
  };
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_decode(s, i, &cp);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (len > 1) {
      // Line and paragraph separators end a JavaScript line in older engines.
      if (script_safe && (cp == 0x2028 || cp == 0x2029)) {
        escape_u(cp);
      } else {
        out.append(s.data() + i, len);
      }
      i += len;
      continue;
    }
    switch (s[i]) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
      case '>':
      case '&':
        if (script_safe) {
          escape_u(cp);
        } else {
          out.push_back(s[i]);
        }
        break;
      default:
        if (cp < 0x20 || cp == 0x7F) {
          escape_u(cp);
        } else {
          out.push_back(s[i]);
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_string(out, s);
  return out;
}

std::string format_score(float v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

std::string format_bytes(std::size_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

std::string format_count(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count && count % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++count;
  }
  if (n < 0) out.push_back('-');
  return std::string(out.rbegin(), out.rend());
}

}  // namespace papersim
