#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "papersim/error.hpp"

namespace papersim {

int TempFileRegistry::add(const std::string& path) {
  if (path.size() + 1 > kMaxPath) throw Error(path + ": temporary file path too long");
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    Slot& s = slots_[static_cast<std::size_t>(i)];
    if (s.state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      std::memcpy(s.path, path.c_str(), path.size() + 1);
      s.state.store(2, std::memory_order_release);
      return i;
    }
  }
  throw Error("too many output files open at once (at most " + std::to_string(kSlots) + ")");
}

void TempFileRegistry::forget(int slot) noexcept {
  if (slot >= 0 && slot < kSlots) slots_[static_cast<std::size_t>(slot)].state.store(0);
}

void TempFileRegistry::remove_all() noexcept {
  for (auto& s : slots_) {
    if (s.state.load(std::memory_order_acquire) == 2) ::unlink(s.path);
  }
}

int TempFileRegistry::live() const noexcept {
  int n = 0;
  for (const auto& s : slots_) n += s.state.load() == 2;
  return n;
}

namespace {

// The signal handler's way to the registry: the one process-wide pointer.
std::atomic<TempFileRegistry*> g_signal_registry{nullptr};

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
struct sigaction g_previous[sizeof kCleanupSignals / sizeof kCleanupSignals[0]];
struct sigaction g_previous_xfsz;

// Crashes (an abort from std::terminate, a fault): remove the temporaries, then
// die of the same signal, so the exit status and any core dump stay as they were.
constexpr int kFatalSignals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
struct sigaction g_previous_fatal[sizeof kFatalSignals / sizeof kFatalSignals[0]];

extern "C" void cleanup_and_exit(int sig) {
  if (TempFileRegistry* r = g_signal_registry.load()) r->remove_all();
  _exit(128 + sig);
}

extern "C" void cleanup_and_die(int sig) {
  if (TempFileRegistry* r = g_signal_registry.load()) r->remove_all();
  // SA_RESETHAND restored the default action: the signal now ends the process.
  raise(sig);
}

// Blocks the cleanup signals for a scope, so that a temporary is never
// created without being registered.
class BlockSignals {
 public:
  BlockSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kCleanupSignals) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~BlockSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

mode_t current_umask() {
  const mode_t m = ::umask(0);
  ::umask(m);
  return m;
}

}  // namespace

SignalCleanup::SignalCleanup(TempFileRegistry& registry) {
  g_signal_registry.store(&registry);
  struct sigaction sa {};
  sa.sa_handler = cleanup_and_exit;
  sigemptyset(&sa.sa_mask);
  for (int s : kCleanupSignals) sigaddset(&sa.sa_mask, s);
  for (std::size_t i = 0; i < sizeof kCleanupSignals / sizeof kCleanupSignals[0]; ++i) {
    sigaction(kCleanupSignals[i], &sa, &g_previous[i]);
  }
  struct sigaction fatal {};
  fatal.sa_handler = cleanup_and_die;
  fatal.sa_flags = SA_RESETHAND | SA_NODEFER;
  sigemptyset(&fatal.sa_mask);
  for (std::size_t i = 0; i < sizeof kFatalSignals / sizeof kFatalSignals[0]; ++i) {
    sigaction(kFatalSignals[i], &fatal, &g_previous_fatal[i]);
  }
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGXFSZ, &ignore, &g_previous_xfsz);
}

SignalCleanup::~SignalCleanup() {
  for (std::size_t i = 0; i < sizeof kCleanupSignals / sizeof kCleanupSignals[0]; ++i) {
    sigaction(kCleanupSignals[i], &g_previous[i], nullptr);
  }
  for (std::size_t i = 0; i < sizeof kFatalSignals / sizeof kFatalSignals[0]; ++i) {
    sigaction(kFatalSignals[i], &g_previous_fatal[i], nullptr);
  }
  sigaction(SIGXFSZ, &g_previous_xfsz, nullptr);
  g_signal_registry.store(nullptr);
}

