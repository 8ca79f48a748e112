// papersim dedup: one record per duplicate cluster plus every singleton, written
// back as read (JSON Lines, JSON, CSV/TSV), with the removed records listed apart.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/pipeline.hpp"
#include "common/util.hpp"
#include "papersim/clusters.hpp"
#include "papersim/error.hpp"
#include "papersim/reader.hpp"

namespace papersim::cli {

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

enum class DedupFormat { kJsonl, kJsonArray, kDelimited };

// What each removed record points to: its cluster's first record, and why.
struct Removal {
  std::int64_t representative = -1;  // doc position; -1 = kept
  float score = 0;
  bool by_id = false;
};

// Clusters of the threshold pairs plus the same-id links; the first record of
// each cluster (input order) is kept. Records sharing an id always share a cluster.
std::vector<Removal> choose_removals(const Vectorized& v, std::vector<ScoredPair> pairs) {
  const auto& docs = v.corpus.docs;
  std::unordered_map<std::string_view, std::int64_t> first_of_id;
  first_of_id.reserve(docs.size());
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(docs.size()); ++i) {
    auto it = first_of_id.emplace(docs[i].id, i);
    if (!it.second) pairs.push_back({it.first->second, i, 1.0f});
  }
  std::vector<Removal> removals(docs.size());
  for (const Cluster& c : connected_components(v.x, pairs)) {
    const std::int64_t rep = c.id;  // the smallest doc: first in input order
    for (const ClusterMember& m : c.members) {
      if (m.doc == rep) continue;
      Removal& r = removals[static_cast<std::size_t>(m.doc)];
      r.representative = rep;
      r.score = exact_dot(v.x, m.doc, v.x, rep);
      r.by_id = docs[m.doc].id == docs[rep].id;
    }
  }
  return removals;
}

// A CSV/TSV row as a JSON object keyed by the header's columns (values as strings).
std::string row_as_json(const RawRecords& raw, const std::string& row) {
  const auto names = split_delimited_row(raw.header, raw.delimiter);
  const auto values = split_delimited_row(row, raw.delimiter);
  std::string s = "{";
  for (std::size_t c = 0; c < names.size() && c < values.size(); ++c) {
    if (c) s.push_back(',');
    append_json_string(s, names[c]);
    s.push_back(':');
    append_json_string(s, values[c]);
  }
  return s + "}";
}

struct DedupArgs {
  CorpusArgs corpus;
  float threshold = kDefaultThreshold;
  std::string out;
  std::string removed;
  std::string format = "auto";
};

}  // namespace

// The output's format: by --format, else by the output's name, else as the inputs.
DedupFormat output_format(const DedupArgs& a, const std::vector<RawRecords>& raw) {
  bool all_delimited = true;
  for (const auto& r : raw) {
    all_delimited = all_delimited &&
                    (r.format == InputFormat::kCsv || r.format == InputFormat::kTsv) &&
                    r.header == raw[0].header && r.delimiter == raw[0].delimiter;
  }
  const std::string& o = a.out;
  if (a.format == "csv" || (a.format == "auto" && (ends_with(o, ".csv") || ends_with(o, ".tsv")))) {
    if (!all_delimited) {
      throw UsageError("dedup: CSV output needs CSV/TSV inputs with one header and delimiter");
    }
    return DedupFormat::kDelimited;
  }
  if (a.format == "json" || (a.format == "auto" && ends_with(o, ".json")))
    return DedupFormat::kJsonArray;
  if (a.format == "auto" && !ends_with(o, ".jsonl") && !ends_with(o, ".ndjson") && all_delimited)
    return DedupFormat::kDelimited;
  return DedupFormat::kJsonl;
}

