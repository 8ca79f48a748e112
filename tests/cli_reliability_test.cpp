// The CLI's guarantees on hostile inputs and failing outputs: no hang, an
// output never names an input, outputs are complete or untouched, signals and
// full disks leave no temporaries and no damaged earlier results.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cli_support.hpp"

namespace papersim::test {
namespace {

class Reliability : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bin().empty()) GTEST_SKIP() << "PAPERSIM_BIN not set";
    input_ = tmp_.write("in.jsonl",
                        "{\"id\":\"a\",\"title\":\"Sparse matrices\",\"abstract\":\"We multiply "
                        "sparse matrices.\"}\n"
                        "{\"id\":\"b\",\"title\":\"Dense matrices\",\"abstract\":\"We multiply "
                        "dense matrices.\"}\n"
                        "{\"id\":\"c\",\"title\":\"Graphs\",\"abstract\":\"We colour sparse "
                        "graphs.\"}\n");
  }
  // Exit code of `papersim ARGS` (bounded by `timeout`: a hang fails, not blocks).
  int code(const std::string& args, std::string* err = nullptr) {
    const std::string errfile = tmp_ / "err.txt";
    int c = run("timeout 120 " + quote(bin()) + " " + args, errfile).exit_code;
    if (err) *err = read_file(errfile);
    return c;
  }
  // A good earlier result, to check that failed runs leave it alone.
  std::string make_keep() {
    const std::string keep = tmp_ / "keep.jsonl";
    EXPECT_EQ(code("related " + quote(input_) + " -q --backend cpu -o " + quote(keep)), 0);
    const std::string content = read_file(keep);
    EXPECT_EQ(lines(content).size(), 3u);
    return content;
  }
  // No ".<name>.tmp.*" left in the directory.
  int temporaries() const {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(tmp_.path())) {
      n += e.path().filename().string().find(".tmp.") != std::string::npos;
    }
    return n;
  }
  TempDir tmp_;
  std::string input_;
};

TEST_F(Reliability, JsonScannerReproducersEnd) {
  const std::string r = "{\"title\":\"Sparse matrices\",\"abstract\":\"We multiply.\"}";
  for (const std::string& content : {std::string(","), r + "]", r + ",", "\f[" + r + "]",
                                     "\v" + r + "\n" + r, std::string("\f[")}) {
    const std::string p = tmp_.write("a.json", content);
    std::string err;
    const int c =
        code("related " + quote(p) + " -q --backend cpu -o " + quote(tmp_ / "o.jsonl"), &err);
    // Records read: success; none: "empty corpus" (2). Never the timeout's 124.
    EXPECT_TRUE(c == 0 || (c == 2 && err.find("empty corpus") != std::string::npos))
        << content << ": exit " << c << ": " << err;
    const std::string t = tmp_.write("a.txt", content);
    const int d = code("related " + quote(t) + " -q --backend cpu -o /dev/null", &err);
    EXPECT_TRUE(d >= 0 && d <= 2) << content << ": exit " << d << ": " << err;
  }
}

TEST_F(Reliability, OutputNamingAnInputIsRefusedBeforeReading) {
  const std::string before = read_file(input_);
  const std::string rel = std::filesystem::relative(input_).string();
  std::string err;
  for (const std::string& args :
       {"related " + quote(input_) + " -o " + quote(input_),
        "related " + quote(rel) + " -o " + quote(input_),
        "related " + quote(input_) + " -o " + quote("./" + rel),
        "duplicates " + quote(input_) + " -o /dev/null --clusters " + quote(input_),
        "duplicates " + quote(tmp_.write("q.jsonl", before)) + " --against " + quote(input_) +
            " -o " + quote(input_),
        "report " + quote(input_) + " -o " + quote(input_),
        "vectorize " + quote(input_) + " --out-docs " + quote(input_),
        "vectorize " + quote(input_) + " --out-matrix " + quote(input_),
        "check " + quote(tmp_.write("s.jsonl", before)) + " --against " + quote(input_) +
            " -o " + quote(input_),
        "check " + quote(input_) + " -o /dev/null --report " + quote(input_),
        "dedup " + quote(input_) + " -o " + quote(input_),
        "dedup " + quote(input_) + " -o /dev/null --removed " + quote(input_),
        "index build " + quote(input_) + " -o " + quote(input_)}) {
    EXPECT_EQ(code(args, &err), 2) << args;
    EXPECT_NE(err.find("refusing to overwrite an input"), std::string::npos) << err;
    EXPECT_EQ(read_file(input_), before) << args;
  }
  // An index is an input of `index related` and of queries, and `index add`
  // must not be handed the index itself as documents.
  const std::string idx = tmp_ / "x.psx";
  ASSERT_EQ(code("index build " + quote(input_) + " -k 2 -q -o " + quote(idx)), 0);
  const std::string idx_before = read_file(idx);
  for (const std::string& args :
       {"index related " + quote(idx) + " -o " + quote(idx),
        "index add " + quote(idx) + " " + quote(idx),
        "related " + quote(input_) + " --index " + quote(idx) + " -o " + quote(idx),
        "duplicates " + quote(input_) + " --index " + quote(idx) + " -o " + quote(idx)}) {
    EXPECT_EQ(code(args, &err), 2) << args;
    EXPECT_NE(err.find("refusing to overwrite an input"), std::string::npos) << args << ": " << err;
    EXPECT_EQ(read_file(idx), idx_before) << args;
  }
  // Standard input redirected from the output file.
  EXPECT_EQ(code("related - -o " + quote(input_) + " < " + quote(input_), &err), 2);
  EXPECT_NE(err.find("is the input (standard input)"), std::string::npos) << err;
  EXPECT_EQ(read_file(input_), before);
  // A hard link and a symbolic link are the same file.
  const std::string hard = tmp_ / "hard.jsonl", soft = tmp_ / "soft.jsonl";
  std::filesystem::create_hard_link(input_, hard);
  std::filesystem::create_symlink(input_, soft);
  EXPECT_EQ(code("related " + quote(input_) + " -o " + quote(hard)), 2);
  EXPECT_EQ(code("related " + quote(soft) + " -o " + quote(input_)), 2);
  EXPECT_EQ(read_file(input_), before);
  // Two outputs naming one file.
  EXPECT_EQ(code("duplicates " + quote(input_) + " -o " + quote(tmp_ / "x.jsonl") + " --clusters " +
                     quote(tmp_ / "./x.jsonl"),
                 &err),
            2);
  EXPECT_NE(err.find("are the same file"), std::string::npos) << err;
  EXPECT_EQ(temporaries(), 0);
}

