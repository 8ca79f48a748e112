// papersim check: the programme chair's dual-submission check. The submissions
// are compared with each other and with the published papers under one
// threshold; one JSON object per submission with a match, the most suspicious
// first. The published papers are --against files (one TF-IDF model fitted on
// submissions and published papers together) or a saved index (--index: the
// submissions vectorized with its frozen model).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/index_command.hpp"
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
  std::int64_t doc = 0;  // position in CheckRun::docs
  float score = 0;
  bool published = false;
};

// Matches of every submission: both ends of each submission pair, and the
// published end of each cross pair; by score (highest first), ties by doc.
std::vector<std::vector<Match>> matches_by_submission(std::int64_t queries,
                                                      const std::vector<ScoredPair>& self,
                                                      const std::vector<ScoredPair>& cross) {
  std::vector<std::vector<Match>> m(static_cast<std::size_t>(queries));
  for (const auto& p : self) {
    m[p.a].push_back({p.b, p.score, false});
    m[p.b].push_back({p.a, p.score, false});
  }
  for (const auto& p : cross) m[p.a].push_back({p.b + queries, p.score, true});
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

// One check's results, whichever way the published papers came: the documents
// (submissions first, then the published papers), the submission pairs and the
// submission-published pairs (`b` counted from the first published paper).
struct CheckRun {
  std::vector<Document> docs;
  std::int64_t queries = 0;
  SimilarityResult self, cross;
  /// What the report's summary shows besides the figures set by write_outputs.
  ReportSummary summary;
};

struct Flagged {
  std::vector<std::int64_t> order;
  std::int64_t with_published = 0, with_submission = 0;
};

// Write the triage list and, with `report`, the page (its clusters scored over
// `x`, the TF-IDF rows of run.docs), then put both in place together.
Flagged write_outputs(const CheckArgs& a, CheckRun& run, const CsrMatrix& x, OutputFile& out,
                      OutputFile* report) {
  const auto m = matches_by_submission(run.queries, run.self.pairs, run.cross.pairs);
  Flagged f;
  f.order = flagged_order(m);
  write_check(out.stream(), run.docs, m, f.order);
  for (std::int64_t s : f.order) {
    f.with_published +=
        std::any_of(m[s].begin(), m[s].end(), [](const Match& x) { return x.published; });
    f.with_submission +=
        std::any_of(m[s].begin(), m[s].end(), [](const Match& x) { return !x.published; });
  }
  if (report) {
    ReportData data;
    data.summary = std::move(run.summary);
    data.summary.title = "papersim check: submissions to look at";
    data.summary.command = "papersim check";
    data.summary.generated_at = utc_now();
    data.summary.backend = run.self.stats.backend;
    data.summary.pairs_evaluated = run.self.stats.pairs_evaluated + run.cross.stats.pairs_evaluated;
    data.threshold = a.threshold;
    data.pairs = run.self.pairs;
    for (const auto& q : run.cross.pairs) data.pairs.push_back({q.a, q.b + run.queries, q.score});
    std::sort(data.pairs.begin(), data.pairs.end(), [](const ScoredPair& p, const ScoredPair& q) {
      return p.a != q.a ? p.a < q.a : p.b < q.b;
    });
    data.clusters = connected_components(x, data.pairs);
    data.queries = run.queries;
    for (std::int64_t s : f.order) {
      const Match& best = m[s][0];
      data.triage.push_back(
          {s, best.doc, best.score, static_cast<std::int64_t>(m[s].size()), best.published});
    }
    data.docs = std::move(run.docs);
    write_report(data, report->stream());
    run.docs = std::move(data.docs);  // for the summary
  }
  // Both files are put in place only once both are written.
  out.close();
  if (report) report->close();
  return f;
}

// Both joins' figures in one, for the summary.
SimilarityResult merged_stats(const CheckRun& run) {
  SimilarityResult both;
  both.stats = run.self.stats;
  const SimilarityStats& c = run.cross.stats;
  // The engine line's tile figures that follow the name are the self join's.
  if (!c.backend.empty() && c.backend != both.stats.backend)
    both.stats.backend = c.backend + "; submission pairs: " + both.stats.backend;
  both.stats.pairs_evaluated += c.pairs_evaluated;
  both.stats.seconds += c.seconds;
  both.stats.tiles += c.tiles;
  both.stats.rescored += c.rescored;
  both.stats.fallback_rows += c.fallback_rows;
  return both;
}

void print_check_line(const CheckArgs& a, const CheckRun& run, const Flagged& f) {
  std::fprintf(stderr,
               "papersim check: %s of %s submissions have a match >= %s (%s with a published "
               "paper, %s with another submission); %s submission pairs, %s "
               "submission-published pairs\n",
               format_count(static_cast<std::int64_t>(f.order.size())).c_str(),
               format_count(run.queries).c_str(), format_score(a.threshold).c_str(),
               format_count(f.with_published).c_str(), format_count(f.with_submission).c_str(),
               format_count(static_cast<std::int64_t>(run.self.pairs.size())).c_str(),
               format_count(static_cast<std::int64_t>(run.cross.pairs.size())).c_str());
}

// --against: one model fitted on submissions and published papers together.
void check_against(const CheckArgs& a, SimilarityBackend& backend, const SimilarityParams& p,
                   OutputFile& out, OutputFile* report, const RunContext& ctx,
                   Clock::time_point t0) {
  const bool keep_text = report != nullptr;  // the diffs compare the texts
  Vectorized v = a.corpus.load(ctx, keep_text);
  CheckRun run;
  run.queries = v.queries;
  // Submissions against each other: a self join over their rows, same model.
  run.self = run_query_self_join(v, backend, p, ctx);
  if (v.cross) run.cross = run_collapsed_similarity(v, backend, p, ctx);
  if (report) gather_matrix_at_root(v);  // the report's clusters score from the rows
  run.summary.inputs = a.corpus.inputs;
  for (const auto& r : a.corpus.against) run.summary.inputs.push_back("--against " + r);
  run.summary.read_stats = v.corpus.stats;
  run.summary.options = {{"tf-idf", v.options_text}};
  if (a.corpus.collapse) run.summary.options.push_back({"collapse-ids", "on"});
  run.summary.timings = {{"read", v.read_seconds},
                         {"tf-idf", v.vectorize_seconds},
                         {"similarity", run.self.stats.seconds + run.cross.stats.seconds}};
  run.docs = std::move(v.corpus.docs);
  Flagged f;
  write_at_root(ctx, [&] { f = write_outputs(a, run, v.x, out, report); });
  if (ctx.quiet) return;
  v.corpus.docs = std::move(run.docs);
  const SimilarityResult both = merged_stats(run);
  print_summary({&v, &both, -1, -1, std::chrono::duration<double>(Clock::now() - t0).count()}, ctx);
  print_check_line(a, run, f);
}

// --index: the submissions vectorized with the index's frozen model; each other
// (self join) and every indexed document (the index's join, as related/duplicates
// --index run it) under the one threshold.
void check_index(const CheckArgs& a, const IndexQueryArgs& ia, SimilarityBackend& backend,
                 const SimilarityParams& p, OutputFile& out, OutputFile* report,
                 const RunContext& ctx, Clock::time_point t0) {
  QueryRun r = load_queries(ia, ctx, report != nullptr);
  CheckRun run;
  run.queries = r.q.rows;
  run.self = run_join(backend, r.q.view(), nullptr, p, ctx);
  run.cross = match_index(r, backend, p, ctx);
  std::vector<std::int64_t> refs;
  for (const auto& pr : run.cross.pairs) refs.push_back(pr.b);
  ResultDocs docs = result_docs(r, std::move(refs));
  for (auto& pr : run.cross.pairs) pr.b = docs.compact(pr.b);
  const CsrMatrix x = report ? result_rows(r, docs) : CsrMatrix{};
  run.docs = std::move(docs.docs);
  run.summary.inputs = a.corpus.inputs;
  run.summary.inputs.push_back("--index " + a.corpus.index);
  run.summary.read_stats = r.corpus.stats;
  const std::int64_t ignored = r.transform.terms_out_of_vocabulary;
  const std::int64_t all = r.transform.terms_in_vocabulary + ignored;
  run.summary.options = {
      {"tf-idf", "frozen model of the index (" + format_count(r.index.model_documents()) +
                     " documents at build, " + format_count(r.index.vocabulary_size()) + " terms)"},
      {"outside the vocabulary",
       format_count(ignored) + " of " + format_count(all) +
           " submission term occurrences, ignored (scikit-learn transform)"}};
  run.summary.timings = {{"index load", r.load_seconds},
                         {"read", r.read_seconds},
                         {"tf-idf", r.vectorize_seconds},
                         {"similarity", run.self.stats.seconds + run.cross.stats.seconds}};
  const Flagged f = write_outputs(a, run, x, out, report);
  print_query_summary(r, merged_stats(run), -1, -1,
                      std::chrono::duration<double>(Clock::now() - t0).count(), ctx);
  if (!ctx.quiet) print_check_line(a, run, f);
}

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
  cmd->add_option("--index", a->corpus.index,
                  "Saved index of the published papers (papersim index build), instead of "
                  "--against: submissions are vectorized with its frozen model");
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
  cmd->callback([a, cmd, &temps] {
    const auto t0 = Clock::now();
    if (!(a->threshold > 0.0f && a->threshold <= 1.0f)) {
      throw UsageError("--threshold must be in (0, 1], got " + format_score(a->threshold));
    }
    const CorpusArgs& c = a->corpus;
    RunContext ctx = c.context();
    SimilarityParams p = c.engine.to_params();
    p.k = 0;
    p.threshold = a->threshold;
    auto backend = make_checked_backend(c.engine, p, ctx.comm);  // before any input is read
    check_corpus_options(c, *cmd, ctx);
    check_outputs_not_inputs({a->out, a->report}, c.read_files());
    OutputFile out(ctx.output_path(a->out), temps);
    auto report_out = open_optional_output(ctx.output_path(a->report), temps);
    if (!c.index.empty()) {
      check_index(*a, index_query_args(c, *cmd), *backend, p, out, report_out.get(), ctx, t0);
    } else {
      check_against(*a, *backend, p, out, report_out.get(), ctx, t0);
    }
  });
}

}  // namespace papersim::cli
