#include "papersim/synth.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "common/atomic_file.hpp"
#include "common/util.hpp"
#include "papersim/error.hpp"
#include "synth/generate.hpp"
#include "synth/model.hpp"

namespace papersim {
namespace synth {
namespace {

// Stream purposes: each document draws its content, its copy decision and its
// edits from separate streams, so a copy's edits never shift its source's text.
constexpr std::uint64_t kContentStream = 1;
constexpr std::uint64_t kCopyStream = 2;
constexpr std::uint64_t kEditStream = 3;

// Documents per chunk: the unit of parallel work and of gzip flushing. Fixed,
// so the bytes (compressed ones included) never depend on the thread count.
constexpr std::int64_t kChunkDocs = 1024;

// Tries to find an original (non-candidate) source before giving up.
constexpr int kSourceTries = 32;

const QuantileTable& abstract_lengths() {
  static const QuantileTable t(abstract_length_quantiles());
  return t;
}
const QuantileTable& title_lengths() {
  static const QuantileTable t(title_length_quantiles());
  return t;
}

std::uint64_t draw_word(const WordModel& model, const DocContent& doc, Rng& rng, bool title) {
  const ModelParams& p = model.params();
  for (;;) {
    const std::uint64_t r = model.sample_rank(rng);
    if (r < static_cast<std::uint64_t>(p.topic_start)) {
      if (title && rng.uniform() >= p.title_generic_keep) continue;
      if (r >= static_cast<std::uint64_t>(p.style_first) &&
          r < static_cast<std::uint64_t>(p.style_ranks) &&
          Rng(doc.style ^ (r * 0x9E3779B97F4A7C15ull)).uniform() < p.style_avoid &&
          rng.uniform() >= p.style_keep)
        continue;
      return r;
    }
    if (rng.uniform() >= p.topical) return r;
    if (!doc.keywords.empty() && rng.uniform() < (title ? p.title_keyword : p.keyword)) {
      // Skewed towards the first keywords: a few terms dominate an abstract.
      const double u = rng.uniform();
      return doc.keywords[static_cast<std::size_t>(u * u * doc.keywords.size())];
    }
    const int t = rng.uniform() < doc.secondary_share ? doc.secondary : doc.topic;
    return model.topic_word(r, t);
  }
}

void fill_title(const WordModel& model, DocContent& doc, Rng& rng) {
  const int n = std::max(1, title_lengths().sample(rng));
  doc.title.clear();
  for (int i = 0; i < n; ++i) doc.title.push_back({draw_word(model, doc, rng, true), 0});
}

bool is_copy_candidate(const SynthOptions& options, std::int64_t doc) {
  if (doc == 0 || options.dup_fraction <= 0.0) return false;
  Rng rng(stream_seed(options.seed, doc, kCopyStream));
  return rng.uniform() < options.dup_fraction;
}

void validate(const SynthOptions& o) {
  auto bad = [](const std::string& what) { throw UsageError("synth: " + what); };
  if (o.docs < 0) bad("--docs must be >= 0");
  if (!(o.dup_fraction >= 0.0 && o.dup_fraction < 1.0)) bad("--dup-fraction must be in [0, 1)");
  if (!(o.edit_rate_min >= 0.0 && o.edit_rate_min <= o.edit_rate_max && o.edit_rate_max <= 1.0))
    bad("edit rates must satisfy 0 <= min <= max <= 1");
  if (!(o.title_edit_prob >= 0.0 && o.title_new_prob >= 0.0 &&
        o.title_edit_prob + o.title_new_prob <= 1.0))
    bad("title edit probabilities must be >= 0 and sum to at most 1");
  if (o.gzip_level < 0 || o.gzip_level > 9) bad("gzip level must be in 0..9");
}

// Apply word edits at `rate`; returns the number of edits.
std::int64_t edit_words(const WordModel& model, const DocContent& doc, std::vector<Token>& words,
                        double rate, bool title, Rng& rng) {
  std::vector<Token> out;
  out.reserve(words.size() + words.size() / 4 + 1);
  std::int64_t edits = 0;
  for (const Token& tok : words) {
    if (rng.uniform() >= rate) {
      out.push_back(tok);
      continue;
    }
    ++edits;
    switch (rng.below(3)) {
      case 0:  // substitution keeps the punctuation that followed the word
        out.push_back({draw_word(model, doc, rng, title), tok.flags});
        break;
      case 1:  // deletion moves a sentence end to the previous word
        if ((tok.flags & kSentenceEnd) && !out.empty()) {
          out.back().flags = static_cast<std::uint8_t>((out.back().flags & ~kComma) | kSentenceEnd);
        }
        break;
      default:  // insertion before the word, inside its sentence
        out.push_back({draw_word(model, doc, rng, title), 0});
        out.push_back(tok);
        break;
    }
  }
  if (out.empty()) out.push_back({draw_word(model, doc, rng, title), kSentenceEnd});
  if (!title) out.back().flags = kSentenceEnd;
  words.swap(out);
  return edits;
}

bool same_words(const std::vector<Token>& a, const std::vector<Token>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](const Token& x, const Token& y) { return x.rank == y.rank; });
}

// One chunk's output.
struct Chunk {
  std::string bytes;  // JSON Lines text, or its raw-deflate stream when compressing
  uLong crc = 0;      // of the JSON text
  std::uint64_t json_bytes = 0;
  std::int64_t words = 0;
  std::vector<PlantedPair> copies;
};

// Raw deflate (no header) of one chunk, ending on a byte boundary (sync flush)
// so chunks concatenate into one deflate stream; the last chunk finishes it.
// This is pigz's scheme without the shared dictionary: slightly larger output,
// fully parallel, and readable by any gzip reader as a single member.
std::string deflate_chunk(const std::string& in, int level, bool last) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error("synth: zlib deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, in.size()) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::size_t used = 0;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(&out[used]);
    zs.avail_out = static_cast<uInt>(out.size() - used);
    const int rc = deflate(&zs, last ? Z_FINISH : Z_SYNC_FLUSH);
    used = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END || (!last && rc == Z_OK && zs.avail_out > 0 && zs.avail_in == 0)) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      deflateEnd(&zs);
      throw Error("synth: zlib deflate failed");
    }
    out.resize(out.size() * 2);
  }
  deflateEnd(&zs);
  out.resize(used);
  return out;
}