TEST_F(Reliability, FailedRunsLeaveEarlierOutputsUntouched) {
  const std::string keep_text = make_keep();
  const std::string keep = tmp_ / "keep.jsonl";
  std::string err;
  EXPECT_EQ(code("related " + quote(tmp_ / "missing.jsonl") + " -o " + quote(keep), &err), 3);
  EXPECT_EQ(read_file(keep), keep_text);
  const std::string bad =
      tmp_.write("bad.jsonl", "{\"title\":\"T\",\"abstract\":\"good\"}\n{\"ti\n");
  EXPECT_EQ(code("related " + quote(bad) + " --strict -o " + quote(keep), &err), 3);
  EXPECT_NE(err.find("bad.jsonl:2"), std::string::npos) << err;
  EXPECT_EQ(read_file(keep), keep_text);
  EXPECT_EQ(code("duplicates " + quote(bad) + " --strict -o " + quote(keep) + " --clusters " +
                 quote(tmp_ / "c.jsonl")),
            3);
  EXPECT_EQ(read_file(keep), keep_text);
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "c.jsonl"));
  EXPECT_EQ(temporaries(), 0);
}

TEST_F(Reliability, SuccessfulRunReplacesKeepingModeAndLinks) {
  make_keep();
  const std::string keep = tmp_ / "keep.jsonl";
  ASSERT_EQ(::chmod(keep.c_str(), 0640), 0);
  const std::string link = tmp_ / "link.jsonl";
  std::filesystem::create_symlink(keep, link);
  EXPECT_EQ(code("related " + quote(input_) + " -k 1 -q --backend cpu -o " + quote(link)), 0);
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  const auto rows = lines(read_file(keep));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].find("\"score\""), rows[0].rfind("\"score\"")) << "k=1: one neighbour";
  struct stat st {};
  ASSERT_EQ(::stat(keep.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(temporaries(), 0);
}

TEST_F(Reliability, FullDeviceIsAClearError) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  std::string err;
  EXPECT_EQ(code("related " + quote(input_) + " -q --backend cpu -o /dev/full", &err), 1);
  EXPECT_NE(err.find("/dev/full: write failed: No space left on device"), std::string::npos) << err;
}

TEST_F(Reliability, FileSizeLimitMidOutputLeavesEarlierOutput) {
  const std::string keep_text = make_keep();
  const std::string keep = tmp_ / "keep.jsonl";
  // A corpus whose related lists are far larger than the 64 KiB limit below.
  const std::string corpus = tmp_ / "corpus.jsonl";
  ASSERT_EQ(code("synth --docs 3000 --seed 7 -q -o " + quote(corpus) + " --truth " +
                 quote(tmp_ / "truth.jsonl")),
            0);
  std::string err;
  const int c = run("ulimit -f 64; timeout 120 " + quote(bin()) + " related " + quote(corpus) +
                        " -k 20 -q --backend cpu -o " + quote(keep),
                    tmp_ / "err.txt")
                    .exit_code;
  err = read_file(tmp_ / "err.txt");
  EXPECT_EQ(c, 1) << err;
  EXPECT_NE(err.find("keep.jsonl: write failed: File too large"), std::string::npos) << err;
  EXPECT_EQ(read_file(keep), keep_text);
  EXPECT_EQ(temporaries(), 0);
}

