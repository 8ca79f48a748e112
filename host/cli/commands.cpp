#include "cli/commands.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/index_command.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/pipeline.hpp"
#include "common/util.hpp"
#include "papersim/clusters.hpp"
#include "papersim/error.hpp"

namespace papersim::cli {

namespace {

const char* kInputsHelp =
    "Input files (JSONL, JSON, CSV, TSV, seed pages; .gz/.xz/.zst; - for stdin)";
const char* kAgainstHelp =
    "Reference files, repeatable or comma-separated: report only INPUT -> REF results (TF-IDF "
    "fitted on the union)";

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void add_index_option(CLI::App& cmd, CorpusArgs& a) {
  cmd.add_option("--index", a.index,
                 "Saved index (papersim index build): INPUT documents are queries, "
                 "vectorized with its frozen model, against every indexed document");
}

void check_score(const char* name, float v) {
  if (!(v >= 0.0f && v <= 1.0f)) {
    throw UsageError(std::string(name) + " must be in [0, 1], got " + format_score(v));
  }
}

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show the build's CUDA support and the visible GPUs");
  cmd->callback([] {
    std::printf("papersim 0.1.0\n");
    std::printf("CUDA backend: %s\n",
                cuda_compiled() ? "compiled in" : "not compiled (CPU-only build)");
    const auto devices = cuda_devices();
    std::printf("visible GPUs: %zu\n", devices.size());
    for (const auto& d : devices) {
      std::printf("  [%d] %s, compute %d.%d, %d SMs, %s total, %s free\n", d.index, d.name.c_str(),
                  d.major, d.minor, d.multiprocessors, format_bytes(d.total_memory).c_str(),
                  format_bytes(d.free_memory).c_str());
    }
    std::printf("MPI: %s\n", mpi_compiled()
                                 ? "compiled in (mpirun -np P runs related, "
                                   "duplicates, dedup, check and index build over P ranks)"
                                 : "not compiled");
    std::printf("host threads: %d\n", resolve_threads(0));
    std::printf("default backend: %s\n", !devices.empty() ? "cuda" : "cpu");
  });
}

void register_vectorize(CLI::App& app, TempFileRegistry& temps) {
  auto args = std::make_shared<CorpusArgs>();
  auto out_matrix = std::make_shared<std::string>();
  auto out_vocab = std::make_shared<std::string>();
  auto out_docs = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "vectorize", "Build TF-IDF vectors (Matrix Market), vocabulary and document table");
  args->add_to(*cmd, kInputsHelp, "", false);
  cmd->add_option("--out-matrix", *out_matrix,
                  "Matrix Market file: rows = doc, columns = vocabulary index");
  cmd->add_option("--out-vocab", *out_vocab, "Vocabulary, one term per line, in column order");
  cmd->add_option("--out-docs", *out_docs, "One JSON object per document: doc, id, source, title");
  cmd->add_option("--index", args->index,
                  "Saved index (papersim index build): vectorize with its frozen model instead "
                  "of fitting one (columns = the index's vocabulary)");
  cmd->callback([args, out_matrix, out_vocab, out_docs, cmd, &temps] {
    const auto t0 = Clock::now();
    RunContext ctx = args->context();
    std::vector<std::string> inputs = args->read_files();
    IndexQueryArgs with_index;
    if (!args->index.empty()) {
      with_index = index_query_args(*args, *cmd);
      check_index_query_args(with_index);
      inputs.push_back(args->index);
    } else {
      check_tfidf_options(args->tfidf, ctx);
    }
    check_outputs_not_inputs({*out_matrix, *out_vocab, *out_docs}, inputs);
    // All outputs are created first (an unwritable one fails before the work)
    // and put in place together at the end, so a failure leaves all as they were.
    auto matrix = open_optional_output(*out_matrix, temps);
    auto vocab = open_optional_output(*out_vocab, temps);
    auto docs = open_optional_output(*out_docs, temps);
    if (!args->index.empty()) {
      const QueryRun r = load_queries(with_index, ctx, false);
      if (matrix) write_matrix_market(r.q, matrix->stream());
      if (vocab) {
        for (std::int64_t c = 0; c < r.index.vocabulary_size(); ++c)
          vocab->stream() << r.index.term(c) << '\n';
      }
      if (docs) write_docs(docs->stream(), r.corpus.docs);
      for (auto* f : {matrix.get(), vocab.get(), docs.get()}) {
        if (f) f->close();
      }
      if (!ctx.quiet)
        std::fprintf(stderr,
                     "papersim: %s documents vectorized with the model of %s in %.2f s "
                     "(%s non-zeros, %s of their term occurrences outside its vocabulary)\n",
                     format_count(r.q.rows).c_str(), args->index.c_str(), since(t0),
                     format_count(r.q.nnz()).c_str(),
                     format_count(r.transform.terms_out_of_vocabulary).c_str());
      return;
    }
    Vectorized v = args->load(ctx, false);
    if (matrix) write_matrix_market(v.x, matrix->stream());
    if (vocab) {
      for (const auto& t : v.model.vocabulary) vocab->stream() << t << '\n';
    }
    if (docs) write_docs(docs->stream(), v.corpus.docs);
    for (auto* f : {matrix.get(), vocab.get(), docs.get()}) {
      if (f) f->close();
    }
    print_summary({&v, nullptr, -1, -1, since(t0)}, ctx);
  });
}

