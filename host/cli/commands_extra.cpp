// synth, report and demo: the subcommands built on the other components.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/pipeline.hpp"
#include "common/util.hpp"
#include "papersim/clusters.hpp"
#include "papersim/error.hpp"
#include "papersim/report.hpp"

namespace papersim::cli {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void register_report(CLI::App& app) {
  struct Args {
    std::vector<std::string> inputs;
    ReaderCli reader;
    TfidfCli tfidf;
    EngineCli engine;
    std::int64_t k = 10;
    float threshold = kDefaultThreshold;
    std::string out = "report.html";
    std::string pairs;
    std::string related;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "report",
      "Self-contained HTML report: score histogram, duplicate clusters with diffs, related papers");
  cmd->add_option("inputs", a->inputs, "Input files (as for duplicates/related)")->required();
  a->reader.add_to(*cmd);
  a->tfidf.add_to(*cmd);
  a->engine.add_to(*cmd);
  cmd->add_option("-k", a->k, "Related papers listed per paper")->capture_default_str();
  auto* thr =
      cmd->add_option("-t,--threshold", a->threshold, "Duplicate threshold")->capture_default_str();
  cmd->add_option("-o,--output", a->out, "HTML file to write")->capture_default_str();
  cmd->add_option("--pairs", a->pairs,
                  "Use this `duplicates` JSONL output instead of computing pairs");
  cmd->add_option("--related", a->related,
                  "Use this `related` JSONL output instead of computing top-k");
  cmd->callback([a, thr, &app] {
    const auto t0 = Clock::now();
    if (a->k < 1) throw UsageError("-k must be >= 1, got " + std::to_string(a->k));
    if (!(a->threshold >= 0.0f && a->threshold <= 1.0f)) {
      throw UsageError("--threshold must be in [0, 1], got " + format_score(a->threshold));
    }
    RunContext ctx{a->engine.quiet, a->engine.threads};
    SimilarityParams p = a->engine.to_params();
    p.k = a->k;
    p.threshold = a->threshold;
    validate_params(p);
    OutputFile file(a->out);
    Vectorized v = load_and_vectorize(a->inputs, {}, a->reader, a->tfidf, ctx, true);

    ReportData data;
    data.summary.command = "papersim report";
    data.summary.inputs = a->inputs;
    data.summary.read_stats = v.corpus.stats;
    data.summary.generated_at = utc_now();
    data.summary.options = {{"tf-idf", v.options_text},
                            {"k", std::to_string(a->k)},
                            {"threshold", format_score(a->threshold)}};
    data.summary.timings = {{"read", v.read_seconds}, {"tf-idf", v.vectorize_seconds}};
    const bool from_files = !a->pairs.empty() || !a->related.empty();
    SimilarityResult r;
    if (from_files) {
      if (!a->pairs.empty() && !a->related.empty()) {
        data.threshold = thr->count() ? a->threshold : -1.0f;
      } else {
        throw UsageError("report: give both --pairs and --related, or neither");
      }
      data.docs = std::move(v.corpus.docs);
      load_report_inputs(a->pairs, a->related, &data, &v.x);
      data.summary.backend = "(from " + a->pairs + " and " + a->related + ")";
    } else {
      r = run_similarity(v, a->engine, p, ctx);
      data.threshold = a->threshold;
      data.summary.backend = r.stats.backend;
      data.summary.pairs_evaluated = r.stats.pairs_evaluated;
      data.summary.zero_rows = r.stats.zero_rows;
      data.summary.timings.push_back({"similarity", r.stats.seconds});
      data.clusters = connected_components(v.x, r.pairs);
      data.pairs = std::move(r.pairs);
      data.topk = std::move(r.topk);
      data.docs = std::move(v.corpus.docs);
    }
    write_report(data, file.stream());
    file.close();
    v.corpus.docs.clear();
    if (!ctx.quiet) {
      std::fprintf(
          stderr, "papersim: wrote %s (%zu documents, %zu pairs, %zu clusters) in %.2f s\n",
          a->out.c_str(), data.docs.size(), data.pairs.size(), data.clusters.size(), since(t0));
    }
    (void)app;
  });
}

}  // namespace

void register_extra_commands(CLI::App& app) { register_report(app); }

}  // namespace papersim::cli
