#include "cli/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string_view>
#include <unordered_set>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "common/progress.hpp"
#include "common/util.hpp"
#include "io/share.hpp"
#include "papersim/error.hpp"
#include "papersim/reader.hpp"
#include "sim/ring_join.hpp"

namespace papersim::cli {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Print the first skip messages; the rest are only counted (the summary lists counts).
constexpr int kMaxPrintedSkips = 20;
}  // namespace

ReaderOptions reader_options(const ReaderCli& reader, const RunContext& ctx, bool pack_texts,
                             int* printed) {
  ReaderOptions ro = reader.to_options();
  ro.threads = ctx.threads;
  ro.pack_texts = pack_texts;
  const bool quiet = ctx.quiet;
  ro.on_skip = [printed, quiet](const std::string& message) {
    if (quiet) return;
    if (*printed < kMaxPrintedSkips) {
      std::fprintf(stderr, "papersim: skipped %s\n", message.c_str());
    } else if (*printed == kMaxPrintedSkips) {
      std::fprintf(stderr, "papersim: further skipped records are counted in the summary\n");
    }
    ++*printed;
  };
  ro.on_warning = [quiet](const std::string& message) {
    if (!quiet) std::fprintf(stderr, "papersim: warning: %s\n", message.c_str());
  };
  return ro;
}

