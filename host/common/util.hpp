#pragma once
// Small host utilities shared by every component: threads, memory, JSON text.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace papersim {

/// Worker count for a request: `requested` > 0 as given, else all hardware threads.
int resolve_threads(int requested);

/// Run fn(i) for i in [0, n) on `threads` threads, handing out indices
/// dynamically (chunks of `grain`). Exceptions from workers are rethrown.
void parallel_for(std::int64_t n, int threads, const std::function<void(std::int64_t)>& fn,
                  std::int64_t grain = 1);

/// Same, also passing the worker index in [0, threads) for per-thread scratch.
void parallel_for_worker(std::int64_t n, int threads,
                         const std::function<void(std::int64_t, int)>& fn, std::int64_t grain = 1);

/// Peak resident set size of this process in bytes (VmHWM, not ru_maxrss, which survives exec).
std::size_t peak_rss_bytes();

/// Length (1 to 4) of the valid UTF-8 sequence starting at s[i], storing its code
/// point; 0 for an invalid, overlong, surrogate or truncated sequence.
std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t* code_point);

/// Append `s` to `out` as a JSON string literal (with quotes), escaping
/// control characters, quotes and backslashes; invalid UTF-8 becomes U+FFFD.
/// `script_safe` also escapes `<`, `>`, `&`, U+2028 and U+2029, so the literal
/// can sit inside an HTML `<script>` element.
void append_json_string(std::string& out, std::string_view s, bool script_safe = false);
std::string json_string(std::string_view s);

/// Shortest round-trip decimal text of a float ("0.83", "1").
std::string format_score(float v);

/// "1.23 GiB", "512 MiB", ...
std::string format_bytes(std::size_t bytes);
/// "3.4e9" style compact counts: "12,345,678".
std::string format_count(std::int64_t n);

}  // namespace papersim