// Start `papersim related - -o keep.jsonl` reading a pipe that never ends, wait
// for its temporary to appear, send `sig`, and return the exit status.
int interrupted_status(const std::string& keep, int sig, const std::function<int()>& temps) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[0], 0);
    close(fds[0]);
    close(fds[1]);
    const std::string b = bin();
    execl(b.c_str(), b.c_str(), "related", "-", "-q", "--backend", "cpu", "-o", keep.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[0]);
  const std::string chunk = "{\"title\":\"Sparse matrices\",\"abstract\":\"We multiply.\"}\n";
  if (write(fds[1], chunk.data(), chunk.size()) < 0) return -1;
  for (int i = 0; i < 1000 && temps() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int seen = temps();
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[1]);
  if (seen == 0) return -2;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

TEST_F(Reliability, SignalsRemoveTemporariesAndKeepEarlierOutput) {
  const std::string keep_text = make_keep();
  const std::string keep = tmp_ / "keep.jsonl";
  auto temps = [this] { return temporaries(); };
  EXPECT_EQ(interrupted_status(keep, SIGINT, temps), 130);
  EXPECT_EQ(temporaries(), 0);
  EXPECT_EQ(read_file(keep), keep_text);
  EXPECT_EQ(interrupted_status(keep, SIGTERM, temps), 143);
  EXPECT_EQ(temporaries(), 0);
  EXPECT_EQ(read_file(keep), keep_text);
  // kill -9 cannot be caught: the temporary stays, the target is still intact.
  EXPECT_EQ(interrupted_status(keep, SIGKILL, temps), 1000 + SIGKILL);
  EXPECT_EQ(read_file(keep), keep_text);
  EXPECT_EQ(temporaries(), 1);
}

TEST_F(Reliability, EndlessAndHugeInputsAreReportedNotOutOfMemory) {
  std::string err;
  if (std::filesystem::exists("/dev/zero")) {
    EXPECT_EQ(code("related /dev/zero -q -o /dev/null", &err), 3);
    EXPECT_NE(err.find("/dev/zero: binary data"), std::string::npos) << err;
    EXPECT_EQ(code("related - -q -o /dev/null < /dev/zero", &err), 3);
    EXPECT_NE(err.find("stdin: binary data"), std::string::npos) << err;
    EXPECT_EQ(code("related " + quote(input_) + " -q -o /dev/null --stop-words /dev/zero", &err),
              3);
    EXPECT_NE(err.find("/dev/zero: binary data"), std::string::npos) << err;
    // A line that never ends.
    const int c = run("timeout 120 sh -c \"tr '\\\\000' a < /dev/zero | " + quote(bin()) +
                          " related - -q -o /dev/null --max-record-bytes 1M\"",
                      tmp_ / "err.txt")
                      .exit_code;
    err = read_file(tmp_ / "err.txt");
    EXPECT_EQ(c, 3) << err;
    EXPECT_NE(err.find("stdin:1: record exceeds --max-record-bytes and has no line end"),
              std::string::npos)
        << err;
  }
  // One record over the limit among good ones: skipped with file:line, an error under --strict.
  const std::string big =
      tmp_.write("big.jsonl", read_file(input_) + "{\"title\":\"Big\",\"abstract\":\"" +
                                  std::string(3 << 20, 'w') + "\"}\n" + read_file(input_));
  EXPECT_EQ(
      code("related - -q --backend cpu -o /dev/null --max-record-bytes 1M < " + quote(big), &err),
      0)
      << err;
  EXPECT_EQ(
      code("related " + quote(big) + " --backend cpu -o /dev/null --max-record-bytes 1M", &err), 0);
  EXPECT_NE(err.find("big.jsonl:4: record exceeds --max-record-bytes"), std::string::npos) << err;
  EXPECT_EQ(code("related - --strict -o /dev/null --max-record-bytes 1M < " + quote(big), &err), 3);
  EXPECT_NE(err.find("stdin:4: record exceeds --max-record-bytes"), std::string::npos) << err;
  EXPECT_EQ(code("related " + quote(big) + " -o /dev/null --max-record-bytes 1X", &err), 2);
}

TEST_F(Reliability, HugeKIsRejected) {
  std::string err;
  for (const char* k : {"9223372036854775807", "8070000000000000000", "100000000000000000000",
                        "1000000001", "-5", "1e3"}) {
    EXPECT_EQ(code("related " + quote(input_) + " -q -o /dev/null -k " + k, &err), 2) << k;
    EXPECT_NE(err.find("-k"), std::string::npos) << err;
  }
  EXPECT_NE(err.find("not an integer"), std::string::npos) << err;
  EXPECT_EQ(code("related " + quote(input_) + " -q -o /dev/null -k 1000000000", &err), 0) << err;
  EXPECT_EQ(code("report " + quote(input_) + " -q -o /dev/null -k 100000000000000000000", &err), 2);
  EXPECT_NE(err.find("must be <= 1000000000"), std::string::npos) << err;
}

}  // namespace
}  // namespace papersim::test