std::string gzip_header() {
  // Magic, deflate, no flags, mtime 0 (reproducible bytes), no extra flags, OS unix.
  return std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
}

std::string gzip_trailer(uLong crc, std::uint64_t length) {
  std::string t(8, '\0');
  for (int i = 0; i < 4; ++i) t[i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  for (int i = 0; i < 4; ++i) t[4 + i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  return t;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A file (or stdout) written safely (common/atomic_file.hpp), counting its bytes.
class OutFile {
 public:
  OutFile(const std::string& path, TempFileRegistry* temps) : file_(path, temps) {}
  void write(std::string_view s) {
    file_.write(s);
    bytes_ += s.size();
  }
  void close() { file_.commit(); }
  std::uint64_t bytes() const { return bytes_; }

 private:
  AtomicFile file_;
  std::uint64_t bytes_ = 0;
};

}  // namespace

const WordModel& default_model() {
  static const WordModel model{ModelParams{}};
  return model;
}

DocContent original_content(const WordModel& model, std::uint64_t seed, std::int64_t doc) {
  const ModelParams& p = model.params();
  Rng rng(stream_seed(seed, doc, kContentStream));
  DocContent c;
  c.style = rng.next();
  c.topic = model.sample_topic(rng);
  c.secondary = model.sample_topic(rng);
  c.secondary_share = rng.uniform() * p.secondary_max;
  c.keywords.reserve(static_cast<std::size_t>(p.keywords));
  for (int i = 0; i < p.keywords; ++i) {
    std::uint64_t r;
    do r = model.sample_rank(rng);
    while (r < static_cast<std::uint64_t>(p.topic_start));
    const int t = rng.uniform() < c.secondary_share ? c.secondary : c.topic;
    c.keywords.push_back(model.topic_word(r, t));
  }
  fill_title(model, c, rng);
  const int n = std::max(1, abstract_lengths().sample(rng));
  c.abstract.reserve(static_cast<std::size_t>(n));
  int sentence_left = 0;
  for (int i = 0; i < n; ++i) {
    if (sentence_left == 0)
      sentence_left = p.sentence_min + static_cast<int>(rng.below(static_cast<std::uint64_t>(
                                           p.sentence_max - p.sentence_min + 1)));
    Token tok{draw_word(model, c, rng, false), 0};
    if (--sentence_left == 0 || i + 1 == n)
      tok.flags = kSentenceEnd;
    else if (rng.uniform() < p.comma)
      tok.flags = kComma;
    c.abstract.push_back(tok);
  }
  return c;
}

std::int64_t copy_source(const SynthOptions& options, std::int64_t doc) {
  if (!is_copy_candidate(options, doc)) return -1;
  // A fresh stream (not the decision's) picks the source: uniform over earlier
  // documents that are originals, so a copy is never a copy of a copy.
  Rng rng(stream_seed(options.seed, doc, kCopyStream) ^ 0x5DEECE66Dull);
  for (int i = 0; i < kSourceTries; ++i) {
    const auto src = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(doc)));
    if (!is_copy_candidate(options, src)) return src;
  }
  return -1;
}

