// papersim check: the programme chair's dual-submission check. One TF-IDF model
// fitted on submissions and published papers together; the submissions are
// compared with each other and with the published papers under one threshold;
// one JSON object per submission with a match, the most suspicious first.
#include <algorithm>
#include <chrono>
#include <cstdio>
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

struct Match {
  std::int64_t doc = 0;  // position in Vectorized::corpus.docs
  float score = 0;
  bool published = false;
};

// Matches of every submission: both ends of each submission pair, and the
// published end of each cross pair; by score (highest first), ties by doc.
std::vector<std::vector<Match>> matches_by_submission(const Vectorized& v,
                                                      const std::vector<ScoredPair>& self,
                                                      const std::vector<ScoredPair>& cross) {
  std::vector<std::vector<Match>> m(static_cast<std::size_t>(v.queries));
  for (const auto& p : self) {
    m[p.a].push_back({p.b, p.score, false});
    m[p.b].push_back({p.a, p.score, false});
  }
  for (const auto& p : cross) m[p.a].push_back({p.b + v.queries, p.score, true});
  for (auto& list : m) {
    std::sort(list.begin(), list.end(), [](const Match& x, const Match& y) {
      return x.score != y.score ? x.score > y.score : x.doc < y.doc;
    });
  }
  return m;
}

// Submissions with a match, by best score (highest first), ties by doc.
std::vector<std::int64_t> flagged_order(const std::vector<std::vector<Match>>& m) {
  std::vector<std::int64_t> order;
  for (std::int64_t s = 0; s < static_cast<std::int64_t>(m.size()); ++s) {
    if (!m[s].empty()) order.push_back(s);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return m[a][0].score > m[b][0].score; });
  return order;
}

void write_check(std::ostream& out, const std::vector<Document>& docs,
                 const std::vector<std::vector<Match>>& m, const std::vector<std::int64_t>& order) {
  std::string line;
  for (std::int64_t s : order) {
    line = "{";
    append_doc_fields(line, docs[s]);
    line += ",\"best_score\":" + format_score(m[s][0].score) + ",\"matches\":[";
    bool first = true;
    for (const Match& x : m[s]) {
      if (!first) line.push_back(',');
      first = false;
      line.push_back('{');
      append_doc_fields(line, docs[x.doc]);
      line += ",\"score\":" + format_score(x.score);
      line += x.published ? ",\"side\":\"published\"}" : ",\"side\":\"submission\"}";
    }
    line += "]}\n";
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
}

struct CheckArgs {
  CorpusArgs corpus;
  float threshold = kDefaultCheckThreshold;
  std::string out = "-";
  std::string report;
};

}  // namespace