namespace {

// Every rank's `values`, indexed by rank.
std::vector<std::vector<std::int64_t>> allgather_counts(Comm& comm,
                                                        const std::vector<std::int64_t>& values) {
  const std::string bytes(reinterpret_cast<const char*>(values.data()),
                          values.size() * sizeof(std::int64_t));
  std::vector<std::vector<std::int64_t>> out;
  for (const std::string& part : comm.allgatherv(bytes)) {
    std::vector<std::int64_t> v(part.size() / sizeof(std::int64_t));
    std::memcpy(v.data(), part.data(), v.size() * sizeof(std::int64_t));
    out.push_back(std::move(v));
  }
  return out;
}

// `paths` read over the ranks (io/share.hpp): each rank parses its share of
// the bytes; every rank gets every document's metadata, numbered as one process
// numbers them, and the texts of its own documents [*own_begin, *own_end).
Corpus read_shared(const std::vector<std::string>& paths, const ReaderOptions& ro, Comm& comm,
                   std::int64_t first_doc, std::int64_t* own_begin, std::int64_t* own_end) {
  const int me = comm.rank();
  io::SharePlan plan;
  std::vector<std::int64_t> counts;
  std::unique_ptr<io::FieldPlan> fields;
  agreed_phase(&comm, [&] {
    plan = io::plan_shares(paths, ro, comm.size());
    fields = std::make_unique<io::FieldPlan>(ro);
    if (fields->parts.empty()) throw UsageError("--fields needs at least one non-empty field name");
    counts = io::count_parts(plan, me);
  });
  io::apply_counts(plan, allgather_counts(comm, counts));
  if (io::needs_quote_check(plan)) {
    std::vector<std::int64_t> any = io::quote_anomalies(plan, me);
    comm.allreduce(any, Comm::Op::kMax);
    io::apply_anomalies(plan, any);
  }
  std::vector<io::FilePiece> mine;
  agreed_phase(&comm,
               [&] { mine = io::read_share(plan, me, ro, *fields, resolve_threads(ro.threads)); });
  plan = io::SharePlan();  // unmap the inputs
  std::vector<std::string> parts = comm.allgatherv(io::pack_pieces(mine));
  Corpus corpus;
  // Every rank builds the same corpus from every rank's pieces (in rank order,
  // which is input order), so each fails, if at all, with one process's error.
  agreed_phase(&comm, [&] {
    io::CorpusBuilder builder(paths, ro, first_doc);
    std::vector<io::FilePiece> file;
    for (int r = 0; r < comm.size(); ++r) {
      std::vector<io::FilePiece> pieces =
          r == me ? std::move(mine) : io::unpack_pieces(parts[static_cast<std::size_t>(r)]);
      std::string().swap(parts[static_cast<std::size_t>(r)]);
      for (io::FilePiece& piece : pieces) {
        if (!file.empty() && file.front().file != piece.file) {
          builder.add_file(file);
          file.clear();
        }
        file.push_back(std::move(piece));
      }
    }
    if (!file.empty()) builder.add_file(file);
    corpus = builder.finish();
    *own_begin = builder.local_begin();
    *own_end = builder.local_end();
  });
  return corpus;
}

// Reads INPUT then REF files into `v` (documents numbered in that order). In
// a distributed run each rank reads its share (read_shared) and records where
// its own rows are.
void read_inputs(Vectorized& v, const std::vector<std::string>& inputs,
                 const std::vector<std::string>& references, const ReaderOptions& ro, Comm* comm) {
  const bool shared = comm != nullptr && comm->size() > 1;
  std::int64_t begin = 0, end = 0;
  v.corpus = shared ? read_shared(inputs, ro, *comm, 0, &begin, &end) : read_corpus(inputs, ro, 0);
  v.queries = static_cast<std::int64_t>(v.corpus.docs.size());
  v.q_begin = begin;
  v.local_queries = shared ? end - begin : v.queries;
  if (!references.empty()) {
    v.cross = true;
    Corpus refs = shared ? read_shared(references, ro, *comm, v.queries, &begin, &end)
                         : read_corpus(references, ro, v.queries);
    v.r_begin = shared ? begin - v.queries : 0;
    v.local_references = shared ? end - begin : 0;
    ReadStats& s = v.corpus.stats;
    s.files += refs.stats.files;
    s.records += refs.stats.records;
    s.kept += refs.stats.kept;
    s.duplicate_ids += refs.stats.duplicate_ids;
    s.title_only += refs.stats.title_only;
    for (const auto& kv : refs.stats.skipped) s.skipped[kv.first] += kv.second;
    for (auto& m : refs.stats.messages) {
      if (s.messages.size() < ReadStats::kMaxMessages) s.messages.push_back(std::move(m));
    }
    for (auto& d : refs.docs) v.corpus.docs.push_back(std::move(d));
    for (auto& p : refs.packs) v.corpus.packs.push_back(std::move(p));
  }
  agreed_phase(comm, [&] {
    if (v.queries == 0) throw UsageError("empty corpus: no documents were read from the inputs");
    if (v.cross && static_cast<std::int64_t>(v.corpus.docs.size()) == v.queries) {
      throw UsageError("empty reference corpus: no documents were read from --against");
    }
  });
}

// Every document's text, in document order (from the packs or the documents).
std::vector<std::string_view> all_texts(const Corpus& corpus) {
  std::vector<std::string_view> texts;
  texts.reserve(corpus.docs.size());
  if (corpus.packs.empty()) {
    for (const auto& d : corpus.docs) texts.push_back(d.text);
  } else {
    for (const TextPack& p : corpus.packs)
      for (std::size_t i = 0; i < p.size(); ++i) texts.push_back(p.text(i));
  }
  if (texts.size() != corpus.docs.size())
    throw Error("internal: packed texts do not match the documents");
  return texts;
}

// A distributed fit: this rank's share of the queries and of the references
// (read_inputs), vectorized with the model of every rank's documents together.
void vectorize_own_rows(Vectorized& v, bool keep_text) {
  std::vector<std::string_view> mine;
  mine.reserve(static_cast<std::size_t>(v.local_queries + v.local_references));
  if (!v.corpus.packs.empty()) {
    // The packs hold this rank's texts only: its queries, then its references.
    for (const TextPack& p : v.corpus.packs)
      for (std::size_t i = 0; i < p.size(); ++i) mine.push_back(p.text(i));
  } else {
    const auto& docs = v.corpus.docs;
    for (std::int64_t d = v.q_begin; d < v.q_begin + v.local_queries; ++d)
      mine.push_back(docs[static_cast<std::size_t>(d)].text);
    const std::int64_t r = v.queries + v.r_begin;
    for (std::int64_t d = r; d < r + v.local_references; ++d)
      mine.push_back(docs[static_cast<std::size_t>(d)].text);
  }
  if (static_cast<std::int64_t>(mine.size()) != v.local_queries + v.local_references)
    throw Error("internal: this rank's texts do not match its documents");
  v.x = fit_transform_blocks(mine, {static_cast<std::int64_t>(mine.size())}, nullptr, v.options,
                             &v.model, v.comm);
  if (!keep_text) v.corpus.packs.clear();
}

// The texts of every rank's documents at rank 0 (the report's diffs compare them).
void gather_texts_at_root(Vectorized& v) {
  Comm& comm = *v.comm;
  std::string mine;
  const auto put = [&mine](std::int64_t n) {
    mine.append(reinterpret_cast<const char*>(&n), sizeof n);
  };
  const std::int64_t ranges[2][2] = {{v.q_begin, v.local_queries},
                                     {v.queries + v.r_begin, v.local_references}};
  for (const auto& range : ranges) {
    put(range[0]);
    put(range[1]);
    for (std::int64_t d = range[0]; d < range[0] + range[1]; ++d) {
      const std::string& t = v.corpus.docs[static_cast<std::size_t>(d)].text;
      put(static_cast<std::int64_t>(t.size()));
      mine += t;
    }
  }
  const std::vector<std::string> parts = comm.gatherv(mine, 0);
  for (std::size_t r = 0; r < parts.size(); ++r) {
    if (static_cast<int>(r) == comm.rank()) continue;
    const std::string& part = parts[r];
    std::size_t pos = 0;
    const auto get = [&] {
      std::int64_t n = 0;
      if (part.size() - pos < sizeof n) throw Error("internal: malformed texts between ranks");
      std::memcpy(&n, part.data() + pos, sizeof n);
      pos += sizeof n;
      return n;
    };
    for (int side = 0; side < 2; ++side) {
      const std::int64_t first = get(), count = get();
      for (std::int64_t d = first; d < first + count; ++d) {
        const auto len = static_cast<std::size_t>(get());
        if (part.size() - pos < len || d < 0 ||
            d >= static_cast<std::int64_t>(v.corpus.docs.size()))
          throw Error("internal: malformed texts between ranks");
        v.corpus.docs[static_cast<std::size_t>(d)].text.assign(part, pos, len);
        pos += len;
      }
    }
  }
}

}  // namespace