DocContent document_content(const WordModel& model, const SynthOptions& options, std::int64_t doc,
                            PlantedPair* copy, bool* is_copy) {
  const std::int64_t src = copy_source(options, doc);
  if (is_copy) *is_copy = src >= 0;
  if (src < 0) return original_content(model, options.seed, doc);
  DocContent c = original_content(model, options.seed, src);
  Rng rng(stream_seed(options.seed, doc, kEditStream));
  const double rate =
      options.edit_rate_min + rng.uniform() * (options.edit_rate_max - options.edit_rate_min);
  const std::vector<Token> title = c.title;
  const std::int64_t edits = edit_words(model, c, c.abstract, rate, false, rng);
  const double u = rng.uniform();
  if (u < options.title_new_prob) {
    fill_title(model, c, rng);
  } else if (u < options.title_new_prob + options.title_edit_prob) {
    edit_words(model, c, c.title, std::min(1.0, 3.0 * rate), true, rng);
  }
  if (copy) {
    copy->doc_a = src;
    copy->doc_b = doc;
    copy->source = src;
    copy->edit_rate = rate;
    copy->edits = edits;
    copy->title_changed = !same_words(title, c.title);
    copy->siblings = false;
  }
  return c;
}

std::string render_title(const DocContent& c) {
  std::string s;
  s.reserve(c.title.size() * 7);
  for (std::size_t i = 0; i < c.title.size(); ++i) {
    if (i) s.push_back(' ');
    append_word(s, c.title[i].rank, true);
  }
  return s;
}

std::string render_abstract(const DocContent& c) {
  std::string s;
  s.reserve(c.abstract.size() * 8);
  bool start = true;
  for (std::size_t i = 0; i < c.abstract.size(); ++i) {
    if (i) s.push_back(' ');
    append_word(s, c.abstract[i].rank, start);
    start = false;
    if (c.abstract[i].flags & kSentenceEnd) {
      s.push_back('.');
      start = true;
    } else if (c.abstract[i].flags & kComma) {
      s.push_back(',');
    }
  }
  return s;
}

SynthDocument make_document(const WordModel& model, const SynthOptions& options, std::int64_t doc) {
  const DocContent c = document_content(model, options, doc, nullptr, nullptr);
  SynthDocument d;
  d.doc = doc;
  d.id = synth_id(options, doc);
  d.title = render_title(c);
  d.abstract = render_abstract(c);
  return d;
}

namespace {

void append_json_line(std::string& out, const std::string& id, const std::string& title,
                      const std::string& abstract) {
  // Pseudo-words and ASCII punctuation never need escaping; the id prefix might.
  out += "{\"id\": ";
  append_json_string(out, id);
  out += ", \"title\": \"";
  out += title;
  out += "\", \"abstract\": \"";
  out += abstract;
  out += "\"}\n";
}

// Siblings: copies of one source pair with each other; then sort everything.
std::vector<PlantedPair> complete_truth(std::vector<PlantedPair> copies) {
  std::sort(copies.begin(), copies.end(), [](const PlantedPair& x, const PlantedPair& y) {
    return x.source != y.source ? x.source < y.source : x.doc_b < y.doc_b;
  });
  std::vector<PlantedPair> all = copies;
  for (std::size_t i = 0; i < copies.size();) {
    std::size_t j = i;
    while (j < copies.size() && copies[j].source == copies[i].source) ++j;
    for (std::size_t a = i; a < j; ++a)
      for (std::size_t b = a + 1; b < j; ++b) {
        PlantedPair s;
        s.doc_a = copies[a].doc_b;
        s.doc_b = copies[b].doc_b;
        s.source = copies[a].source;
        s.edit_rate = copies[a].edit_rate + copies[b].edit_rate;
        s.edits = copies[a].edits + copies[b].edits;
        s.title_changed = copies[a].title_changed || copies[b].title_changed;
        s.siblings = true;
        all.push_back(s);
      }
    i = j;
  }
  std::sort(all.begin(), all.end(), [](const PlantedPair& x, const PlantedPair& y) {
    return x.doc_a != y.doc_a ? x.doc_a < y.doc_a : x.doc_b < y.doc_b;
  });
  return all;
}

}  // namespace