void register_check(CLI::App& app, TempFileRegistry& temps, Comm& comm) {
  auto a = std::make_shared<CheckArgs>();
  a->corpus.comm = &comm;
  auto* cmd = app.add_subcommand(
      "check",
      "Dual-submission check: each submission's matches among the other submissions and the "
      "published papers, the most suspicious first");
  a->corpus.add_to(*cmd, "Submission files (JSONL, JSON, CSV, TSV, seed pages; .gz/.xz/.zst)",
                   "Published papers to check against, repeatable or comma-separated (TF-IDF is "
                   "fitted on submissions and published papers together)",
                   true);
  cmd->add_option("-t,--threshold", a->threshold,
                  "Minimum cosine similarity of a match (chosen on revised arXiv abstracts; see "
                  "the README)")
      ->capture_default_str();
  cmd->add_option("-o,--output", a->out,
                  "JSON Lines: one object per submission with a match (- for stdout)")
      ->capture_default_str();
  cmd->add_option("--report", a->report,
                  "Also write an HTML triage view: each flagged submission beside its best match, "
                  "with the word-level diff");
  cmd->callback([a, &temps] {
    const auto t0 = Clock::now();
    if (!(a->threshold > 0.0f && a->threshold <= 1.0f)) {
      throw UsageError("--threshold must be in (0, 1], got " + format_score(a->threshold));
    }
    const EngineCli& engine = a->corpus.engine;
    RunContext ctx = a->corpus.context();
    SimilarityParams p = engine.to_params();
    p.k = 0;
    p.threshold = a->threshold;
    auto backend = make_checked_backend(engine, p);  // before any input is read
    check_tfidf_options(a->corpus.tfidf, ctx);
    check_outputs_not_inputs({a->out, a->report}, a->corpus.read_files());
    OutputFile out(ctx.output_path(a->out), temps);
    auto report_out = open_optional_output(ctx.output_path(a->report), temps);

    const bool keep_text = !a->report.empty();  // the diffs compare the texts
    Vectorized v = a->corpus.load(ctx, keep_text);
    // Submissions against each other: a self join over their rows, same model.
    SimilarityResult self = run_query_self_join(v, *backend, p, ctx);
    SimilarityResult cross;
    if (v.cross) cross = run_collapsed_similarity(v, *backend, p, ctx);
    if (report_out) gather_matrix_at_root(v);  // the report's clusters score from the rows
    std::int64_t with_published = 0, with_submission = 0;
    std::size_t flagged = 0;
    agreed_phase(ctx.comm, [&] {
      if (!ctx.comm->is_root()) return;  // rank 0 has every result

      const auto m = matches_by_submission(v, self.pairs, cross.pairs);
      const auto order = flagged_order(m);
      write_check(out.stream(), v.corpus.docs, m, order);
      flagged = order.size();
      for (std::int64_t s : order) {
        with_published +=
            std::any_of(m[s].begin(), m[s].end(), [](const Match& x) { return x.published; });
        with_submission +=
            std::any_of(m[s].begin(), m[s].end(), [](const Match& x) { return !x.published; });
      }

      if (report_out) {
        ReportData data;
        data.summary.title = "papersim check: submissions to look at";
        data.summary.command = "papersim check";
        data.summary.inputs = a->corpus.inputs;
        for (const auto& r : a->corpus.against) data.summary.inputs.push_back("--against " + r);
        data.summary.read_stats = v.corpus.stats;
        data.summary.generated_at = utc_now();
        data.summary.options = {{"tf-idf", v.options_text}};
        if (a->corpus.collapse) data.summary.options.push_back({"collapse-ids", "on"});
        data.summary.backend = self.stats.backend;
        data.summary.pairs_evaluated = self.stats.pairs_evaluated + cross.stats.pairs_evaluated;
        data.summary.timings = {{"read", v.read_seconds},
                                {"tf-idf", v.vectorize_seconds},
                                {"similarity", self.stats.seconds + cross.stats.seconds}};
        data.threshold = a->threshold;
        data.pairs = self.pairs;
        for (const auto& q : cross.pairs) data.pairs.push_back({q.a, q.b + v.queries, q.score});
        std::sort(data.pairs.begin(), data.pairs.end(),
                  [](const ScoredPair& x, const ScoredPair& y) {
                    return x.a != y.a ? x.a < y.a : x.b < y.b;
                  });
        data.clusters = connected_components(v.x, data.pairs);
        data.queries = v.queries;
        for (std::int64_t s : order) {
          const Match& best = m[s][0];
          data.triage.push_back(
              {s, best.doc, best.score, static_cast<std::int64_t>(m[s].size()), best.published});
        }
        data.docs = std::move(v.corpus.docs);
        write_report(data, report_out->stream());
        v.corpus.docs = std::move(data.docs);  // for the summary
      }
      // Both files are put in place only once both are written.
      out.close();
      if (report_out) report_out->close();
    });
    if (!ctx.quiet) {
      // Both runs in one summary.
      SimilarityResult both;
      both.stats = self.stats;
      both.stats.pairs_evaluated += cross.stats.pairs_evaluated;
      both.stats.seconds += cross.stats.seconds;
      both.stats.tiles += cross.stats.tiles;
      both.stats.rescored += cross.stats.rescored;
      both.stats.fallback_rows += cross.stats.fallback_rows;
      print_summary({&v, &both, -1, -1, std::chrono::duration<double>(Clock::now() - t0).count()},
                    ctx);
      std::fprintf(stderr,
                   "papersim check: %s of %s submissions have a match >= %s (%s with a published "
                   "paper, %s with another submission); %s submission pairs, %s "
                   "submission-published pairs\n",
                   format_count(static_cast<std::int64_t>(flagged)).c_str(),
                   format_count(v.queries).c_str(), format_score(a->threshold).c_str(),
                   format_count(with_published).c_str(), format_count(with_submission).c_str(),
                   format_count(static_cast<std::int64_t>(self.pairs.size())).c_str(),
                   format_count(static_cast<std::int64_t>(cross.pairs.size())).c_str());
    }
  });
}

}  // namespace papersim::cli
