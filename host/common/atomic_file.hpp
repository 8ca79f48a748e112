#pragma once
// Output files that are either complete or absent. Every file papersim writes
// (results, reports, corpora, index files) goes through AtomicFile: the bytes
// go to a temporary ".<name>.tmp.XXXXXX" in the target's directory, which is
// flushed, fsync'ed and renamed over the target only by commit(). A failed or
// interrupted run removes the temporary and leaves any earlier target as it was.

#include <array>
#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>

namespace papersim {

/// The temporaries being written by one process, so that a signal handler can
/// remove them (see install_signal_cleanup). An explicit object, owned by the
/// caller (the CLI's main) and handed to every AtomicFile; the only global is
/// the pointer the signal handler needs to find it.
class TempFileRegistry {
 public:
  /// Temporaries that can be live at once (a command writes a handful).
  static constexpr int kSlots = 32;
  static constexpr std::size_t kMaxPath = 4096;

  TempFileRegistry() = default;
  TempFileRegistry(const TempFileRegistry&) = delete;
  TempFileRegistry& operator=(const TempFileRegistry&) = delete;

  /// Record `path`; returns a slot for forget(). @throws Error when full or too long.
  int add(const std::string& path);
  /// The temporary is gone (renamed or removed): stop tracking it.
  void forget(int slot) noexcept;
  /// Unlink every tracked temporary. Async-signal-safe: only atomics and unlink(2).
  void remove_all() noexcept;
  /// Tracked temporaries (for tests).
  int live() const noexcept;

 private:
  struct Slot {
    std::atomic<int> state{0};  // 0 free, 1 being filled, 2 live
    char path[kMaxPath];
  };
  std::array<Slot, kSlots> slots_{};
};

/// SIGINT, SIGTERM, SIGHUP and SIGPIPE remove the registry's temporaries and
/// end the process with 128 + the signal number (130 for Ctrl-C, 143 for
/// SIGTERM); a crash (SIGABRT, as std::terminate raises, SIGSEGV, SIGBUS,
/// SIGFPE, SIGILL) removes them and then dies of its signal as before;
/// SIGXFSZ is ignored so that a file-size limit (`ulimit -f`) is a
/// write error (EFBIG) that the writer reports, not a silent kill. The handlers
/// stay until the returned guard is destroyed. This is the one process-wide
/// state of papersim: a signal handler cannot be handed a context.
class SignalCleanup {
 public:
  explicit SignalCleanup(TempFileRegistry& registry);
  ~SignalCleanup();
  SignalCleanup(const SignalCleanup&) = delete;
  SignalCleanup& operator=(const SignalCleanup&) = delete;
};

/// One output: `path`, or standard output for "-". Regular files (new or
/// existing) are written through a temporary in the same directory and
/// replaced by commit(); the new file keeps an existing target's permission
/// bits (a new one gets 0666 minus the umask), and a symbolic link is
/// followed, so the file it names is replaced. Standard output and special
/// files (/dev/null, a FIFO, a terminal) are written directly, streaming.
class AtomicFile {
 public:
  /// Creates the temporary now (so an unwritable directory fails before any
  /// work). `registry` may be null (no signal cleanup).
  /// @throws InputError when the temporary or the special file cannot be opened.
  AtomicFile(const std::string& path, TempFileRegistry* registry);
  /// Removes the temporary unless committed.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Write all of `data`; retries short writes and EINTR.
  /// @throws Error "<path>: write failed: <reason>" (disk full, file too large).
  void write(std::string_view data);
  /// Flush to stable storage and rename the temporary over the target (then
  /// sync the directory). Idempotent. @throws Error on any failure (the
  /// temporary is then removed and the target untouched).
  void commit();
  /// Remove the temporary now (the target stays as it was).
  void discard() noexcept;

  /// The path given to the constructor ("-" for standard output).
  const std::string& path() const { return path_; }
  /// Whether the output is written in place (standard output, special files).
  bool direct() const { return temp_.empty(); }
  /// The temporary's path; empty when direct() or once committed/discarded.
  const std::string& temp_path() const { return temp_; }

 private:
  [[noreturn]] void fail(const char* what, int err);

  std::string path_;    // as given, for messages
  std::string target_;  // the file renamed over (symbolic links resolved)
  std::string temp_;
  TempFileRegistry* registry_ = nullptr;
  int slot_ = -1;
  int fd_ = -1;
  bool owned_fd_ = false;
  bool committed_ = false;
};

}  // namespace papersim