Vectorized load_and_vectorize(const std::vector<std::string>& inputs,
                              const std::vector<std::string>& references, const ReaderCli& reader,
                              const TfidfCli& tfidf, const RunContext& ctx, bool keep_text) {
  Vectorized v;
  v.options = tfidf.to_options(ctx.threads);
  v.options_text = tfidf.describe(v.options);
  // Texts consumed by vectorizing live in packs, freed pack by pack as tokenized.
  int printed = 0;
  const ReaderOptions ro = reader_options(reader, ctx, !keep_text, &printed);

  if (ctx.distributed()) {
    for (const auto* files : {&inputs, &references})
      for (const std::string& f : *files)
        if (f == "-")
          throw UsageError("under MPI the ranks share the input files: give files, not - (stdin)");
  }
  auto t0 = std::chrono::steady_clock::now();
  // In a distributed run each rank parses its share of the inputs, and every
  // rank gets every document's number and metadata; it vectorizes its own rows.
  if (ctx.distributed()) {
    read_inputs(v, inputs, references, ro, ctx.comm);
  } else {
    read_inputs(v, inputs, references, ro, nullptr);
  }
  v.read_seconds = seconds_since(t0);
  v.comm = ctx.comm;
  if (!ctx.quiet) {
    std::fprintf(stderr, "papersim: read %s documents in %.2f s; vectorizing (%s)\n",
                 format_count(static_cast<std::int64_t>(v.corpus.docs.size())).c_str(),
                 v.read_seconds, v.options_text.c_str());
  }

  t0 = std::chrono::steady_clock::now();
  if (v.distributed()) {
    vectorize_own_rows(v, keep_text);
    if (keep_text) gather_texts_at_root(v);
  } else if (keep_text) {
    std::vector<const std::string*> texts;
    texts.reserve(v.corpus.docs.size());
    for (const auto& d : v.corpus.docs) texts.push_back(&d.text);
    v.x = fit_transform(texts, v.options, &v.model);
  } else {
    // Each pack of texts is freed once tokenized: texts and matrix never peak together.
    std::vector<TextPack>& packs = v.corpus.packs;
    std::vector<std::int64_t> ends;
    std::int64_t end = 0;
    for (const TextPack& p : packs) ends.push_back(end += static_cast<std::int64_t>(p.size()));
    v.x = fit_transform_blocks(
        all_texts(v.corpus), ends, [&packs](std::size_t b) { packs[b].release(); }, v.options,
        &v.model);
    packs.clear();
  }
  if (!v.distributed()) v.local_queries = v.queries;
  v.total_nnz = v.x.nnz();
  if (v.distributed()) {
    std::vector<std::int64_t> nnz{v.total_nnz};
    v.comm->allreduce(nnz, Comm::Op::kSum);
    v.total_nnz = nnz[0];
  }
  v.vectorize_seconds = seconds_since(t0);
  return v;
}