SynthStats synthesize_with(const WordModel& model, const SynthOptions& options, bool gzip,
                           const std::function<void(std::string_view)>& write,
                           const std::function<void(const PlantedPair&)>& on_pair,
                           const SynthProgressFn& progress) {
  validate(options);
  const auto t0 = std::chrono::steady_clock::now();
  const int threads = resolve_threads(options.threads);
  const std::int64_t chunks = (options.docs + kChunkDocs - 1) / kChunkDocs;
  // A few chunks per thread in flight: enough to balance, small enough to bound memory.
  const std::int64_t batch = static_cast<std::int64_t>(threads) * 4;
  SynthStats stats;
  stats.docs = options.docs;
  std::vector<PlantedPair> copies;
  uLong crc = crc32(0L, Z_NULL, 0);
  std::uint64_t out_bytes = 0;
  auto emit = [&](std::string_view s) {
    write(s);
    out_bytes += s.size();
  };
  if (gzip) emit(gzip_header());
  if (gzip && chunks == 0) emit(deflate_chunk(std::string(), options.gzip_level, true));
  for (std::int64_t first = 0; first < chunks; first += batch) {
    const std::int64_t n = std::min(batch, chunks - first);
    std::vector<Chunk> out(static_cast<std::size_t>(n));
    parallel_for(n, threads, [&](std::int64_t k) {
      const std::int64_t c = first + k;
      const std::int64_t begin = c * kChunkDocs;
      const std::int64_t end = std::min(options.docs, begin + kChunkDocs);
      Chunk& ch = out[static_cast<std::size_t>(k)];
      std::string text;
      text.reserve(static_cast<std::size_t>(end - begin) * 1600);
      for (std::int64_t d = begin; d < end; ++d) {
        PlantedPair copy;
        bool is_copy = false;
        const DocContent content = document_content(model, options, d, &copy, &is_copy);
        if (is_copy) ch.copies.push_back(copy);
        ch.words += static_cast<std::int64_t>(content.title.size() + content.abstract.size());
        append_json_line(text, synth_id(options, d), render_title(content),
                         render_abstract(content));
      }
      ch.json_bytes = text.size();
      if (gzip) {
        ch.crc =
            crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size()));
        ch.bytes = deflate_chunk(text, options.gzip_level, c + 1 == chunks);
      } else {
        ch.bytes.swap(text);
      }
    });
    for (Chunk& ch : out) {
      emit(ch.bytes);
      if (gzip) crc = crc32_combine(crc, ch.crc, static_cast<z_off_t>(ch.json_bytes));
      stats.json_bytes += ch.json_bytes;
      stats.words += ch.words;
      copies.insert(copies.end(), ch.copies.begin(), ch.copies.end());
      ch = Chunk();
    }
    if (progress) progress(std::min(options.docs, (first + n) * kChunkDocs), options.docs);
  }
  if (gzip) emit(gzip_trailer(crc, stats.json_bytes));
  stats.copies = static_cast<std::int64_t>(copies.size());
  const std::vector<PlantedPair> truth = complete_truth(std::move(copies));
  stats.pairs = static_cast<std::int64_t>(truth.size());
  if (on_pair)
    for (const PlantedPair& p : truth) on_pair(p);
  stats.out_bytes = out_bytes;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace synth

SynthDocument synth_document(const SynthOptions& options, std::int64_t doc) {
  synth::validate(options);
  if (doc < 0 || doc >= options.docs)
    throw UsageError("synth: document " + std::to_string(doc) + " out of range");
  return synth::make_document(synth::default_model(), options, doc);
}

