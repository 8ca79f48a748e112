// The CLI's option groups (input, TF-IDF, engine, -k, output format) on
// arbitrary command lines, one argument per input line. Invariants: a parse
// either fails with a CLI11 or papersim usage error, or yields parameters in
// their documented ranges (k in [1, kMaxK], positive sizes and limits).
#include <CLI/CLI.hpp>

#include "cli/options.hpp"
#include "cli/output.hpp"
#include "fuzz_support.hpp"
#include "papersim/error.hpp"

using namespace papersim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args = {"papersim"};
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty() && args.size() < 24) {
    const std::size_t nl = rest.find('\n');
    args.emplace_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  CLI::App app;
  cli::ReaderCli reader;
  cli::TfidfCli tfidf;
  cli::EngineCli engine;
  std::int64_t k = 10;
  std::string format = "jsonl";
  std::vector<std::string> inputs;
  app.add_option("inputs", inputs);
  reader.add_to(app);
  tfidf.add_to(app);
  engine.add_to(app);
  cli::add_k_option(app, k, "Neighbours");
  app.add_option("--format", format);
  std::vector<const char*> argv;
  for (const auto& s : args) argv.push_back(s.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
    return 0;
  }
  PAPERSIM_FUZZ_CHECK(k >= 1 && k <= cli::kMaxK, "k out of range: " + std::to_string(k));
  // Files are not the parser's business: a stop-word file is not opened here.
  if (tfidf.stop_words != "none" && tfidf.stop_words != "english") tfidf.stop_words.clear();
  try {
    const ReaderOptions ro = reader.to_options();
    PAPERSIM_FUZZ_CHECK(ro.max_record_bytes > 0, "record limit");
    PAPERSIM_FUZZ_CHECK(!ro.fields.empty(), "fields");
  } catch (const UsageError&) {
  }
  try {
    const TfidfOptions to = tfidf.to_options(1);
    PAPERSIM_FUZZ_CHECK(to.ngram_min >= 1 && to.ngram_max >= to.ngram_min, "ngram range");
    PAPERSIM_FUZZ_CHECK(!to.max_features || *to.max_features >= 1, "max features");
  } catch (const UsageError&) {
  }
  try {
    const SimilarityParams p = engine.to_params();
    PAPERSIM_FUZZ_CHECK(p.threads >= 0 && p.tile >= 0, "engine params");
  } catch (const UsageError&) {
  }
  try {
    cli::parse_out_format(format);
  } catch (const UsageError&) {
  }
  return 0;
}
