#pragma once
// Command-line option groups shared by the subcommands, and their conversion
// into the library's parameter structs.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "papersim/reader.hpp"
#include "papersim/similarity.hpp"
#include "papersim/tfidf.hpp"

namespace papersim::cli {

/// A list option that never takes the next argument as a value: one value per
/// occurrence (repeatable) or comma-separated values, so `--against a.jsonl
/// in.jsonl` leaves in.jsonl to the positional inputs.
CLI::Option* add_list_option(CLI::App& app, const std::string& name,
                             std::vector<std::string>& values, const std::string& description);

struct ReaderCli {
  std::string input_format = "auto";
  std::string id_field = "id";
  std::string title_field = "title";
  std::vector<std::string> text_fields;
  std::string fields = "title,abstract";
  std::string delimiter;
  bool strict = false;
  std::string max_record_bytes = "64M";

  void add_to(CLI::App& app);
  ReaderOptions to_options() const;

 private:
  CLI::Option* id_opt_ = nullptr;
  CLI::Option* title_opt_ = nullptr;
  CLI::Option* text_opt_ = nullptr;
  CLI::Option* fields_opt_ = nullptr;
};

/// A boolean TF-IDF option as two flags, --NAME and --no-NAME (never both), so
/// the help shows the preset's value rather than a flag's own default.
struct BoolFlag {
  CLI::Option* on = nullptr;
  CLI::Option* off = nullptr;
  bool given() const { return (on && on->count() > 0) || (off && off->count() > 0); }
  bool value() const { return on && on->count() > 0; }
};

// TF-IDF options start from a preset; any option given explicitly overrides it.
struct TfidfCli {
  std::string preset = "abstracts";
  std::string strip_accents;
  std::string token_pattern;
  std::string stop_words;
  std::vector<std::string> ngram_range;
  std::string min_df;
  std::string max_df;
  std::int64_t max_features = 0;
  std::string norm;
  std::string stem;

  void add_to(CLI::App& app);
  TfidfOptions to_options(int threads) const;
  std::string describe(const TfidfOptions& o) const;

 private:
  BoolFlag lowercase_, binary_, sublinear_, smooth_, use_idf_, latex_;
  CLI::Option* strip_accents_opt_ = nullptr;
  CLI::Option* token_pattern_opt_ = nullptr;
  CLI::Option* stop_words_opt_ = nullptr;
  CLI::Option* ngram_opt_ = nullptr;
  CLI::Option* min_df_opt_ = nullptr;
  CLI::Option* max_df_opt_ = nullptr;
  CLI::Option* max_features_opt_ = nullptr;
  CLI::Option* norm_opt_ = nullptr;
  CLI::Option* stem_opt_ = nullptr;
};

struct EngineCli {
  std::string backend = "auto";
  int threads = 0;
  std::string memory_budget;
  int head_dim = -1;
  std::int64_t tile = 0;
  std::vector<int> devices;
  bool quiet = false;

  void add_to(CLI::App& app);
  SimilarityParams to_params() const;
};

/// Largest -k accepted: more neighbours than any corpus has (a k of at least
/// the number of documents lists every neighbour), and far below the
/// magnitudes where the engine's candidate counts would overflow.
constexpr std::int64_t kMaxK = 1000000000;

/// Add "-k" bound to `k`: the text must be an integer in [1, kMaxK], else a
/// usage error (exit 2) names the limit before any input is read.
CLI::Option* add_k_option(CLI::App& cmd, std::int64_t& k, const std::string& description);

/// The same range check for a k that did not come through add_k_option. @throws UsageError.
void check_k(std::int64_t k);

/// Parse "512M", "2G", "1.5GiB", "1000000" into bytes. @throws UsageError.
std::size_t parse_bytes(const std::string& text);

}  // namespace papersim::cli