AtomicFile::AtomicFile(const std::string& path, TempFileRegistry* registry)
    : path_(path), target_(path), registry_(registry) {
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    return;
  }
  if (path.empty()) throw InputError(path, 0, "empty output file name");
  namespace fs = std::filesystem;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // Replace the file the link names, not the link.
    std::error_code ec;
    const fs::path resolved = fs::weakly_canonical(path, ec);
    if (!ec) target_ = resolved.string();
  }
  const bool exists = ::stat(target_.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw InputError(path, 0, "cannot write: is a directory");
  if (exists && !S_ISREG(st.st_mode)) {
    // /dev/null, /dev/stdout, a FIFO, a terminal: nothing to replace.
    fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) {
      throw InputError(path, 0, std::string("cannot open for writing: ") + std::strerror(errno));
    }
    owned_fd_ = true;
    return;
  }
  const fs::path t(target_);
  const std::string dir = t.has_parent_path() ? t.parent_path().string() : std::string(".");
  const std::string prefix = dir + "/." + t.filename().string() + ".tmp.";
  {
    // The name is registered before the file exists: a signal may be handled
    // by any thread (BlockSignals masks only this one; BLAS and worker threads
    // do not), so a file created first could be left behind by a handler that
    // ran before its registration. Unlinking a registered name that was not
    // created yet is harmless.
    BlockSignals blocked;
    std::random_device entropy;
    std::mt19937_64 rng((static_cast<std::uint64_t>(entropy()) << 32) ^ entropy() ^
                        static_cast<std::uint64_t>(::getpid()));
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0;; ++attempt) {
      std::string name = prefix;
      for (int i = 0; i < 12; ++i) name.push_back(kAlphabet[rng() % (sizeof kAlphabet - 1)]);
      if (registry_) slot_ = registry_->add(name);
      fd_ = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd_ >= 0) {
        temp_ = name;
        owned_fd_ = true;
        break;
      }
      const int err = errno;
      if (registry_) registry_->forget(slot_);
      slot_ = -1;
      if (err != EEXIST || attempt >= 100)
        throw InputError(path, 0, std::string("cannot create output file: ") + std::strerror(err));
    }
  }
  const mode_t mode = exists ? (st.st_mode & 07777) : (0666 & ~current_umask());
  if (::fchmod(fd_, mode) != 0) fail("cannot set permissions", errno);
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::fail(const char* what, int err) {
  discard();
  throw Error(path_ + ": " + what + ": " + std::strerror(err));
}

void AtomicFile::write(std::string_view data) {
  if (fd_ < 0) throw Error(path_ + ": write after the file was closed");
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed", errno);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void AtomicFile::commit() {
  if (committed_) return;
  if (fd_ < 0) throw Error(path_ + ": commit after the file was discarded");
  if (temp_.empty()) {
    if (owned_fd_) {
      const int fd = fd_;
      fd_ = -1;
      owned_fd_ = false;
      if (::close(fd) != 0) fail("write failed", errno);
    }
    committed_ = true;
    return;
  }
  if (::fsync(fd_) != 0 && errno != EINVAL) fail("write failed (fsync)", errno);
  const int fd = fd_;
  fd_ = -1;
  owned_fd_ = false;
  if (::close(fd) != 0) fail("write failed (close)", errno);
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail("cannot replace the file", errno);
  if (registry_) registry_->forget(slot_);
  slot_ = -1;
  temp_.clear();
  committed_ = true;
  // Make the rename itself durable.
  const std::filesystem::path t(target_);
  const std::string dir = t.has_parent_path() ? t.parent_path().string() : std::string(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void AtomicFile::discard() noexcept {
  if (owned_fd_ && fd_ >= 0) ::close(fd_);
  owned_fd_ = false;
  fd_ = -1;
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    if (registry_) registry_->forget(slot_);
    slot_ = -1;
    temp_.clear();
  }
}

}  // namespace papersim