namespace {

CsrMatrix gather_rows(const CsrMatrix& x, const std::vector<std::int64_t>& rows) {
  CsrMatrix out;
  out.rows = static_cast<std::int64_t>(rows.size());
  out.cols = x.cols;
  out.indptr.reserve(rows.size() + 1);
  std::int64_t nnz = 0;
  for (std::int64_t r : rows) nnz += x.row_nnz(r);
  out.indices.reserve(static_cast<std::size_t>(nnz));
  out.data.reserve(static_cast<std::size_t>(nnz));
  for (std::int64_t r : rows) {
    out.indices.insert(out.indices.end(), x.indices.begin() + x.indptr[r],
                       x.indices.begin() + x.indptr[r + 1]);
    out.data.insert(out.data.end(), x.data.begin() + x.indptr[r], x.data.begin() + x.indptr[r + 1]);
    out.indptr.push_back(static_cast<std::int64_t>(out.indices.size()));
  }
  return out;
}

}  // namespace

void collapse_ids(Vectorized& v) {
  const std::int64_t n = static_cast<std::int64_t>(v.corpus.docs.size());
  std::vector<std::int64_t> keep;
  keep.reserve(static_cast<std::size_t>(n));
  std::int64_t kept_queries = 0;
  {
    std::unordered_set<std::string_view> seen;
    for (std::int64_t i = 0; i < n; ++i) {
      if (i == v.queries) seen.clear();  // each side keeps its own first records
      if (seen.insert(v.corpus.docs[i].id).second) keep.push_back(i);
      if (i + 1 == v.queries) kept_queries = static_cast<std::int64_t>(keep.size());
    }
  }
  v.collapsed = n - static_cast<std::int64_t>(keep.size());
  if (v.collapsed == 0) return;
  if (v.distributed()) {
    // This rank's rows are documents [q_begin, +local_queries) and the
    // references after r_begin: keep those kept, renumbered as kept documents.
    std::vector<std::int64_t> kept_before(static_cast<std::size_t>(n + 1), 0);
    {
      std::vector<char> is_kept(static_cast<std::size_t>(n), 0);
      for (std::int64_t i : keep) is_kept[i] = 1;
      for (std::int64_t i = 0; i < n; ++i) kept_before[i + 1] = kept_before[i] + is_kept[i];
    }
    const auto doc_of = [&](std::int64_t row) {
      return row < v.local_queries ? v.q_begin + row
                                   : v.queries + v.r_begin + row - v.local_queries;
    };
    std::vector<std::int64_t> rows;
    std::int64_t local_queries = 0;
    for (std::int64_t row = 0; row < v.x.rows; ++row) {
      const std::int64_t d = doc_of(row);
      if (kept_before[d + 1] == kept_before[d]) continue;
      rows.push_back(row);
      local_queries += row < v.local_queries;
    }
    const std::int64_t r_doc = v.queries + v.r_begin;
    v.q_begin = kept_before[v.q_begin];
    v.r_begin = kept_before[r_doc] - kept_queries;
    v.local_queries = local_queries;
    v.local_references = static_cast<std::int64_t>(rows.size()) - local_queries;
    v.x = gather_rows(v.x, rows);
  } else {
    v.x = gather_rows(v.x, keep);
    v.local_queries = kept_queries;
  }
  std::vector<std::int64_t> nnz{v.x.nnz()};
  if (v.distributed()) v.comm->allreduce(nnz, Comm::Op::kSum);
  v.total_nnz = nnz[0];
  std::vector<Document> docs;
  docs.reserve(keep.size());
  for (std::int64_t i : keep) docs.push_back(std::move(v.corpus.docs[i]));
  v.corpus.docs = std::move(docs);
  v.queries = kept_queries;
}

