// AtomicFile and TempFileRegistry: complete or untouched targets, no stray
// temporaries, errors that name the file and the cause.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.hpp"
#include "papersim/error.hpp"
#include "temp_dir.hpp"

namespace papersim {
namespace {

using test::TempDir;

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int entries(const TempDir& d) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.path())) n += !e.path().empty();
  return n;
}

TEST(AtomicFile, CommitReplacesDestructionWithoutCommitLeavesTheOldFile) {
  TempDir dir;
  const std::string target = dir.write("out.txt", "old");
  TempFileRegistry temps;
  {
    AtomicFile f(target, &temps);
    EXPECT_FALSE(f.direct());
    EXPECT_EQ(temps.live(), 1);
    EXPECT_EQ(f.temp_path().find(dir.path() + "/.out.txt.tmp."), 0u) << f.temp_path();
    f.write("new, half");
    EXPECT_EQ(slurp(target), "old");
  }
  EXPECT_EQ(slurp(target), "old");
  EXPECT_EQ(temps.live(), 0);
  EXPECT_EQ(entries(dir), 1);
  {
    AtomicFile f(target, &temps);
    f.write("new");
    f.commit();
    f.commit();  // idempotent
    EXPECT_TRUE(f.temp_path().empty());
  }
  EXPECT_EQ(slurp(target), "new");
  EXPECT_EQ(entries(dir), 1);
  EXPECT_EQ(temps.live(), 0);
}

TEST(AtomicFile, RegistryRemovesLiveTemporaries) {
  TempDir dir;
  TempFileRegistry temps;
  AtomicFile a(dir / "a", &temps), b(dir / "b", &temps);
  a.write("x");
  EXPECT_EQ(temps.live(), 2);
  EXPECT_EQ(entries(dir), 2);
  temps.remove_all();  // what the signal handler does
  EXPECT_EQ(entries(dir), 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "a"));
}

TEST(AtomicFile, NewFilesGetUmaskModeExistingKeepTheirs) {
  TempDir dir;
  const std::string existing = dir.write("e", "x");
  ASSERT_EQ(::chmod(existing.c_str(), 0604), 0);
  for (const std::string& p : {existing, dir / "fresh"}) {
    AtomicFile f(p, nullptr);
    f.write("y");
    f.commit();
  }
  struct stat st {};
  ASSERT_EQ(::stat(existing.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0604u);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ASSERT_EQ(::stat((dir / "fresh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u & ~mask);
}

TEST(AtomicFile, SpecialFilesAreWrittenDirectly) {
  AtomicFile null("/dev/null", nullptr);
  EXPECT_TRUE(null.direct());
  null.write("ignored");
  null.commit();
  if (std::filesystem::exists("/dev/full")) {
    AtomicFile full("/dev/full", nullptr);
    try {
      full.write(std::string(1 << 16, 'x'));
      full.commit();
      ADD_FAILURE() << "no error writing /dev/full";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("/dev/full: write failed: No space left on device"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(AtomicFile, UncreatableOutputsAreInputErrors) {
  TempDir dir;
  EXPECT_THROW(AtomicFile(dir / "missing-dir/out", nullptr), InputError);
  EXPECT_THROW(AtomicFile(dir.path(), nullptr), InputError);
  EXPECT_EQ(entries(dir), 0);
}

// In a child: live temporaries, then `sig` (or an abort); returns the wait status.
int die_with_temporaries(const TempDir& dir, int sig) {
  const pid_t pid = fork();
  if (pid == 0) {
    const struct rlimit no_core { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);  // the crash is the point, its core dump is not
    TempFileRegistry temps;
    SignalCleanup cleanup(temps);
    AtomicFile a(dir / "a", &temps), b(dir / "b", &temps);
    a.write("partial");
    if (sig == SIGABRT) std::abort();
    raise(sig);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(SignalCleanup, SignalsAndCrashesRemoveTemporaries) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
    TempDir dir;
    const int status = die_with_temporaries(dir, sig);
    ASSERT_TRUE(WIFEXITED(status)) << sig;
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
    EXPECT_EQ(entries(dir), 0) << sig;
  }
  for (int sig : {SIGABRT, SIGSEGV}) {
    TempDir dir;
    const int status = die_with_temporaries(dir, sig);
    ASSERT_TRUE(WIFSIGNALED(status)) << sig;
    EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_EQ(entries(dir), 0) << sig;
  }
}

}  // namespace
}  // namespace papersim
