// synth, report and demo: the subcommands built on the other components.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/pipeline.hpp"
#include "common/progress.hpp"
#include "common/util.hpp"
#include "papersim/clusters.hpp"
#include "papersim/error.hpp"
#include "papersim/report.hpp"
#include "papersim/synth.hpp"

namespace papersim::cli {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void register_report(CLI::App& app, TempFileRegistry& temps) {
  struct Args {
    CorpusArgs corpus;
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
  a->corpus.add_to(*cmd, "Input files (as for duplicates/related)",
                   "Reference files, repeatable or comma-separated: only INPUT -> REF pairs and "
                   "neighbours; the summary and histogram show the inputs only",
                   true);
  add_k_option(*cmd, a->k, "Related papers listed per paper");
  cmd->add_option("-t,--threshold", a->threshold,
                  "Duplicate threshold (with --pairs: the one `duplicates` ran with)")
      ->capture_default_str();
  cmd->add_option("-o,--output", a->out, "HTML file to write")->capture_default_str();
  cmd->add_option("--pairs", a->pairs,
                  "Use this `duplicates` JSONL output instead of computing pairs");
  cmd->add_option("--related", a->related,
                  "Use this `related` JSONL output instead of computing top-k");
  cmd->callback([a, &temps] {
    const auto t0 = Clock::now();
    check_k(a->k);
    if (!(a->threshold >= 0.0f && a->threshold <= 1.0f)) {
      throw UsageError("--threshold must be in [0, 1], got " + format_score(a->threshold));
    }
    const EngineCli& engine = a->corpus.engine;
    RunContext ctx = a->corpus.context();
    SimilarityParams p = engine.to_params();
    p.k = a->k;
    p.threshold = a->threshold;
    const bool from_files = !a->pairs.empty() || !a->related.empty();
    if (from_files && (a->pairs.empty() || a->related.empty()))
      throw UsageError("report: give both --pairs and --related, or neither");
    if (from_files && (a->corpus.collapse || !a->corpus.against.empty())) {
      throw UsageError(
          "report: --collapse-ids and --against apply when the report computes the pairs, not "
          "to --pairs/--related files");
    }
    // Options, backend and devices are checked before any input is read.
    std::unique_ptr<SimilarityBackend> backend;
    if (!from_files) {
      backend = make_checked_backend(engine, p);
    } else {
      validate_params(p);
    }
    check_tfidf_options(a->corpus.tfidf, ctx);
    std::vector<std::string> read = a->corpus.read_files();
    read.insert(read.end(), {a->pairs, a->related});
    check_outputs_not_inputs({a->out}, read);
    OutputFile file(a->out, temps);
    Vectorized v = a->corpus.load(ctx, true);

    ReportData data;
    data.summary.command = "papersim report";
    data.summary.inputs = a->corpus.inputs;
    for (const auto& r : a->corpus.against) data.summary.inputs.push_back("--against " + r);
    data.summary.read_stats = v.corpus.stats;
    data.summary.generated_at = utc_now();
    // The threshold is stated once, by the summary's pair count.
    data.summary.options = {{"tf-idf", v.options_text}, {"k", std::to_string(a->k)}};
    if (a->corpus.collapse) data.summary.options.push_back({"collapse-ids", "on"});
    data.summary.timings = {{"read", v.read_seconds}, {"tf-idf", v.vectorize_seconds}};
    SimilarityResult r;
    if (from_files) {
      // The threshold used, never the lowest pair score.
      data.threshold = a->threshold;
      data.docs = std::move(v.corpus.docs);
      load_report_inputs(a->pairs, a->related, &data, &v.x);
      for (const auto& q : data.pairs) {
        if (q.score < a->threshold) {
          throw UsageError(a->pairs + " holds pairs scoring below --threshold " +
                           format_score(a->threshold) + " (e.g. " + format_score(q.score) +
                           "): give the threshold `duplicates` ran with");
        }
      }
      data.summary.backend = "(from " + a->pairs + " and " + a->related + ")";
    } else {
      r = run_collapsed_similarity(v, *backend, p, ctx);
      data.threshold = a->threshold;
      data.summary.backend = r.stats.backend;
      data.summary.pairs_evaluated = r.stats.pairs_evaluated;
      data.summary.zero_rows = r.stats.zero_rows;
      data.summary.timings.push_back({"similarity", r.stats.seconds});
      data.pairs = pairs_in_doc_space(v, r.pairs);
      data.clusters = connected_components(v.x, data.pairs);
      data.topk = std::move(r.topk);
      if (v.cross) {
        // Lists in document space; the references have none of their own.
        for (auto& list : data.topk) {
          for (auto& n : list) n.doc += v.queries;
        }
        data.topk.resize(v.corpus.docs.size());
        data.queries = v.queries;
      }
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
  });
}

void add_synth_options(CLI::App& cmd, SynthOptions& o) {
  cmd.add_option("--docs", o.docs, "Number of documents")->capture_default_str();
  cmd.add_option("--seed", o.seed, "Random seed (same seed, same bytes)")->capture_default_str();
  cmd.add_option("--dup-fraction", o.dup_fraction, "Fraction of documents that are edited copies")
      ->capture_default_str();
  cmd.add_option("--edit-min", o.edit_rate_min, "Smallest word edit rate of a copy")
      ->capture_default_str();
  cmd.add_option("--edit-max", o.edit_rate_max, "Largest word edit rate of a copy")
      ->capture_default_str();
}

void check_synth(const SynthOptions& o) {
  if (o.docs < 1) throw UsageError("--docs must be >= 1");
  if (!(o.dup_fraction >= 0 && o.dup_fraction < 1))
    throw UsageError("--dup-fraction must be in [0, 1)");
  if (!(o.edit_rate_min >= 0 && o.edit_rate_min <= o.edit_rate_max && o.edit_rate_max <= 1)) {
    throw UsageError("need 0 <= --edit-min <= --edit-max <= 1");
  }
}

std::string default_truth_path(const std::string& out) {
  if (out == "-") return "";
  std::string base = out;
  for (const char* ext : {".gz", ".jsonl", ".json"}) {
    const std::string e = ext;
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base.resize(base.size() - e.size());
    }
  }
  return base + ".truth.jsonl";
}

void register_synth(CLI::App& app, TempFileRegistry& temps) {
  struct Args {
    SynthOptions options;
    std::string out;
    std::string truth;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("synth",
                                 "Generate a synthetic corpus of abstracts (statistics fitted to "
                                 "arXiv) with planted near-duplicates");
  add_synth_options(*cmd, a->options);
  cmd->add_option("-o,--output", a->out, "Output JSON Lines file (.gz to compress, - for stdout)")
      ->required();
  cmd->add_option("--truth", a->truth,
                  "Ground-truth pairs file (default: OUTPUT with .truth.jsonl)");
  cmd->add_option("--threads", a->options.threads,
                  "Worker threads (default: all cores; output unchanged)");
  cmd->add_flag("-q,--quiet", a->quiet, "No progress or summary on stderr");
  cmd->callback([a, &temps] {
    check_synth(a->options);
    const std::string truth = a->truth.empty() ? default_truth_path(a->out) : a->truth;
    check_outputs_not_inputs({a->out, truth}, {});
    Progress progress("docs", a->options.docs, !a->quiet);
    SynthStats s = synthesize_to_file(
        a->options, a->out, truth, [&](std::int64_t done, std::int64_t) { progress.update(done); },
        &temps);
    progress.finish();
    if (!a->quiet) {
      std::fprintf(
          stderr,
          "papersim: wrote %s documents (%s planted copies, %s truth pairs) to %s%s%s in %.2f s "
          "(%.3g docs/s, %s JSON, %s written)\n",
          format_count(s.docs).c_str(), format_count(s.copies).c_str(),
          format_count(s.pairs).c_str(), a->out.c_str(), truth.empty() ? "" : ", truth in ",
          truth.c_str(), s.seconds, s.seconds > 0 ? static_cast<double>(s.docs) / s.seconds : 0.0,
          format_bytes(s.json_bytes).c_str(), format_bytes(s.out_bytes).c_str());
    }
  });
}

void register_demo(CLI::App& app, TempFileRegistry& temps) {
  struct Args {
    SynthOptions options;
    std::string dir = "papersim-demo";
    EngineCli engine;
    std::int64_t k = 10;
    float threshold = kDefaultThreshold;
  };
  auto a = std::make_shared<Args>();
  a->options.docs = 20000;
  auto* cmd = app.add_subcommand("demo",
                                 "Generate a synthetic corpus with planted duplicates, run "
                                 "duplicates and related, score them");
  add_synth_options(*cmd, a->options);
  cmd->add_option("--dir", a->dir, "Directory for the corpus and the outputs")
      ->capture_default_str();
  add_k_option(*cmd, a->k, "Related papers per paper");
  cmd->add_option("-t,--threshold", a->threshold, "Duplicate threshold")->capture_default_str();
  a->engine.add_to(*cmd);
  cmd->callback([a, &temps] {
    const auto t0 = Clock::now();
    check_synth(a->options);
    check_k(a->k);
    if (!(a->threshold >= 0.0f && a->threshold <= 1.0f))
      throw UsageError("--threshold must be in [0, 1]");
    RunContext ctx{a->engine.quiet, a->engine.threads};
    SimilarityParams p = a->engine.to_params();
    p.k = a->k;
    p.threshold = a->threshold;
    auto backend = make_checked_backend(a->engine, p);  // before the corpus is generated
    std::filesystem::create_directories(a->dir);
    const std::string corpus = a->dir + "/corpus.jsonl";
    const std::string truth_path = a->dir + "/truth.jsonl";
    a->options.threads = a->engine.threads;
    if (!ctx.quiet) {
      std::fprintf(
          stderr,
          "papersim demo: generating %s synthetic abstracts (%.1f%% planted copies) in %s\n",
          format_count(a->options.docs).c_str(), a->options.dup_fraction * 100, a->dir.c_str());
    }
    synthesize_to_file(a->options, corpus, truth_path, {}, &temps);
    const std::vector<PlantedPair> truth = synth_planted_pairs(a->options);

    ReaderCli reader;
    TfidfCli tfidf;
    Vectorized v = load_and_vectorize({corpus}, {}, reader, tfidf, ctx, false);
    SimilarityResult r = run_similarity(v, *backend, p, ctx);
    {
      OutputFile f(a->dir + "/related.jsonl", temps);
      write_related(f.stream(), OutFormat::kJsonl, v.corpus.docs, r.topk, 0, 0, ctx.threads);
      f.close();
    }
    {
      OutputFile f(a->dir + "/pairs.jsonl", temps);
      write_pairs(f.stream(), OutFormat::kJsonl, v.corpus.docs, r.pairs, 0, 0);
      f.close();
    }
    const auto clusters = connected_components(v.x, r.pairs);
    {
      OutputFile f(a->dir + "/clusters.jsonl", temps);
      write_clusters(f.stream(), v.corpus.docs, clusters);
      f.close();
    }
    std::set<std::pair<std::int64_t, std::int64_t>> found;
    for (const auto& q : r.pairs) found.insert({q.a, q.b});
    std::int64_t hit = 0, in_topk = 0, top1 = 0;
    for (const auto& t : truth) {
      hit += found.count({t.doc_a, t.doc_b});
      const auto& la = r.topk[t.doc_a];
      const auto& lb = r.topk[t.doc_b];
      bool a_has_b = false, b_has_a = false;
      for (const auto& n : la) a_has_b |= n.doc == t.doc_b;
      for (const auto& n : lb) b_has_a |= n.doc == t.doc_a;
      in_topk += a_has_b && b_has_a;
      top1 += !lb.empty() && lb[0].doc == t.doc_a;
    }
    const double precision = r.pairs.empty() ? 1.0 : static_cast<double>(hit) / r.pairs.size();
    const double recall = truth.empty() ? 1.0 : static_cast<double>(hit) / truth.size();
    print_summary({&v, &r, static_cast<std::int64_t>(r.pairs.size()),
                   static_cast<std::int64_t>(clusters.size()), since(t0)},
                  ctx);
    std::printf("papersim demo: %s documents, %s planted duplicate pairs, threshold %s\n",
                format_count(v.x.rows).c_str(),
                format_count(static_cast<std::int64_t>(truth.size())).c_str(),
                format_score(a->threshold).c_str());
    std::printf("  duplicates: %s pairs reported, %s planted pairs found\n",
                format_count(static_cast<std::int64_t>(r.pairs.size())).c_str(),
                format_count(hit).c_str());
    std::printf("  precision %.4f  recall %.4f\n", precision, recall);
    std::printf(
        "  related (k=%lld): planted pairs in each other's top-k %.4f, the later doc's top-1 is "
        "its planted partner %.4f\n",
        static_cast<long long>(a->k),
        truth.empty() ? 1.0 : static_cast<double>(in_topk) / truth.size(),
        truth.empty() ? 1.0 : static_cast<double>(top1) / truth.size());
    std::printf("  outputs: %s/{corpus,truth,related,pairs,clusters}.jsonl\n", a->dir.c_str());
  });
}

}  // namespace

void register_synth_report_demo_commands(CLI::App& app, TempFileRegistry& temps) {
  register_synth(app, temps);
  register_report(app, temps);
  register_demo(app, temps);
}

}  // namespace papersim::cli