void drop_same_id_matches(const Vectorized& v, SimilarityResult& r, std::int64_t k,
                          std::int64_t first_query) {
  if (!v.cross || v.collapsed < 0) return;
  const auto& docs = v.corpus.docs;
  for (std::size_t q = 0; q < r.topk.size(); ++q) {
    auto& list = r.topk[q];
    const std::string& id = docs[q + static_cast<std::size_t>(first_query)].id;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const Neighbor& n) { return docs[n.doc + v.queries].id == id; }),
               list.end());
    if (static_cast<std::int64_t>(list.size()) > k) list.resize(static_cast<std::size_t>(k));
  }
  r.pairs.erase(
      std::remove_if(r.pairs.begin(), r.pairs.end(),
                     [&](const ScoredPair& p) { return docs[p.a].id == docs[p.b + v.queries].id; }),
      r.pairs.end());
}

void CorpusArgs::add_to(CLI::App& cmd, const std::string& inputs_help,
                        const std::string& against_help, bool with_collapse) {
  cmd.add_option("inputs", inputs, inputs_help)->required();
  if (!against_help.empty()) add_list_option(cmd, "--against", against, against_help);
  if (with_collapse) add_collapse_ids_flag(cmd, collapse);
  reader.add_to(cmd);
  tfidf.add_to(cmd);
  engine.add_to(cmd);
}

Vectorized CorpusArgs::load(const RunContext& ctx, bool keep_text) const {
  Vectorized v = load_and_vectorize(inputs, against, reader, tfidf, ctx, keep_text);
  if (collapse) collapse_ids(v);
  return v;
}

std::vector<std::string> files_read(const std::vector<std::string>& inputs, const TfidfCli& tfidf) {
  std::vector<std::string> files = inputs;
  if (tfidf.stop_words != "none" && tfidf.stop_words != "english") {
    files.push_back(tfidf.stop_words);
  }
  return files;
}