std::vector<PlantedPair> synth_planted_pairs(const SynthOptions& options) {
  synth::validate(options);
  const synth::WordModel& model = synth::default_model();
  const std::int64_t chunks = (options.docs + synth::kChunkDocs - 1) / synth::kChunkDocs;
  std::vector<std::vector<PlantedPair>> per_chunk(static_cast<std::size_t>(chunks));
  parallel_for(chunks, options.threads, [&](std::int64_t c) {
    const std::int64_t end = std::min(options.docs, (c + 1) * synth::kChunkDocs);
    for (std::int64_t d = c * synth::kChunkDocs; d < end; ++d) {
      if (synth::copy_source(options, d) < 0) continue;
      PlantedPair p;
      bool is_copy = false;
      synth::document_content(model, options, d, &p, &is_copy);
      per_chunk[static_cast<std::size_t>(c)].push_back(p);
    }
  });
  std::vector<PlantedPair> copies;
  for (auto& v : per_chunk) copies.insert(copies.end(), v.begin(), v.end());
  return synth::complete_truth(std::move(copies));
}

std::string synth_id(const SynthOptions& options, std::int64_t doc) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%07lld", static_cast<long long>(doc));
  return options.id_prefix + digits;
}

std::string synth_json_line(const SynthDocument& doc) {
  std::string s;
  s += "{\"id\": ";
  append_json_string(s, doc.id);
  s += ", \"title\": ";
  append_json_string(s, doc.title);
  s += ", \"abstract\": ";
  append_json_string(s, doc.abstract);
  s += "}\n";
  return s;
}

std::string planted_pair_json(const PlantedPair& p, const SynthOptions& options) {
  std::string s = "{\"doc_a\": " + std::to_string(p.doc_a) +
                  ", \"doc_b\": " + std::to_string(p.doc_b) + ", \"id_a\": ";
  append_json_string(s, synth_id(options, p.doc_a));
  s += ", \"id_b\": ";
  append_json_string(s, synth_id(options, p.doc_b));
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.4f", p.edit_rate);
  s += ", \"edit_rate\": ";
  s += rate;
  s += ", \"edits\": " + std::to_string(p.edits);
  s += ", \"source\": " + std::to_string(p.source);
  s += std::string(", \"title_changed\": ") + (p.title_changed ? "true" : "false");
  s += std::string(", \"kind\": ") + (p.siblings ? "\"siblings\"" : "\"copy\"");
  s += "}\n";
  return s;
}

SynthStats synthesize(const SynthOptions& options,
                      const std::function<void(std::string_view)>& write,
                      const std::function<void(const PlantedPair&)>& on_pair,
                      const SynthProgressFn& progress) {
  return synth::synthesize_with(synth::default_model(), options, false, write, on_pair, progress);
}

SynthStats synthesize_to_file(const SynthOptions& options, const std::string& out_path,
                              const std::string& truth_path, const SynthProgressFn& progress,
                              TempFileRegistry* temps) {
  synth::validate(options);
  const bool gzip = synth::ends_with(out_path, ".gz");
  // Both files are put in place at the end, so a failed run leaves neither half-written.
  synth::OutFile out(out_path, temps);
  std::unique_ptr<synth::OutFile> truth_file;
  if (!truth_path.empty()) truth_file = std::make_unique<synth::OutFile>(truth_path, temps);
  std::string truth;
  const auto on_pair = [&](const PlantedPair& p) { truth += planted_pair_json(p, options); };
  SynthStats stats = synth::synthesize_with(
      synth::default_model(), options, gzip, [&](std::string_view s) { out.write(s); },
      truth_path.empty() ? std::function<void(const PlantedPair&)>() : on_pair, progress);
  if (truth_file) {
    synth::OutFile& t = *truth_file;
    if (synth::ends_with(truth_path, ".gz")) {
      t.write(synth::gzip_header());
      t.write(synth::deflate_chunk(truth, options.gzip_level, true));
      t.write(synth::gzip_trailer(
          crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(truth.data()),
                static_cast<uInt>(truth.size())),
          truth.size()));
    } else {
      t.write(truth);
    }
  }
  out.close();
  if (truth_file) truth_file->close();
  return stats;
}

}  // namespace papersim
