#pragma once
// Helpers for end-to-end tests that run the papersim binary.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace papersim::test {

inline std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

inline std::string bin() { return env_or_empty("PAPERSIM_BIN"); }

/// ../shared/data, or empty when absent.
inline std::string data_dir() {
  std::string d = env_or_empty("PAPERSIM_DATA_DIR");
  if (d.empty() || !std::filesystem::exists(d)) return {};
  return d;
}

inline std::vector<std::string> seed_files() {
  std::vector<std::string> files;
  const std::string d = data_dir();
  if (d.empty() || !std::filesystem::exists(d + "/seeds")) return files;
  for (const auto& e : std::filesystem::directory_iterator(d + "/seeds")) {
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
};

/// Run a shell command line; stdout captured, stderr to `stderr_file` if given.
inline RunResult run(const std::string& cmdline, const std::string& stderr_file = "") {
  std::string full = cmdline + (stderr_file.empty() ? " 2>/dev/null" : " 2>" + stderr_file);
  RunResult r;
  FILE* p = popen(full.c_str(), "r");
  if (!p) return r;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q.push_back(c);
    }
  }
  return q + "'";
}

inline std::string join_quoted(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += " " + quote(x);
  return s;
}

/// Run `papersim ARGS`: the exit code, with stderr in *err and stdout in *out when given
/// (stderr goes through a file in `tmp`).
inline int run_papersim(const std::string& args, const TempDir& tmp, std::string* err = nullptr,
                        std::string* out = nullptr);

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

inline int run_papersim(const std::string& args, const TempDir& tmp, std::string* err,
                        std::string* out) {
  const std::string errfile = tmp / "stderr.txt";
  RunResult r = run(quote(bin()) + " " + args, errfile);
  if (err) *err = read_file(errfile);
  if (out) *out = r.out;
  return r.exit_code;
}

/// Integer value of "key": in a JSON line written by papersim (first occurrence at or after pos).
inline long long json_int(const std::string& line, const std::string& key, size_t pos = 0) {
  const std::string k = "\"" + key + "\":";
  size_t at = line.find(k, pos);
  if (at == std::string::npos) return -1;
  return std::atoll(line.c_str() + at + k.size());
}

inline double json_num(const std::string& line, const std::string& key, size_t pos = 0) {
  const std::string k = "\"" + key + "\":";
  size_t at = line.find(k, pos);
  if (at == std::string::npos) return -1;
  return std::atof(line.c_str() + at + k.size());
}

}  // namespace papersim::test