std::vector<std::string> CorpusArgs::read_files() const {
  std::vector<std::string> files = files_read(inputs, tfidf);
  files.insert(files.end(), against.begin(), against.end());
  if (!index.empty()) files.push_back(index);
  return files;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void add_collapse_ids_flag(CLI::App& cmd, bool& collapse) {
  cmd.add_flag("--collapse-ids", collapse,
               "Records sharing an id are one paper (its first record represents it): never "
               "each other's neighbours or pairs, and listed once");
}

SimilarityResult run_collapsed_similarity(const Vectorized& v, SimilarityBackend& backend,
                                          SimilarityParams params, const RunContext& ctx,
                                          bool gather) {
  const std::int64_t k = params.k;
  const bool filter = v.cross && v.collapsed >= 0;
  if (filter && k > 0) params.k = k + 1;
  SimilarityResult r = run_similarity(v, backend, params, ctx, gather);
  // Lists kept at their rank are this rank's query rows.
  if (filter) drop_same_id_matches(v, r, k, v.distributed() && !gather ? v.q_begin : 0);
  return r;
}

void check_tfidf_options(const TfidfCli& tfidf, const RunContext& ctx) {
  validate_tfidf_options(tfidf.to_options(ctx.threads));
}

std::unique_ptr<SimilarityBackend> make_checked_backend(const EngineCli& engine,
                                                        SimilarityParams& params,
                                                        const Comm* comm) {
  validate_params(params);
  auto backend = make_backend(parse_backend_kind(engine.backend));
  // Under MPI each rank takes one GPU of its node, by its node-local rank.
  if (comm != nullptr && comm->size() > 1 && backend->name().rfind("cuda", 0) == 0) {
    params.devices =
        local_device(params.devices, static_cast<int>(cuda_devices().size()), comm->local_rank());
  }
  backend->check(params);
  return backend;
}

SimilarityResult run_join(SimilarityBackend& backend, const CsrView& queries,
                          const CsrView* references, SimilarityParams params,
                          const RunContext& ctx) {
  const std::int64_t total =
      references ? queries.rows * references->rows : queries.rows * (queries.rows - 1) / 2;
  auto progress = std::make_shared<Progress>("pairs", total, !ctx.quiet);
  params.progress = [progress](std::int64_t done, std::int64_t) { progress->update(done); };
  if (!ctx.quiet) {
    std::fprintf(stderr, "papersim: %s pairs on backend %s\n", format_count(total).c_str(),
                 backend.name().c_str());
  }
  SimilarityResult r = references ? backend.cross_join(queries, *references, params)
                                  : backend.self_join(queries, params);
  progress->finish();
  return r;
}

namespace {

// Each rank's share of the ring join, printed by rank 0 (the measured rates
// and traffic the README's scaling table is derived from).
void report_ring_stats(Comm& comm, const detail::RingStats& rs, const RunContext& ctx) {
  const std::string mine(reinterpret_cast<const char*>(&rs), sizeof rs);
  const std::vector<std::string> all = comm.gatherv(mine, 0);
  if (ctx.quiet || all.empty()) return;
  std::fprintf(stderr,
               "papersim: ring join per rank (query rows, pairs, join time, rate, shifts, ring "
               "bytes sent; collective bytes sent before the join):\n");
  for (std::size_t r = 0; r < all.size(); ++r) {
    detail::RingStats s;
    std::memcpy(&s, all[r].data(), sizeof s);
    const std::string gpu = s.device >= 0 ? "  GPU " + std::to_string(s.device) : "";
    std::fprintf(stderr,
                 "  rank %zu%s  %s rows  %s pairs  %.2f s  %.3g pairs/s  %lld shifts (%.2f s)  "
                 "%s; %s\n",
                 r, gpu.c_str(), format_count(s.rows).c_str(), format_count(s.pairs).c_str(),
                 s.seconds, s.seconds > 0 ? static_cast<double>(s.pairs) / s.seconds : 0.0,
                 static_cast<long long>(s.steps), s.shift_seconds,
                 format_bytes(static_cast<std::size_t>(s.bytes_sent)).c_str(),
                 format_bytes(static_cast<std::size_t>(s.collective_bytes)).c_str());
  }
}

// A distributed join of this rank's query rows with every rank's (self join,
// `cross` false) or with every rank's references, gathered at rank 0 or, with
// `gather` false, kept at each rank (its query rows' lists and the pairs found
// there) with the counters summed over the ranks.
SimilarityResult run_distributed(const Vectorized& v, SimilarityBackend& backend,
                                 SimilarityParams params, const RunContext& ctx, bool cross,
                                 bool gather = true) {
  const CsrView all = v.x.view();
  const CsrView queries = all.row_range(0, v.local_queries);
  const CsrView refs = all.row_range(v.local_queries, all.rows);
  std::vector<std::int64_t> n{v.queries, static_cast<std::int64_t>(v.corpus.docs.size())};
  const std::int64_t total =
      cross ? v.queries * (n[1] - v.queries) : v.queries * (v.queries - 1) / 2;
  // Rank 0's bar counts its own pairs (its total is known once the ring starts).
  auto progress = std::make_shared<std::unique_ptr<Progress>>();
  const bool show = !ctx.quiet;
  params.progress = [progress, show](std::int64_t done, std::int64_t here) {
    if (!*progress) *progress = std::make_unique<Progress>("pairs on rank 0", here, show);
    (*progress)->update(done);
  };
  if (!ctx.quiet) {
    std::fprintf(stderr, "papersim: %s pairs on backend %s, %s\n", format_count(total).c_str(),
                 backend.name().c_str(), v.comm->describe().c_str());
  }
  detail::RingStats rs;
  SimilarityResult mine = detail::ring_join(*v.comm, backend, queries, v.q_begin,
                                            cross ? &refs : nullptr, v.r_begin, params, &rs);
  rs.rows = queries.rows;
  if (params.devices.size() == 1 && backend.name().rfind("cuda", 0) == 0)
    rs.device = params.devices.front();
  if (*progress) (*progress)->finish();
  rs.collective_bytes = v.comm->collective_bytes_sent();
  report_ring_stats(*v.comm, rs, ctx);
  if (gather) return detail::gather_result(*v.comm, std::move(mine));
  SimilarityResult counters;
  counters.stats = mine.stats;
  SimilarityResult out = detail::gather_result(*v.comm, std::move(counters));
  out.topk = std::move(mine.topk);
  out.pairs = std::move(mine.pairs);
  return out;
}

}  // namespace

SimilarityResult run_query_self_join(const Vectorized& v, SimilarityBackend& backend,
                                     SimilarityParams params, const RunContext& ctx) {
  if (v.distributed()) return run_distributed(v, backend, std::move(params), ctx, false);
  return run_join(backend, v.x.view().row_range(0, v.queries), nullptr, std::move(params), ctx);
}

SimilarityResult run_similarity(const Vectorized& v, SimilarityBackend& backend,
                                SimilarityParams params, const RunContext& ctx, bool gather) {
  if (v.distributed()) return run_distributed(v, backend, std::move(params), ctx, v.cross, gather);
  const CsrView all = v.x.view();
  if (!v.cross) return run_join(backend, all, nullptr, std::move(params), ctx);
  // Queries and references are row ranges of the one matrix: no copies.
  const CsrView refs = all.row_range(v.queries, all.rows);
  return run_join(backend, all.row_range(0, v.queries), &refs, std::move(params), ctx);
}

std::vector<ScoredPair> pairs_in_doc_space(const Vectorized& v,
                                           const std::vector<ScoredPair>& pairs) {
  if (!v.cross) return pairs;
  std::vector<ScoredPair> out(pairs);
  for (auto& p : out) p.b += v.queries;
  return out;
}

void print_engine_stats(const SimilarityStats& r) {
  // The pass alone: an index's column blocks verified by the run are reported
  // with the index (print_query_summary).
  const double pass_seconds = r.seconds - r.verify_seconds;
  // A run without tiles (an empty side) has no head or re-scoring to report.
  const bool tiled = r.tiles > 0;
  if (tiled && r.dense_queries) {
    std::fprintf(stderr, "  backend           %s (dense queries, %s tiles)\n", r.backend.c_str(),
                 format_count(r.tiles).c_str());
  } else if (tiled) {
    std::fprintf(stderr, "  backend           %s (head D=%d, %s tiles%s)\n", r.backend.c_str(),
                 r.head_dim, format_count(r.tiles).c_str(),
                 r.column_blocks ? ", the index's column blocks" : "");
  } else {
    std::fprintf(stderr, "  backend           %s\n", r.backend.c_str());
  }
  std::fprintf(stderr, "  pairs evaluated   %s in %.2f s (%.3g pairs/s)\n",
               format_count(r.pairs_evaluated).c_str(), pass_seconds,
               pass_seconds > 0 ? static_cast<double>(r.pairs_evaluated) / pass_seconds : 0.0);
  std::fprintf(stderr, "  empty documents   %s (no terms: no neighbours)\n",
               format_count(r.zero_rows).c_str());
  if (tiled) {
    std::fprintf(stderr, "  exact re-scoring  %s candidates, %s rows recomputed\n",
                 format_count(r.rescored).c_str(), format_count(r.fallback_rows).c_str());
    std::fprintf(stderr, "  engine memory     %s (lists, tables, tiles)\n",
                 format_bytes(r.peak_working_bytes).c_str());
  }
}

void print_summary(const Summary& s, const RunContext& ctx) {
  if (ctx.quiet) return;
  const Vectorized& v = *s.v;
  const ReadStats& st = v.corpus.stats;
  std::fprintf(stderr, "\nsummary\n");
  std::fprintf(stderr, "  documents         %s",
               format_count(static_cast<std::int64_t>(v.corpus.docs.size())).c_str());
  if (v.cross) {
    std::fprintf(stderr, " (%s queries, %s references)", format_count(v.queries).c_str(),
                 format_count(static_cast<std::int64_t>(v.corpus.docs.size()) - v.queries).c_str());
  }
  std::fprintf(stderr, " from %lld file(s)\n", static_cast<long long>(st.files));
  std::fprintf(stderr, "  skipped records   %s", format_count(st.skipped_total()).c_str());
  if (!st.skipped.empty()) {
    const char* sep = " (";
    for (const auto& kv : st.skipped) {
      std::fprintf(stderr, "%s%s: %lld", sep, kv.first.c_str(), static_cast<long long>(kv.second));
      sep = ", ";
    }
    std::fprintf(stderr, ")");
  }
  std::fprintf(stderr, "\n  title only        %s (no abstract: the title is the text)\n",
               format_count(st.title_only).c_str());
  if (v.collapsed >= 0) {
    std::fprintf(stderr,
                 "  duplicate ids     %s (--collapse-ids: %s records folded into their "
                 "paper's first record)\n",
                 format_count(st.duplicate_ids).c_str(), format_count(v.collapsed).c_str());
  } else {
    std::fprintf(stderr, "  duplicate ids     %s (kept)\n", format_count(st.duplicate_ids).c_str());
  }
  std::fprintf(stderr, "  vocabulary        %s terms, %s non-zeros\n",
               format_count(static_cast<std::int64_t>(v.model.vocabulary.size())).c_str(),
               format_count(v.total_nnz).c_str());
  std::fprintf(stderr, "  read / vectorize  %.2f s / %.2f s\n", v.read_seconds,
               v.vectorize_seconds);
  if (s.result) print_engine_stats(s.result->stats);
  if (s.duplicates >= 0)
    std::fprintf(stderr, "  duplicate pairs   %s\n", format_count(s.duplicates).c_str());
  if (s.clusters >= 0)
    std::fprintf(stderr, "  clusters          %s\n", format_count(s.clusters).c_str());
  std::fprintf(stderr, "  peak memory       %s (host RSS)\n",
               format_bytes(peak_rss_bytes()).c_str());
  std::fprintf(stderr, "  total time        %.2f s\n", s.total_seconds);
}

std::string RunContext::output_path(const std::string& path) const {
  if (path.empty() || comm == nullptr || comm->is_root()) return path;
  return "/dev/null";
}

int exit_code_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const PeerFailed& e) {
    return e.code();
  } catch (const UsageError&) {
    return kExitUsage;
  } catch (const InputError&) {
    return kExitInput;
  } catch (const BackendUnavailable&) {
    return kExitBackend;
  } catch (...) {
    return kExitRuntime;
  }
}

