// `papersim index build|add|related|info` and `related/duplicates/check --index`:
// a corpus's model, vectors, document table and top-k lists saved once, then
// queried and grown without re-reading or re-vectorizing the corpus.

#include "cli/index_command.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "common/progress.hpp"
#include "common/util.hpp"
#include "index/format.hpp"
#include "papersim/clusters.hpp"
#include "papersim/error.hpp"
#include "papersim/index.hpp"
#include "papersim/reader.hpp"

namespace papersim::cli {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * share);
  return buf;
}

// Read documents keeping their texts (the queries or the documents to add).
Corpus read_documents(const std::vector<std::string>& inputs, const ReaderCli& reader,
                      const RunContext& ctx, double* seconds) {
  const auto t0 = Clock::now();
  int printed = 0;
  const ReaderOptions ro = reader_options(reader, ctx, false, &printed);
  Corpus c = read_corpus(inputs, ro, 0);
  *seconds = since(t0);
  if (c.docs.empty()) throw UsageError("empty corpus: no documents were read from the inputs");
  return c;
}

std::vector<std::string_view> texts_of(const Corpus& c) {
  std::vector<std::string_view> t;
  t.reserve(c.docs.size());
  for (const auto& d : c.docs) t.push_back(d.text);
  return t;
}

void print_read_line(const ReadStats& st) {
  std::fprintf(stderr, "  skipped records   %s", format_count(st.skipped_total()).c_str());
  const char* sep = " (";
  for (const auto& [reason, count] : st.skipped) {
    std::fprintf(stderr, "%s%s: %lld", sep, reason.c_str(), static_cast<long long>(count));
    sep = ", ";
  }
  std::fprintf(stderr, "%s\n", st.skipped.empty() ? "" : ")");
}

void print_ignored(const char* label, const TransformStats& t) {
  const std::int64_t all = t.terms_in_vocabulary + t.terms_out_of_vocabulary;
  std::fprintf(
      stderr,
      "  %-17s %s term occurrences outside the frozen vocabulary ignored (%s), %s "
      "distinct terms\n",
      label, format_count(t.terms_out_of_vocabulary).c_str(),
      percent(all > 0 ? static_cast<double>(t.terms_out_of_vocabulary) / static_cast<double>(all)
                      : 0.0)
          .c_str(),
      format_count(static_cast<std::int64_t>(t.new_terms.size())).c_str());
}

void print_drift(std::FILE* f, const IndexDrift& d) {
  std::fprintf(f, "  added documents   %s since the build\n",
               format_count(d.added_documents).c_str());
  if (d.added_documents == 0) return;
  std::fprintf(f,
               "  ignored terms     %s occurrences (%s of the added documents' terms), %s distinct",
               format_count(d.terms_out_of_vocabulary).c_str(),
               percent(d.out_of_vocabulary_share()).c_str(), format_count(d.new_terms).c_str());
  if (d.new_terms > 0)
    std::fprintf(f, "; most frequent '%s' in %s documents", d.top_new_term.c_str(),
                 format_count(d.top_new_term_df).c_str());
  std::fprintf(f,
               "\n  largest df change %s for '%s' (df %lld -> %lld had the added documents been "
               "counted)\n",
               percent(d.df_change).c_str(), d.df_change_term.c_str(),
               static_cast<long long>(d.df_before), static_cast<long long>(d.df_after));
  std::fprintf(f, "  largest idf change %s for '%s'\n", percent(d.idf_change).c_str(),
               d.idf_change_term.c_str());
}