void register_related(CLI::App& app, TempFileRegistry& temps, Comm& comm) {
  auto args = std::make_shared<CorpusArgs>();
  args->comm = &comm;
  auto k = std::make_shared<std::int64_t>(10);
  auto min_score = std::make_shared<float>(-1.0f);
  auto out = std::make_shared<std::string>("-");
  auto format = std::make_shared<std::string>("jsonl");
  auto fields = std::make_shared<std::string>("doc,id,title,score");
  auto* cmd = app.add_subcommand("related", "Top-k most similar papers for every paper");
  args->add_to(*cmd, kInputsHelp, kAgainstHelp, true);
  add_index_option(*cmd, *args);
  cmd->add_option("--neighbor-fields", *fields,
                  "What each neighbour carries, comma-separated: doc, id, title, source, score "
                  "(id,score makes a file a fraction of the size)")
      ->capture_default_str();
  add_k_option(*cmd, *k, "Neighbours per paper");
  auto* min_opt = cmd->add_option("--min-score", *min_score, "Only neighbours with score >= S");
  cmd->add_option("-o,--output", *out, "Output file (- for stdout)")->capture_default_str();
  cmd->add_option("--format", *format, "jsonl, csv or tsv")->capture_default_str();
  cmd->callback([=, &temps] {
    const auto t0 = Clock::now();
    check_k(*k);
    if (min_opt->count()) check_score("--min-score", *min_score);
    const OutFormat fmt = parse_out_format(*format);
    const NeighborFields nf = NeighborFields::parse(*fields);
    RunContext ctx = args->context();
    SimilarityParams p = args->engine.to_params();  // validates before the corpus is read
    p.k = *k;
    p.threshold = -1.0f;
    p.min_score = min_opt->count() ? *min_score : -1.0f;
    auto backend = make_checked_backend(args->engine, p, ctx.comm);  // before any input is read
    check_corpus_options(*args, *cmd, ctx);
    check_outputs_not_inputs({*out}, args->read_files());
    OutputFile file(ctx.output_path(*out), temps);  // fail on an unwritable output before the work
    if (!args->index.empty())
      return related_with_index(index_query_args(*args, *cmd), *backend, p, fmt, file, ctx);
    Vectorized v = args->load(ctx, false);
    const std::int64_t refs = v.cross ? v.queries : 0;
    if (v.distributed()) {
      // Each rank formats its own rows' lines; rank 0 writes them in rank order.
      SimilarityResult r = run_collapsed_similarity(v, *backend, p, ctx, false);
      std::string mine;
      agreed_phase(ctx.comm, [&] {
        mine = format_related(fmt, v.corpus.docs, r.topk, v.q_begin, refs, ctx.threads, nf);
      });
      r.topk = {};
      write_parts_at_root(ctx, file, related_header(fmt, nf), mine);
      return print_summary({&v, &r, -1, -1, since(t0)}, ctx);
    }
    SimilarityResult r = run_collapsed_similarity(v, *backend, p, ctx);
    write_at_root(ctx, [&] {
      write_related(file.stream(), fmt, v.corpus.docs, r.topk, 0, refs, ctx.threads, nf);
      file.close();
    });
    print_summary({&v, &r, -1, -1, since(t0)}, ctx);
  });
}