std::string error_message(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::bad_alloc&) {
    return "out of memory (lower --memory-budget or --tile)";
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

void agreed_phase(Comm* comm, const std::function<void()>& phase) {
  if (comm == nullptr || comm->size() == 1) return phase();
  std::exception_ptr error;
  try {
    phase();
  } catch (...) {
    error = std::current_exception();
  }
  // The lowest failing rank speaks for all; every rank ends with its code.
  std::vector<std::int64_t> first{error ? comm->rank() : comm->size()};
  comm->allreduce(first, Comm::Op::kMin);
  if (first[0] == comm->size()) return;
  std::vector<std::int64_t> code{comm->rank() == first[0] ? exit_code_of(error) : 0};
  comm->allreduce(code, Comm::Op::kMax);
  if (comm->rank() == first[0])
    std::fprintf(stderr, "papersim: error: %s\n", error_message(error).c_str());
  throw PeerFailed(static_cast<int>(code[0]));
}

void write_at_root(const RunContext& ctx, const std::function<void()>& write) {
  agreed_phase(ctx.comm, [&] {
    if (ctx.comm == nullptr || ctx.comm->is_root()) write();
  });
}

void write_parts_at_root(const RunContext& ctx, OutputFile& file, const std::string& header,
                         const std::string& mine) {
  Comm* comm = ctx.comm;
  const bool root = comm == nullptr || comm->is_root();
  // Rank 0 keeps receiving after a failed write, so no rank waits forever on
  // it; the failure is agreed once every part has arrived.
  std::exception_ptr error;
  const auto write = [&](const std::string& bytes) {
    if (error) return;
    try {
      file.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    } catch (...) {
      error = std::current_exception();
    }
  };
  if (root) {
    write(header);
    write(mine);
  }
  // One part at a time, so rank 0 holds at most one other rank's bytes.
  for (int r = 1; comm != nullptr && r < comm->size(); ++r) {
    if (root) {
      write(comm->sendrecv({}, r, r));
    } else if (comm->rank() == r) {
      comm->sendrecv(mine, 0, 0);
    }
  }
  agreed_phase(comm, [&] {
    if (error) std::rethrow_exception(error);
    if (root) file.close();
  });
}

void gather_matrix_at_root(Vectorized& v) {
  if (!v.distributed()) return;
  Comm& comm = *v.comm;
  const CsrView all = v.x.view();
  std::vector<std::string> q =
      comm.gatherv(detail::pack_csr(all.row_range(0, v.local_queries), v.q_begin), 0);
  std::vector<std::string> r =
      comm.gatherv(detail::pack_csr(all.row_range(v.local_queries, all.rows), v.r_begin), 0);
  if (!comm.is_root()) return;
  CsrMatrix x;
  x.cols = v.x.cols;
  // Rank order is row order: every query block, then every reference block.
  for (const auto* parts : {&q, &r}) {
    for (const std::string& part : *parts) {
      std::int64_t first = 0;
      append_rows(x, detail::unpack_csr(part, &first).view());
    }
  }
  v.x = std::move(x);
  v.local_queries = v.queries;
  v.q_begin = v.r_begin = 0;
}

}  // namespace papersim::cli