void register_build(CLI::App& index, TempFileRegistry& temps, Comm& comm) {
  struct Args {
    std::vector<std::string> inputs;
    std::string out;
    std::int64_t k = 0;
    ReaderCli reader;
    TfidfCli tfidf;
    EngineCli engine;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = index.add_subcommand(
      "build", "Fit TF-IDF on the inputs and save model, vectors, documents (and top-k lists)");
  cmd->add_option("inputs", a->inputs, "Input files (as for related)")->required();
  cmd->add_option("-o,--output", a->out, "Index file to write (NAME.psx)")->required();
  cmd->add_option("-k", a->k,
                  "Also store every document's top-k list (needed by index add/related)");
  a->reader.add_to(*cmd);
  a->tfidf.add_to(*cmd);
  a->engine.add_to(*cmd);
  cmd->callback([a, &temps, &comm] {
    const auto t0 = Clock::now();
    if (a->k < 0) throw UsageError("-k must be >= 0, got " + std::to_string(a->k));
    if (a->k > kMaxK) {
      throw UsageError("-k must be <= " + std::to_string(kMaxK) + ", got " + std::to_string(a->k));
    }
    // Under MPI, rank 0 reports and writes for every rank.
    const RunContext ctx{a->engine.quiet || !comm.is_root(), a->engine.threads, &comm};
    SimilarityParams p = a->engine.to_params();
    p.k = a->k;
    p.threshold = -1.0f;
    // Options, backend and devices are checked before any input is read.
    std::unique_ptr<SimilarityBackend> backend;
    if (a->k > 0) backend = make_checked_backend(a->engine, p, ctx.comm);
    check_tfidf_options(a->tfidf, ctx);
    agreed_phase(ctx.comm, [&] {
      if (comm.is_root()) index::check_writable(a->out);
    });
    check_outputs_not_inputs({a->out}, files_read(a->inputs, a->tfidf));
    // Distributed: each rank reads, vectorizes and joins its share (the model
    // is every rank's documents' and the same everywhere), then rank 0 gathers
    // the rows and lists and writes the one process's file.
    Vectorized v = load_and_vectorize(a->inputs, {}, a->reader, a->tfidf, ctx, false);
    SimilarityResult r;
    if (backend) r = run_similarity(v, *backend, p, ctx);
    gather_matrix_at_root(v);
    const auto tw = Clock::now();
    write_at_root(ctx, [&] {
      IndexContents c;
      c.options = v.options;
      c.model = std::move(v.model);
      c.x = std::move(v.x);
      c.k = a->k;
      c.topk = std::move(r.topk);
      c.docs.reserve(v.corpus.docs.size());
      // The strings move: the summary needs only the number of documents.
      for (auto& d : v.corpus.docs)
        c.docs.push_back({std::move(d.id), std::move(d.title), std::move(d.source)});
      write_index(a->out, c, &temps);
      // Back for the summary.
      v.model = std::move(c.model);
      v.x = std::move(c.x);
    });
    const double write_seconds = since(tw);
    print_summary({&v, a->k > 0 ? &r : nullptr, -1, -1, since(t0)}, ctx);
    if (!ctx.quiet)
      std::fprintf(stderr, "  index             %s, %s (k = %lld), written in %.2f s\n",
                   a->out.c_str(), format_bytes(std::filesystem::file_size(a->out)).c_str(),
                   static_cast<long long>(a->k), write_seconds);
  });
}

void register_add(CLI::App& index, TempFileRegistry& temps) {
  struct Args {
    std::string path;
    std::vector<std::string> inputs;
    ReaderCli reader;
    EngineCli engine;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = index.add_subcommand(
      "add", "Append documents (vectorized with the saved model) and update every top-k list");
  cmd->add_option("index", a->path, "Index file (NAME.psx), replaced atomically")->required();
  cmd->add_option("inputs", a->inputs, "Input files of the documents to add")->required();
  a->reader.add_to(*cmd);
  a->engine.add_to(*cmd);
  cmd->callback([a, &temps] {
    const auto t0 = Clock::now();
    const RunContext ctx{a->engine.quiet, a->engine.threads};
    SimilarityParams p = a->engine.to_params();
    validate_params(p);
    if (!std::filesystem::is_regular_file(a->path))
      throw InputError(a->path, 0, "no such index file");
    index::check_writable(a->path);
    check_outputs_not_inputs({a->path}, a->inputs);
    auto backend = make_checked_backend(a->engine, p);
    double read_seconds = 0;
    Corpus c = read_documents(a->inputs, a->reader, ctx, &read_seconds);
    std::vector<IndexedDocument> docs;
    docs.reserve(c.docs.size());
    for (const auto& d : c.docs) docs.push_back({d.id, d.title, d.source});
    if (!ctx.quiet) {
      const bool exact = static_cast<std::int64_t>(docs.size()) <= index::kExactJoinMaxRows;
      std::fprintf(
          stderr, "papersim: read %s documents in %.2f s; adding to %s (%s)\n",
          format_count(static_cast<std::int64_t>(docs.size())).c_str(), read_seconds,
          a->path.c_str(),
          exact ? "exact sparse join on the host" : ("backend " + backend->name()).c_str());
    }
    const IndexAddResult r = add_to_index(a->path, docs, texts_of(c), *backend, p, &temps);
    if (ctx.quiet) return;
    std::fprintf(stderr, "\nsummary\n");
    std::fprintf(stderr, "  added             %s documents from %lld file(s); index now %s\n",
                 format_count(r.added).c_str(), static_cast<long long>(c.stats.files),
                 format_count(r.documents).c_str());
    print_read_line(c.stats);
    print_ignored("frozen model", r.transform);
    std::fprintf(stderr, "  top-k lists       %s pairs evaluated, %s existing lists changed\n",
                 format_count(r.pairs_evaluated).c_str(), format_count(r.lists_changed).c_str());
    std::fprintf(stderr, "  read / vectorize  %.2f s / %.2f s\n", read_seconds,
                 r.vectorize_seconds);
    std::fprintf(stderr, "  pairs / write     %.2f s / %.2f s\n", r.similarity_seconds,
                 r.write_seconds);
    std::fprintf(stderr, "drift of the frozen model (cumulative; rebuild when these grow)\n");
    print_drift(stderr, r.drift);
    std::fprintf(stderr, "  peak memory       %s (host RSS)\n",
                 format_bytes(peak_rss_bytes()).c_str());
    std::fprintf(stderr, "  total time        %.2f s\n", since(t0));
  });
}

void register_index_related(CLI::App& index, TempFileRegistry& temps) {
  struct Args {
    std::string path, out = "-", format = "jsonl";
    int threads = 0;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = index.add_subcommand("related", "Write the stored top-k lists (related format)");
  cmd->add_option("index", a->path, "Index file (NAME.psx)")->required();
  cmd->add_option("-o,--output", a->out, "Output file (- for stdout)")->capture_default_str();
  cmd->add_option("--format", a->format, "jsonl, csv or tsv")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Host threads (default: all cores)");
  cmd->add_flag("-q,--quiet", a->quiet, "No progress or summary");
  cmd->callback([a, &temps] {
    const auto t0 = Clock::now();
    const OutFormat fmt = parse_out_format(a->format);
    if (a->threads < 0) throw UsageError("--threads must be >= 0");
    check_outputs_not_inputs({a->out}, {a->path});
    const Index ix = Index::open(a->path);
    if (ix.k() == 0)
      throw UsageError(a->path + ": the index holds no top-k lists (build it with -k)");
    OutputFile file(a->out, temps);
    const std::int64_t n = ix.documents();
    std::vector<Document> docs(static_cast<std::size_t>(n));
    std::vector<std::vector<Neighbor>> lists(static_cast<std::size_t>(n));
    parallel_for(
        n, resolve_threads(a->threads),
        [&](std::int64_t d) {
          docs[d].doc = d;
          docs[d].id = ix.id(d);
          docs[d].title = ix.title(d);
          lists[d] = ix.neighbors(d);
        },
        1024);
    write_related(file.stream(), fmt, docs, lists, 0, 0, a->threads);
    file.close();
    if (!a->quiet)
      std::fprintf(stderr, "papersim: wrote %s lists (k = %lld) in %.2f s\n",
                   format_count(n).c_str(), static_cast<long long>(ix.k()), since(t0));
  });
}

void register_index_info(CLI::App& index) {
  auto path = std::make_shared<std::string>();
  auto* cmd = index.add_subcommand(
      "info", "Documents, options, sizes, format version and model drift of an index");
  cmd->add_option("index", *path, "Index file (NAME.psx)")->required();
  cmd->callback([path] {
    const Index ix = Index::open(*path);
    (void)ix.column_blocks();  // their deferred checks too: every checksum
    std::printf("index             %s\n", path->c_str());
    std::printf("format            PSXINDEX version %u, %s, every checksum verified in %.2f s\n",
                ix.version(), format_bytes(ix.file_bytes()).c_str(), ix.verify_seconds());
    std::printf("documents         %s (%s at build, the model's N)\n",
                format_count(ix.documents()).c_str(), format_count(ix.model_documents()).c_str());
    std::printf("vocabulary        %s terms, %s non-zeros\n",
                format_count(ix.vocabulary_size()).c_str(), format_count(ix.nnz()).c_str());
    std::printf("top-k lists       %s\n",
                ix.k() > 0 ? ("k = " + std::to_string(ix.k())).c_str() : "none");
    const ColumnBlocksView blocks = ix.column_blocks();
    if (blocks.empty()) {
      std::printf(
          "column blocks     none (queries invert the rows per run; index add writes them)\n");
    } else {
      std::printf(
          "column blocks     %s blocks of %lld rows, %s block columns\n",
          format_count(blocks.blocks).c_str(), static_cast<long long>(blocks.block_rows),
          format_count(static_cast<std::int64_t>(blocks.term_offsets[blocks.blocks])).c_str());
    }
    std::printf("options\n");
    std::string line;
    for (char ch : ix.options_text()) {
      if (ch != '\n') {
        line.push_back(ch);
        continue;
      }
      if (line.rfind("stop_word=", 0) != 0) std::printf("  %s\n", line.c_str());
      line.clear();
    }
    std::printf("sections\n");
    for (const auto& s : ix.sections())
      std::printf("  %-20s offset %12llu  %12s  %s %0*llx\n", index::section_name(s.kind),
                  static_cast<unsigned long long>(s.offset), format_bytes(s.bytes).c_str(),
                  ix.version() == 1 ? "crc32" : "xxh3", ix.version() == 1 ? 8 : 16,
                  static_cast<unsigned long long>(s.checksum));
    std::printf("drift of the frozen model\n");
    std::fflush(stdout);
    print_drift(stdout, ix.drift());
  });
}

}  // namespace

void register_index_commands(CLI::App& app, TempFileRegistry& temps, Comm& comm) {
  auto* index = app.add_subcommand(
      "index", "A saved index: build it once, query it (related/duplicates --index), add to it");
  index->require_subcommand(1);
  register_build(*index, temps, comm);
  register_add(*index, temps);
  register_index_related(*index, temps);
  register_index_info(*index);
}

IndexQueryArgs index_query_args(const CorpusArgs& a, const CLI::App& cmd) {
  return {a.index, a.inputs, &a.reader, &a.engine, &cmd, !a.against.empty()};
}

void check_corpus_options(const CorpusArgs& a, const CLI::App& cmd, const RunContext& ctx) {
  if (a.index.empty()) return check_tfidf_options(a.tfidf, ctx);
  // A saved index is one process's (its queries are matched in place).
  if (ctx.distributed())
    throw UsageError("--index runs in one process, not under MPI with " +
                     std::to_string(ctx.comm->size()) + " ranks");
  check_index_query_args(index_query_args(a, cmd));
}

void check_index_query_args(const IndexQueryArgs& a) {
  if (a.against_given) throw UsageError("--index and --against cannot be combined");
  // Folding records by id is defined on one read corpus; the index's documents were
  // folded (or not) when it was built, so the flag would silently mean half of itself.
  const CLI::Option* collapse = a.command->get_option_no_throw("--collapse-ids");
  if (collapse != nullptr && collapse->count() > 0)
    throw UsageError("--collapse-ids cannot be combined with --index");
  for (const CLI::Option* o : a.command->get_options()) {
    if (o->count() > 0 && o->get_group().rfind("TF-IDF", 0) == 0)
      throw UsageError(o->get_name() +
                       " cannot be combined with --index: the index's frozen model fixes the "
                       "TF-IDF options");
  }
  if (!std::filesystem::is_regular_file(a.index))
    throw InputError(a.index, 0, "no such index file");
}

QueryRun load_queries(const IndexQueryArgs& a, const RunContext& ctx, bool keep_text) {
  auto t0 = Clock::now();
  QueryRun r{Index::open(a.index), {}, {}, {}, 0, 0, 0};
  r.load_seconds = since(t0);
  if (!ctx.quiet)
    std::fprintf(stderr,
                 "papersim: index %s: %s documents, %s terms, loaded and verified in %.2f s\n",
                 a.index.c_str(), format_count(r.index.documents()).c_str(),
                 format_count(r.index.vocabulary_size()).c_str(), r.load_seconds);
  r.corpus = read_documents(a.inputs, *a.reader, ctx, &r.read_seconds);
  t0 = Clock::now();
  r.q = vectorize_with_index(r.index, texts_of(r.corpus), ctx.threads, &r.transform);
  if (!keep_text)
    for (auto& d : r.corpus.docs) std::string().swap(d.text);
  r.vectorize_seconds = since(t0);
  return r;
}

SimilarityResult match_index(const QueryRun& r, SimilarityBackend& backend, SimilarityParams p,
                             const RunContext& ctx) {
  validate_params(p);
  const std::int64_t total = r.q.rows * r.index.documents();
  auto progress = std::make_shared<Progress>("pairs", total, !ctx.quiet);
  p.progress = [progress](std::int64_t done, std::int64_t) { progress->update(done); };
  if (!ctx.quiet)
    std::fprintf(stderr, "papersim: %s pairs on backend %s\n", format_count(total).c_str(),
                 backend.name().c_str());
  // The index's column blocks spare the engine inverting every reference block;
  // they are verified only if the engine reads them (not with few queries).
  SimilarityResult res =
      backend.cross_join(r.q.view(), r.index.matrix(), r.index.deferred_column_blocks(), p);
  progress->finish();
  return res;
}

std::int64_t ResultDocs::compact(std::int64_t index_doc) const {
  return std::lower_bound(refs.begin(), refs.end(), index_doc) - refs.begin();
}

ResultDocs result_docs(const QueryRun& r, std::vector<std::int64_t> refs) {
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  ResultDocs out;
  out.docs = r.corpus.docs;
  for (const std::int64_t d : refs) {
    Document doc;
    doc.doc = d;
    doc.id = r.index.id(d);
    doc.title = r.index.title(d);
    doc.source = r.index.source(d);
    out.docs.push_back(std::move(doc));
  }
  out.refs = std::move(refs);
  return out;
}

CsrMatrix result_rows(const QueryRun& r, const ResultDocs& docs) {
  CsrMatrix x = r.q;
  const CsrView iv = r.index.matrix();
  for (const std::int64_t d : docs.refs) {
    for (std::int64_t i = iv.indptr[d]; i < iv.indptr[d + 1]; ++i) {
      x.indices.push_back(iv.indices[i]);
      x.data.push_back(iv.data[i]);
    }
    x.indptr.push_back(static_cast<std::int64_t>(x.indices.size()));
    ++x.rows;
  }
  return x;
}

void print_query_summary(const QueryRun& r, const SimilarityResult& res, std::int64_t pairs,
                         std::int64_t clusters, double total, const RunContext& ctx) {
  if (ctx.quiet) return;
  std::fprintf(stderr, "\nsummary\n");
  std::fprintf(stderr, "  queries           %s from %lld file(s)\n",
               format_count(static_cast<std::int64_t>(r.corpus.docs.size())).c_str(),
               static_cast<long long>(r.corpus.stats.files));
  print_read_line(r.corpus.stats);
  std::fprintf(stderr, "  index             %s: %s documents, %s terms, loaded in %.2f s",
               r.index.path().c_str(), format_count(r.index.documents()).c_str(),
               format_count(r.index.vocabulary_size()).c_str(), r.load_seconds);
  if (res.stats.verify_seconds > 0)
    std::fprintf(stderr, ", column blocks verified in %.2f s", res.stats.verify_seconds);
  std::fprintf(stderr, "\n");
  print_ignored("frozen model", r.transform);
  std::fprintf(stderr, "  read / vectorize  %.2f s / %.2f s\n", r.read_seconds,
               r.vectorize_seconds);
  print_engine_stats(res.stats);
  if (pairs >= 0) std::fprintf(stderr, "  duplicate pairs   %s\n", format_count(pairs).c_str());
  if (clusters >= 0)
    std::fprintf(stderr, "  clusters          %s\n", format_count(clusters).c_str());
  std::fprintf(stderr, "  peak memory       %s (host RSS)\n",
               format_bytes(peak_rss_bytes()).c_str());
  std::fprintf(stderr, "  total time        %.2f s\n", total);
}

void related_with_index(const IndexQueryArgs& a, SimilarityBackend& backend, SimilarityParams p,
                        OutFormat format, OutputFile& out, const RunContext& ctx) {
  const auto t0 = Clock::now();
  const QueryRun r = load_queries(a, ctx, false);
  SimilarityResult res = match_index(r, backend, p, ctx);
  std::vector<std::int64_t> refs;
  for (const auto& l : res.topk)
    for (const auto& nb : l) refs.push_back(nb.doc);
  const ResultDocs docs = result_docs(r, std::move(refs));
  for (auto& l : res.topk)
    for (auto& nb : l) nb.doc = docs.compact(nb.doc);
  const auto queries = static_cast<std::int64_t>(r.corpus.docs.size());
  write_related(out.stream(), format, docs.docs, res.topk, 0, queries, ctx.threads);
  out.close();
  print_query_summary(r, res, -1, -1, since(t0), ctx);
}

void duplicates_with_index(const IndexQueryArgs& a, SimilarityBackend& backend, SimilarityParams p,
                           OutFormat format, OutputFile& out, OutputFile* clusters,
                           const RunContext& ctx) {
  const auto t0 = Clock::now();
  const QueryRun r = load_queries(a, ctx, false);
  SimilarityResult res = match_index(r, backend, p, ctx);
  std::vector<std::int64_t> refs;
  for (const auto& pr : res.pairs) refs.push_back(pr.b);
  const ResultDocs docs = result_docs(r, std::move(refs));
  std::vector<ScoredPair> pairs = res.pairs;
  for (auto& pr : pairs) pr.b = docs.compact(pr.b);
  const auto queries = static_cast<std::int64_t>(r.corpus.docs.size());
  write_pairs(out.stream(), format, docs.docs, pairs, 0, queries);
  out.close();
  std::int64_t n_clusters = -1;
  if (clusters != nullptr) {
    // Components over the queries and the indexed documents named by a pair:
    // the rows of both, in the output table's order, give the exact scores.
    for (auto& pr : pairs) pr.b += queries;
    const auto components = connected_components(result_rows(r, docs), pairs);
    n_clusters = static_cast<std::int64_t>(components.size());
    write_clusters(clusters->stream(), docs.docs, components);
    clusters->close();
  }
  print_query_summary(r, res, static_cast<std::int64_t>(res.pairs.size()), n_clusters, since(t0),
                      ctx);
}

}  // namespace papersim::cli