void register_duplicates(CLI::App& app, TempFileRegistry& temps, Comm& comm) {
  auto args = std::make_shared<CorpusArgs>();
  args->comm = &comm;
  auto threshold = std::make_shared<float>(kDefaultThreshold);
  auto out = std::make_shared<std::string>("-");
  auto clusters_out = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("jsonl");
  auto* cmd = app.add_subcommand("duplicates",
                                 "Every pair of papers with similarity >= threshold, and clusters");
  args->add_to(*cmd, kInputsHelp, kAgainstHelp, true);
  add_index_option(*cmd, *args);
  cmd->add_option("-t,--threshold", *threshold, "Minimum cosine similarity of a duplicate pair")
      ->capture_default_str();
  cmd->add_option("-o,--output", *out, "Pairs output file (- for stdout)")->capture_default_str();
  cmd->add_option("--clusters", *clusters_out,
                  "Also write clusters (connected components) as JSON Lines");
  cmd->add_option("--format", *format, "Pairs format: jsonl, csv or tsv")->capture_default_str();
  cmd->callback([=, &temps] {
    const auto t0 = Clock::now();
    check_score("--threshold", *threshold);
    const OutFormat fmt = parse_out_format(*format);
    RunContext ctx = args->context();
    SimilarityParams p = args->engine.to_params();
    p.k = 0;
    p.threshold = *threshold;
    auto backend = make_checked_backend(args->engine, p, ctx.comm);  // before any input is read
    check_corpus_options(*args, *cmd, ctx);
    check_outputs_not_inputs({*out, *clusters_out}, args->read_files());
    OutputFile file(ctx.output_path(*out), temps);
    auto cfile = open_optional_output(ctx.output_path(*clusters_out), temps);
    if (!args->index.empty())
      return duplicates_with_index(index_query_args(*args, *cmd), *backend, p, fmt, file,
                                   cfile.get(), ctx);
    Vectorized v = args->load(ctx, false);
    SimilarityResult r = run_collapsed_similarity(v, *backend, p, ctx);
    if (cfile) gather_matrix_at_root(v);  // representatives are scored from the rows
    std::int64_t nclusters = -1;
    write_at_root(ctx, [&] {
      write_pairs(file.stream(), fmt, v.corpus.docs, r.pairs, 0, v.cross ? v.queries : 0);
      if (cfile) {
        auto clusters = connected_components(v.x, pairs_in_doc_space(v, r.pairs));
        nclusters = static_cast<std::int64_t>(clusters.size());
        write_clusters(cfile->stream(), v.corpus.docs, clusters);
      }
      // Both files are put in place only once both are written.
      file.close();
      if (cfile) cfile->close();
    });
    print_summary({&v, &r, static_cast<std::int64_t>(r.pairs.size()), nclusters, since(t0)}, ctx);
  });
}

}  // namespace

bool runs_distributed(const std::string& name) {
  return name == "related" || name == "duplicates" || name == "dedup" || name == "check" ||
         name == "index build";
}

void register_commands(CLI::App& app, TempFileRegistry& temps, Comm& comm) {
  register_info(app);
  register_vectorize(app, temps);
  register_related(app, temps, comm);
  register_duplicates(app, temps, comm);
  register_dedup(app, temps, comm);
  register_check(app, temps, comm);
  register_index_commands(app, temps, comm);
  register_synth_report_demo_commands(app, temps);
}

}  // namespace papersim::cli