void register_dedup(CLI::App& app, TempFileRegistry& temps, Comm& comm) {
  auto a = std::make_shared<DedupArgs>();
  a->corpus.comm = &comm;
  auto* cmd = app.add_subcommand(
      "dedup",
      "Keep one record per duplicate cluster plus every singleton, in input order, written back "
      "as read; records sharing an id are duplicates whatever their score");
  a->corpus.add_to(*cmd, "Input files (JSONL, JSON, CSV, TSV; .gz/.xz/.zst)", "", false);
  cmd->add_option("-o,--output", a->out, "Deduplicated records (- for stdout)")->required();
  cmd->add_option("--removed", a->removed,
                  "Removed records as JSON Lines, each with its representative and score");
  cmd->add_option("-t,--threshold", a->threshold,
                  "Minimum cosine similarity of two records that are duplicates")
      ->capture_default_str();
  cmd->add_option("--format", a->format,
                  "Output format: auto (by the output's extension, else as the inputs), jsonl, "
                  "json or csv (CSV/TSV inputs with one header, written back with their columns)")
      ->capture_default_str();
  cmd->callback([a, &temps] {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    if (!(a->threshold >= 0.0f && a->threshold <= 1.0f)) {
      throw UsageError("--threshold must be in [0, 1], got " + format_score(a->threshold));
    }
    if (a->format != "auto" && a->format != "jsonl" && a->format != "json" && a->format != "csv") {
      throw UsageError("--format: expected auto, jsonl, json or csv, got '" + a->format + "'");
    }
    const std::vector<std::string>& inputs = a->corpus.inputs;
    RunContext ctx = a->corpus.context();
    SimilarityParams p = a->corpus.engine.to_params();
    p.k = 0;
    p.threshold = a->threshold;
    auto backend = make_checked_backend(a->corpus.engine, p, ctx.comm);  // before any input is read
    check_tfidf_options(a->corpus.tfidf, ctx);
    const ReaderOptions ro = a->corpus.reader.to_options();
    check_outputs_not_inputs({a->out, a->removed}, a->corpus.read_files());

    // The raw records first: an input that cannot be written back fails before
    // the work. Only the rank that writes (rank 0) needs them.
    std::vector<RawRecords> raw;
    DedupFormat fmt = DedupFormat::kJsonl;
    agreed_phase(ctx.comm, [&] {
      if (ctx.comm != nullptr && !ctx.comm->is_root()) return;
      raw.reserve(inputs.size());
      for (const auto& path : inputs) {
        if (path == "-") throw UsageError("dedup reads each input twice: give files, not stdin");
        raw.push_back(read_raw_records(path, ro));
      }
      fmt = output_format(*a, raw);
    });
    OutputFile out(ctx.output_path(a->out), temps);
    auto removed_out = open_optional_output(ctx.output_path(a->removed), temps);

    Vectorized v = a->corpus.load(ctx, false);
    SimilarityResult r = run_similarity(v, *backend, p, ctx);
    gather_matrix_at_root(v);  // representatives are scored from the rows
    std::int64_t kept = 0, by_id = 0, by_score = 0;
    write_at_root(ctx, [&] {
      const std::vector<Removal> removals = choose_removals(v, std::move(r.pairs));

      const auto& docs = v.corpus.docs;
      std::string buf;
      if (fmt == DedupFormat::kDelimited) out.stream() << raw[0].header << '\n';
      if (fmt == DedupFormat::kJsonArray) out.stream() << "[\n";
      for (std::size_t i = 0; i < docs.size(); ++i) {
        const Document& d = docs[i];
        const Removal& rm = removals[i];
        if (rm.representative >= 0) {
          (rm.by_id ? by_id : by_score) += 1;
          if (removed_out) {
            buf = "{";
            append_doc_fields(buf, d);
            buf += ",\"reason\":";
            buf += rm.by_id ? "\"id\"" : "\"score\"";
            buf += ",\"representative\":{";
            append_doc_fields(buf, docs[static_cast<std::size_t>(rm.representative)]);
            buf += "},\"score\":" + format_score(rm.score) + "}\n";
            removed_out->stream() << buf;
          }
          continue;
        }
        const RawRecords& file = raw[static_cast<std::size_t>(d.file)];
        if (d.record < 1 || d.record > static_cast<std::int64_t>(file.records.size())) {
          throw Error("internal: record " + std::to_string(d.record) + " of " + inputs[d.file] +
                      " was not cut from the file");
        }
        const std::string& text = file.records[static_cast<std::size_t>(d.record - 1)];
        const bool from_delimited =
            file.format == InputFormat::kCsv || file.format == InputFormat::kTsv;
        if (fmt == DedupFormat::kJsonArray && kept > 0) out.stream() << ",\n";
        if (fmt == DedupFormat::kDelimited || !from_delimited) {
          out.stream() << text;
        } else {
          out.stream() << row_as_json(file, text);
        }
        if (fmt != DedupFormat::kJsonArray) out.stream() << '\n';
        ++kept;
      }
      if (fmt == DedupFormat::kJsonArray) out.stream() << (kept ? "\n]\n" : "]\n");
      out.close();
      if (removed_out) removed_out->close();
    });
    print_summary({&v, &r, -1, -1, std::chrono::duration<double>(Clock::now() - t0).count()}, ctx);
    if (!ctx.quiet) {
      const ReadStats& st = v.corpus.stats;
      std::fprintf(stderr,
                   "papersim dedup: read %s records: kept %s, removed %s (%s sharing an id with "
                   "their representative, %s by score >= %s), skipped %s\n",
                   format_count(st.records).c_str(), format_count(kept).c_str(),
                   format_count(by_id + by_score).c_str(), format_count(by_id).c_str(),
                   format_count(by_score).c_str(), format_score(a->threshold).c_str(),
                   format_count(st.skipped_total()).c_str());
    }
  });
}

}  // namespace papersim::cli
