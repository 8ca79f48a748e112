#include "cli/suggestions.hpp"

#include <algorithm>
#include <vector>

namespace papersim::cli {

namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// The candidates closest to `word`, if close enough to be a typo of it (or it
// is a prefix of them).
std::vector<std::string> closest(const std::string& word, const std::vector<std::string>& names) {
  std::size_t best = word.size() / 3 + 1;
  std::vector<std::string> out;
  for (const auto& n : names) {
    std::size_t dist = edit_distance(word, n);
    if (word.size() >= 4 && n.compare(0, word.size(), word) == 0)
      dist = std::min<std::size_t>(dist, 1);
    if (dist < best) {
      best = dist;
      out.clear();
    }
    if (dist == best && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  if (out.size() > 3) out.resize(3);
  return out;
}

std::string did_you_mean(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  std::string s = "; did you mean ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    s += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + ("'" + names[i] + "'");
  }
  return s + "?";
}

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app.get_options()) {
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

bool has_option(const std::vector<std::string>& names, const std::string& arg) {
  return std::find(names.begin(), names.end(), arg) != names.end();
}

}  // namespace

std::string unknown_argument_hint(CLI::App& app, int argc, const char* const* argv) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    commands.push_back(sub->get_name());
  }
  const std::vector<std::string> top = option_names(app);
  CLI::App* sub = nullptr;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (!sub) {
      if (arg.size() > 1 && arg[0] == '-') continue;  // options of the program itself
      if (std::find(commands.begin(), commands.end(), arg) == commands.end()) {
        return "unknown command '" + arg + "'" + did_you_mean(closest(arg, commands)) +
               " (commands: " +
               [&] {
                 std::string s;
                 for (const auto& c : commands) s += (s.empty() ? "" : ", ") + c;
                 return s;
               }() +
               ")";
      }
      sub = app.get_subcommand(arg);
      names = option_names(*sub);
      names.insert(names.end(), top.begin(), top.end());
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-' || (arg[1] >= '0' && arg[1] <= '9') || arg[1] == '.') {
      continue;  // a value or a positional (negative numbers included)
    }
    const std::string name = arg.substr(0, arg.find('='));
    if (arg[1] != '-' && name.size() > 2) {
      // -k10 style: a short option with its value attached.
      if (has_option(names, name.substr(0, 2))) continue;
    }
    if (!has_option(names, name)) {
      return "unknown option '" + name + "' for '" + sub->get_name() + "'" +
             did_you_mean(closest(name, names));
    }
  }
  return "";
}

}  // namespace papersim::cli
