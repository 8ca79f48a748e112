// TF-IDF with scikit-learn TfidfVectorizer semantics, built in parallel:
// each worker tokenizes a share of the documents into its own term table,
// the tables are merged by hash partition, the surviving terms are sorted by
// bytes (scikit-learn's vocabulary order), and the rows are remapped, sorted
// and weighted in place. No per-token allocation, memory O(non-zeros + vocabulary).

#include "papersim/tfidf.hpp"

#include <libstemmer.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/util.hpp"
#include "papersim/comm.hpp"
#include "papersim/error.hpp"
#include "text/interner.hpp"
#include "text/tokenizer.hpp"

namespace papersim {

DfBound DfBound::parse(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return UsageError("document-frequency bound '" + text + "': " + why);
  };
  if (text.empty()) throw bad("empty");
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    errno = 0;
    const long long n = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE) throw bad("count out of range");
    return count(n);
  }
  char* end = nullptr;
  errno = 0;
  const double f = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(f))
    throw bad("expected an integer count (5) or a fraction (0.5)");
  if (f < 0.0 || f > 1.0) throw bad("a fraction must lie in [0, 1]");
  return fraction(f);
}

TfidfOptions tfidf_preset(const std::string& name) {
  TfidfOptions o;
  if (name == "sklearn") return o;
  if (name == "abstracts") {
    // Chosen by measurement on the shared corpora: see bench/results/preset-choice.md.
    o.stop_words = english_stop_words();
    o.sublinear_tf = true;
    o.strip_latex = true;
    return o;
  }
  throw UsageError("unknown TF-IDF preset '" + name + "' (expected sklearn or abstracts)");
}

std::vector<std::string> tokenize(const std::string& text, const TfidfOptions& options) {
  text::Tokenizer tokenizer(options);
  std::vector<std::string> tokens;
  tokenizer.run(text, [&](std::string_view t) { tokens.emplace_back(t); });
  return tokens;
}

namespace {

void validate(const TfidfOptions& o) {
  if (o.ngram_min < 1 || o.ngram_max < o.ngram_min)
    throw UsageError("ngram_range (" + std::to_string(o.ngram_min) + ", " +
                     std::to_string(o.ngram_max) + "): need 1 <= min <= max");
  for (const auto& [name, b] : {std::pair<const char*, DfBound>{"min_df", o.min_df},
                                std::pair<const char*, DfBound>{"max_df", o.max_df}}) {
    if (b.is_fraction && !(b.value >= 0.0 && b.value <= 1.0))
      throw UsageError(std::string(name) + " as a fraction must lie in [0, 1]");
    if (!b.is_fraction && !(b.value >= 0.0 && b.value == std::floor(b.value)))
      throw UsageError(std::string(name) + " as a count must be a non-negative integer");
  }
  if (o.max_features && *o.max_features < 1) throw UsageError("max_features must be >= 1");
  if (o.threads < 0) throw UsageError("threads must be >= 0");
  text::min_chars_of_pattern(o.token_pattern);  // Throws for unsupported patterns.
}

// One Snowball stemmer (not thread-safe: one per worker).
class Stemmer {
 public:
  explicit Stemmer(const std::string& language) {
    stemmer_ = sb_stemmer_new(language.c_str(), "UTF_8");
    if (stemmer_ == nullptr) {
      std::string known;
      for (const char** l = sb_stemmer_list(); *l != nullptr; ++l)
        known += std::string(known.empty() ? "" : ", ") + *l;
      throw UsageError("unknown stemmer language '" + language + "' (known: " + known + ")");
    }
  }
  ~Stemmer() { sb_stemmer_delete(stemmer_); }
  Stemmer(const Stemmer&) = delete;
  Stemmer& operator=(const Stemmer&) = delete;

  /// Valid until the next call.
  std::string_view stem(std::string_view word) {
    const sb_symbol* s = sb_stemmer_stem(stemmer_, reinterpret_cast<const sb_symbol*>(word.data()),
                                         static_cast<int>(word.size()));
    if (s == nullptr) throw Error("stemmer: out of memory");
    return {reinterpret_cast<const char*>(s),
            static_cast<std::size_t>(sb_stemmer_length(stemmer_))};
  }

 private:
  sb_stemmer* stemmer_ = nullptr;
};

struct Entry {
  std::int32_t term;   // Worker-local term id, later the column (or -1: pruned).
  std::int32_t count;  // Occurrences in the document.
};

// Growable array of entries whose consumed prefix can be handed back to the
// system while the matrix is built, so entries and matrix never both hold all
// non-zeros. Anonymous memory mapping on Linux (grown with mremap), a plain
// vector elsewhere (no early release there).
class EntryBuffer {
 public:
  EntryBuffer() = default;
  EntryBuffer(const EntryBuffer&) = delete;
  EntryBuffer& operator=(const EntryBuffer&) = delete;
  ~EntryBuffer() { reset(); }

  std::size_t size() const { return size_; }
  Entry* data() { return data_; }
  const Entry* data() const { return data_; }
  Entry& operator[](std::size_t i) { return data_[i]; }
  const Entry* begin() const { return data_; }
  const Entry* end() const { return data_ + size_; }
  Entry* begin() { return data_; }
  Entry* end() { return data_ + size_; }

  void push_back(Entry e) {
    if (size_ == capacity_) grow(capacity_ == 0 ? (1u << 16) : capacity_ * 2);
    data_[size_++] = e;
  }

  /// Reserve address space (not memory) for `n` entries.
  void reserve(std::size_t n) {
    if (n > capacity_) grow(n);
  }

  /// Entries [0, n) will not be read again: return their whole pages.
  void release_prefix(std::size_t n) {
#if defined(__linux__)
    const std::size_t page = 4096;
    const std::size_t bytes = n * sizeof(Entry) / page * page;
    if (bytes > released_) {
      madvise(reinterpret_cast<char*>(data_) + released_, bytes - released_, MADV_DONTNEED);
      released_ = bytes;
    }
#else
    (void)n;
#endif
  }

  void reset() {
#if defined(__linux__)
    if (data_ != nullptr) munmap(data_, capacity_ * sizeof(Entry));
#else
    delete[] data_;
#endif
    data_ = nullptr;
    size_ = capacity_ = released_ = 0;
  }

 private:
  void grow(std::size_t n) {
#if defined(__linux__)
    void* p = data_ == nullptr
                  ? mmap(nullptr, n * sizeof(Entry), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                  : mremap(data_, capacity_ * sizeof(Entry), n * sizeof(Entry), MREMAP_MAYMOVE);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<Entry*>(p);
#else
    Entry* p = new Entry[n];
    std::copy(data_, data_ + size_, p);
    delete[] data_;
    data_ = p;
#endif
    capacity_ = n;
  }

  Entry* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
  std::size_t released_ = 0;  // Bytes of the prefix already returned.
};

#if defined(__GNUC__)
#define PAPERSIM_ALWAYS_INLINE __attribute__((always_inline))
#else
#define PAPERSIM_ALWAYS_INLINE
#endif

// Tokenizes and counts the documents handed to one thread.
class Worker {
 public:
  Worker(const TfidfOptions& o, const text::Interner* stop_words)
      : tokenizer_(o),
        stop_words_(stop_words),
        ngram_min_(o.ngram_min),
        ngram_max_(o.ngram_max),
        unigram_only_(o.ngram_min == 1 && o.ngram_max == 1),
        cache_(1 << 15),
        long_tokens_(1 << 10),
        units_(unigram_only_ ? 16 : 1 << 15),
        terms_(1 << 15) {
    if (!o.stemmer.empty()) stemmer_ = std::make_unique<Stemmer>(o.stemmer);
  }

  /// Counts the terms of one document; returns its entries' range in entries().
  std::pair<std::int64_t, std::int64_t> process(std::string_view text) {
    const auto begin = static_cast<std::int64_t>(entries_.size());
    doc_begin_ = begin;
    ++doc_tag_;
    if (unigram_only_) {
      // Keys first, lookups second: with the whole document's keys at hand the
      // cache slots are prefetched a few tokens ahead, hiding memory latency.
      // Keys are collected in batches of kBatch tokens: the same prefetching
      // for any abstract, and a bounded buffer for a huge document (whose
      // keys, several times its bytes, would otherwise all be held at once).
      constexpr std::size_t kBatch = 1 << 14;
      text::TokenCache::Key* keys = keys_.data();
      std::size_t n = 0;
      auto lookup_and_count = [&] {
        constexpr std::size_t kAhead = 8;
        terms_of_doc_.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
          if (i + kAhead < n) cache_.prefetch(keys_[i + kAhead]);
          const text::TokenCache::Key& k = keys_[i];
          const std::int32_t t = cache_.get(k, [&] {
            const std::string_view tok = text::TokenCache::text(k);
            return resolve(tok, text::hash_bytes(tok));
          });
          terms_of_doc_[i] = t;
          // The term's mark is the next random access: fetch it early too.
          if (t >= 0) __builtin_prefetch(&marks_[t]);
        }
        for (std::size_t i = 0; i < n; ++i)
          if (terms_of_doc_[i] >= 0) count(terms_of_doc_[i]);
        n = 0;
      };
      tokenizer_.run(text, [&](std::string_view tok) PAPERSIM_ALWAYS_INLINE {
        if (tok.size() <= text::TokenCache::kMaxLen) {
          if (n == kBatch) lookup_and_count();
          if (n == keys_.size()) {
            keys_.resize(std::min(2 * n + 256, kBatch));
            keys = keys_.data();
          }
          keys[n++] = text::TokenCache::key(tok);
        } else {
          const std::int32_t t = long_unit_of(tok);
          if (t >= 0) count(t);
        }
      });
      lookup_and_count();
    } else {
      doc_units_.clear();
      tokenizer_.run(text, [&](std::string_view tok) {
        const std::int32_t u = unit_of(tok);
        if (u >= 0) doc_units_.push_back(u);
      });
      const int ntok = static_cast<int>(doc_units_.size());
      for (int n = ngram_min_; n <= std::min(ngram_max_, ntok); ++n) {
        if (n == 1) {
          for (std::int32_t u : doc_units_) count(unit_term_[u]);
          continue;
        }
        for (int i = 0; i + n <= ntok; ++i) {
          scratch_.clear();
          for (int k = 0; k < n; ++k) {
            if (k > 0) scratch_.push_back(' ');
            scratch_.append(units_.key(doc_units_[i + k]));
          }
          count(term_of(scratch_, text::hash_bytes(scratch_)));
        }
      }
    }
    return {begin, static_cast<std::int64_t>(entries_.size()) - begin};
  }

  const text::Interner& terms() const { return terms_; }
  EntryBuffer& entries() { return entries_; }
  void reserve(std::size_t entries) { entries_.reserve(entries); }

  /// Document frequency and total count of each term, from the entries (kept
  /// out of the per-token path, where they would cost a cache miss each).
  void term_totals(std::vector<std::int64_t>* df, std::vector<std::int64_t>* tf) const {
    df->assign(terms_.size(), 0);
    tf->assign(terms_.size(), 0);
    for (const Entry& e : entries_) {
      ++(*df)[e.term];
      (*tf)[e.term] += e.count;
    }
  }

  void release_tables() {
    cache_ = text::TokenCache(16);
    long_tokens_ = text::Interner(16);
    units_ = text::Interner(16);
    long_token_unit_ = {};
    unit_term_ = {};
    marks_ = {};
  }

 private:
  // The unit (stemmed, non-stop token) of a raw token; -1 for stop words. Cached
  // per distinct raw token, so stop-word checks and stemming run once per type.
  std::int32_t unit_of(std::string_view tok) {
    if (tok.size() > text::TokenCache::kMaxLen) return long_unit_of(tok);
    const text::TokenCache::Key k = text::TokenCache::key(tok);
    return cache_.get(k, [&] { return resolve(tok, text::hash_bytes(tok)); });
  }

  std::int32_t long_unit_of(std::string_view tok) {
    const std::uint64_t h = text::hash_bytes(tok);
    bool added = false;
    const std::int32_t id = long_tokens_.intern(tok, h, &added);
    if (added) long_token_unit_.push_back(resolve(tok, h));
    return long_token_unit_[id];
  }

  std::int32_t resolve(std::string_view tok, std::uint64_t h) {
    std::int32_t unit = -1;
    if (stop_words_ == nullptr || stop_words_->find(tok, h) < 0) {
      std::string_view s = tok;
      std::uint64_t hs = h;
      if (stemmer_) {
        s = stemmer_->stem(tok);
        hs = text::hash_bytes(s);
      }
      if (unigram_only_) {
        unit = term_of(s, hs);
      } else {
        bool new_unit = false;
        unit = units_.intern(s, hs, &new_unit);
        if (new_unit) unit_term_.push_back(ngram_min_ == 1 ? term_of(s, hs) : -1);
      }
    }
    return unit;
  }

  std::int32_t term_of(std::string_view s, std::uint64_t h) {
    bool added = false;
    const std::int32_t t = terms_.intern(s, h, &added);
    if (added) marks_.push_back(0);
    return t;
  }

  void count(std::int32_t t) {
    // marks_[t]: the tag of the last document that counted t (high half) and
    // the index of its entry within that document (low half).
    std::uint64_t& mark = marks_[t];
    if (mark >> 32 == doc_tag_) {
      ++entries_[doc_begin_ + static_cast<std::uint32_t>(mark)].count;
    } else {
      mark = (static_cast<std::uint64_t>(doc_tag_) << 32) |
             static_cast<std::uint64_t>(entries_.size() - doc_begin_);
      entries_.push_back(Entry{t, 1});
    }
  }

  text::Tokenizer tokenizer_;
  const text::Interner* stop_words_;
  int ngram_min_, ngram_max_;
  bool unigram_only_;
  std::unique_ptr<Stemmer> stemmer_;
  text::TokenCache cache_;                     // Short raw tokens -> unit (-1: stop word).
  text::Interner long_tokens_;                 // Longer raw tokens...
  std::vector<std::int32_t> long_token_unit_;  // ...and their unit.
  text::Interner units_;                 // With n-grams: the units, whose strings n-grams join...
  std::vector<std::int32_t> unit_term_;  // ...and their unigram term (-1 when ngram_min > 1).
  text::Interner terms_;
  std::vector<std::uint64_t> marks_;
  EntryBuffer entries_;
  std::int64_t doc_begin_ = 0;
  std::uint64_t doc_tag_ = 0;
  std::vector<std::int32_t> doc_units_;
  std::vector<text::TokenCache::Key> keys_;
  std::vector<std::int32_t> terms_of_doc_;
  std::string scratch_;
};

// The merged statistics of the terms whose hash falls in one partition.
struct Partition {
  explicit Partition(std::size_t expected) : terms(expected) {}
  text::Interner terms;
  std::vector<std::int64_t> df, tf;
  std::vector<std::int32_t> col;  // Final column, -1 when pruned.
};

struct Candidate {
  std::string_view key;
  std::int32_t part;
  std::int32_t id;
};

// Sort by bytes on all threads: sorted chunks, then rounds of pairwise merges.
void parallel_sort(std::vector<Candidate>& v, int threads) {
  const auto less = [](const Candidate& a, const Candidate& b) { return a.key < b.key; };
  const std::size_t n = v.size();
  if (threads <= 1 || n < (1u << 15)) {
    std::sort(v.begin(), v.end(), less);
    return;
  }
  std::vector<std::size_t> bounds;
  for (int c = 0; c <= threads; ++c) bounds.push_back(n * c / threads);
  parallel_for(threads, threads, [&](std::int64_t c) {
    std::sort(v.begin() + bounds[c], v.begin() + bounds[c + 1], less);
  });
  std::vector<Candidate> tmp(n);
  while (bounds.size() > 2) {
    std::vector<std::size_t> next;
    const auto runs = static_cast<std::int64_t>(bounds.size() - 1);
    parallel_for((runs + 1) / 2, threads, [&](std::int64_t k) {
      const std::size_t a = bounds[2 * k], m = bounds[std::min<std::size_t>(2 * k + 1, runs)],
                        b = bounds[std::min<std::size_t>(2 * k + 2, runs)];
      std::merge(v.begin() + a, v.begin() + m, v.begin() + m, v.begin() + b, tmp.begin() + a, less);
    });
    for (std::int64_t k = 0; k < runs; k += 2) next.push_back(bounds[k]);
    next.push_back(n);
    v.swap(tmp);
    bounds.swap(next);
  }
}

// Sorts a row of (column << 32 | count) words by column. Rows hold about a
// hundred entries with random columns, where comparison sorts mispredict most
// branches; two counting passes over the column bits avoid that.
void sort_row(std::vector<std::uint64_t>& row, std::vector<std::uint64_t>& tmp, int column_bits) {
  const std::size_t n = row.size();
  if (n < 48 || column_bits > 22) {
    std::sort(row.begin(), row.end());
    return;
  }
  const int lo_bits = (column_bits + 1) / 2;
  const std::uint32_t lo_mask = (1u << lo_bits) - 1;
  std::uint32_t lo[2048], hi[2048];  // Only the used prefix is cleared: rows are short.
  std::fill_n(lo, lo_mask + 1, 0u);
  std::fill_n(hi, lo_mask + 1, 0u);
  for (const std::uint64_t v : row) {
    const auto c = static_cast<std::uint32_t>(v >> 32);
    ++lo[c & lo_mask];
    ++hi[c >> lo_bits];
  }
  std::uint32_t a = 0, b = 0;
  for (std::uint32_t k = 0; k <= lo_mask; ++k) {
    const std::uint32_t x = lo[k], y = hi[k];
    lo[k] = a;
    hi[k] = b;
    a += x;
    b += y;
  }
  tmp.resize(n);
  for (const std::uint64_t v : row) tmp[lo[static_cast<std::uint32_t>(v >> 32) & lo_mask]++] = v;
  for (const std::uint64_t v : tmp) row[hi[static_cast<std::uint32_t>(v >> 32) >> lo_bits]++] = v;
}

// Stop words as an interner (null when there are none).
std::unique_ptr<text::Interner> stop_word_table(const TfidfOptions& options) {
  if (options.stop_words.empty()) return nullptr;
  auto table = std::make_unique<text::Interner>(options.stop_words.size());
  bool added = false;
  for (const auto& w : options.stop_words) table->intern(w, text::hash_bytes(w), &added);
  return table;
}

// Every document tokenized and counted: each worker's term table and entries,
// and where document d's entries are (worker, first entry, count).
struct Tokenized {
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::int32_t> doc_worker;
  std::vector<std::int64_t> doc_begin;
  std::vector<std::int32_t> doc_len;
};

Tokenized tokenize_documents(const std::vector<std::string_view>& texts,
                             const std::function<void(std::int64_t)>* done,
                             const TfidfOptions& options, int threads,
                             const text::Interner* stop_words) {
  const auto n_docs = static_cast<std::int64_t>(texts.size());
  const int n_workers = static_cast<int>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(threads, (n_docs + 63) / 64)));
  Tokenized tok;
  tok.workers.resize(n_workers);
  std::size_t text_bytes = 0;
  for (const std::string_view t : texts) text_bytes += t.size();
  parallel_for(n_workers, n_workers, [&](std::int64_t w) {
    tok.workers[w] = std::make_unique<Worker>(options, stop_words);
    // Abstracts give about one entry per 11 bytes of text; reserving address
    // space for one per 8 (not memory: pages are touched as entries arrive)
    // avoids moving the entries as they grow.
    tok.workers[w]->reserve(text_bytes / 8 / static_cast<std::size_t>(n_workers) + 1024);
  });
  tok.doc_worker.resize(n_docs);
  tok.doc_begin.resize(n_docs);
  tok.doc_len.resize(n_docs);
  parallel_for_worker(
      n_docs, n_workers,
      [&](std::int64_t d, int w) {
        const auto range = tok.workers[w]->process(texts[d]);
        if (done != nullptr) (*done)(d);
        tok.doc_worker[d] = w;
        tok.doc_begin[d] = range.first;
        tok.doc_len[d] = static_cast<std::int32_t>(range.second);
      },
      64);
  return tok;
}

// Weights one row of (column << 32 | count) words, already sorted by column, as
// TfidfTransformer (tf variant, idf, norm) in double, and stores it rounded to float.
void weight_row(const std::vector<std::uint64_t>& row, const double* idf,
                const TfidfOptions& options, std::vector<double>& v, std::int32_t* out_indices,
                float* out_data) {
  v.resize(row.size());
  double norm = 0.0;
  for (std::size_t i = 0; i < row.size(); ++i) {
    const auto col = static_cast<std::int32_t>(row[i] >> 32);
    // idf is read at random columns, mostly missing cache: fetch ahead.
    if (options.use_idf && i + 8 < row.size()) __builtin_prefetch(&idf[row[i + 8] >> 32]);
    double tf = options.binary ? 1.0 : static_cast<double>(static_cast<std::uint32_t>(row[i]));
    if (options.sublinear_tf) tf = std::log(tf) + 1.0;
    v[i] = options.use_idf ? tf * idf[col] : tf;
    norm += options.norm == Norm::kL2 ? v[i] * v[i] : std::fabs(v[i]);
  }
  if (options.norm == Norm::kL2) norm = std::sqrt(norm);
  const bool scale = options.norm != Norm::kNone && norm != 0.0;
  for (std::size_t i = 0; i < row.size(); ++i) {
    out_indices[i] = static_cast<std::int32_t>(row[i] >> 32);
    out_data[i] = static_cast<float>(scale ? v[i] / norm : v[i]);
  }
}

// A distributed fit: every rank's terms with their df and corpus counts, merged
// into one partition holding the sorted union with the summed counts, the same
// on every rank; `local_id[p][id]` becomes the union id of partition p's term id.
// The pruning and the vocabulary then see exactly the counts one process would.
std::unique_ptr<Partition> global_terms(Comm& comm,
                                        const std::vector<std::unique_ptr<Partition>>& parts,
                                        std::vector<std::vector<std::int32_t>>* local_id) {
  std::string mine;
  const auto put = [&mine](const void* p, std::size_t n) {
    mine.append(static_cast<const char*>(p), n);
  };
  for (const auto& part : parts) {
    for (std::int32_t id = 0; id < part->terms.size(); ++id) {
      const std::string_view key = part->terms.key(id);
      const auto len = static_cast<std::uint32_t>(key.size());
      put(&len, sizeof len);
      put(key.data(), key.size());
      put(&part->df[id], sizeof(std::int64_t));
      put(&part->tf[id], sizeof(std::int64_t));
    }
  }
  const std::vector<std::string> all = comm.allgatherv(mine);
  mine = {};
  struct Term {
    std::string_view key;
    std::int64_t df, tf;
  };
  std::vector<Term> terms;
  for (const std::string& buf : all) {
    for (std::size_t at = 0; at < buf.size();) {
      std::uint32_t len = 0;
      std::memcpy(&len, buf.data() + at, sizeof len);
      at += sizeof len;
      Term t{std::string_view(buf.data() + at, len), 0, 0};
      at += len;
      std::memcpy(&t.df, buf.data() + at, sizeof(std::int64_t));
      std::memcpy(&t.tf, buf.data() + at + sizeof(std::int64_t), sizeof(std::int64_t));
      at += 2 * sizeof(std::int64_t);
      terms.push_back(t);
    }
  }
  std::stable_sort(terms.begin(), terms.end(),
                   [](const Term& a, const Term& b) { return a.key < b.key; });
  auto g = std::make_unique<Partition>(terms.size() + terms.size() / 2 + 16);
  for (const Term& t : terms) {
    bool added = false;
    const std::int32_t id = g->terms.intern(t.key, text::hash_bytes(t.key), &added);
    if (added) {
      g->df.push_back(0);
      g->tf.push_back(0);
    }
    g->df[id] += t.df;
    g->tf[id] += t.tf;
  }
  g->col.assign(g->terms.size(), -1);
  local_id->resize(parts.size());
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const text::Interner& local = parts[p]->terms;
    auto& ids = (*local_id)[p];
    ids.resize(local.size());
    bool added = false;
    for (std::int32_t id = 0; id < local.size(); ++id)
      ids[id] = g->terms.intern(local.key(id), text::hash_bytes(local.key(id)), &added);
  }
  return g;
}

// `done`, when given, is called (from the worker) once document d is tokenized.
// With `comm` of more than one rank, `texts` are this rank's documents and the
// vocabulary, df and idf are those of every rank's documents together.
CsrMatrix fit(const std::vector<std::string_view>& texts,
              const std::function<void(std::int64_t)>* done, const TfidfOptions& options,
              TfidfModel* model, Comm* comm) {
  validate(options);
  auto t0 = std::chrono::steady_clock::now();
  auto c0 = std::clock();
  const bool timing = options.print_phase_times;
  const auto lap = [&](const char* what) {
    if (!timing) return;
    const auto t = std::chrono::steady_clock::now();
    const auto c = std::clock();
    std::fprintf(stderr, "tfidf %-10s %8.1f ms wall %8.1f ms cpu\n", what,
                 std::chrono::duration<double, std::milli>(t - t0).count(),
                 (c - c0) * 1000.0 / CLOCKS_PER_SEC);
    t0 = t;
    c0 = c;
  };
  const auto n_docs = static_cast<std::int64_t>(texts.size());
  const int threads = resolve_threads(options.threads);

  const std::unique_ptr<text::Interner> stop_words = stop_word_table(options);

  // 1. Tokenize and count: each worker owns a term table and an entry list.
  Tokenized tok = tokenize_documents(texts, done, options, threads, stop_words.get());
  const int n_workers = static_cast<int>(tok.workers.size());
  std::vector<std::unique_ptr<Worker>>& workers = tok.workers;
  const std::vector<std::int32_t>& doc_worker = tok.doc_worker;
  const std::vector<std::int64_t>& doc_begin = tok.doc_begin;
  const std::vector<std::int32_t>& doc_len = tok.doc_len;

  lap("tokenize");
  // 2. Merge the worker tables, partitioned by hash so partitions merge in parallel.
  int n_parts = n_workers == 1 ? 1 : 4 * n_workers;
  const auto part_of = [&n_parts](std::uint64_t h) {
    return static_cast<std::int32_t>((h >> 40) % static_cast<std::uint64_t>(n_parts));
  };
  std::vector<std::vector<std::vector<std::int32_t>>> buckets(n_workers);
  std::vector<std::vector<std::int32_t>> local_map(n_workers);  // Worker term -> partition id.
  std::vector<std::vector<std::int64_t>> local_df(n_workers), local_tf(n_workers);
  parallel_for(n_workers, threads, [&](std::int64_t w) {
    const text::Interner& terms = workers[w]->terms();
    workers[w]->term_totals(&local_df[w], &local_tf[w]);
    buckets[w].resize(n_parts);
    for (std::int32_t t = 0; t < terms.size(); ++t) buckets[w][part_of(terms.hash(t))].push_back(t);
    local_map[w].assign(terms.size(), -1);
  });
  std::vector<std::unique_ptr<Partition>> parts(n_parts);
  parallel_for(n_parts, threads, [&](std::int64_t p) {
    std::size_t largest = 0;
    for (int w = 0; w < n_workers; ++w) largest = std::max(largest, buckets[w][p].size());
    parts[p] = std::make_unique<Partition>(largest + largest / 2);
    Partition& part = *parts[p];
    for (int w = 0; w < n_workers; ++w) {
      const text::Interner& terms = workers[w]->terms();
      for (std::int32_t t : buckets[w][p]) {
        bool added = false;
        const std::int32_t id = part.terms.intern(terms.key(t), terms.hash(t), &added);
        if (added) {
          part.df.push_back(0);
          part.tf.push_back(0);
        }
        part.df[id] += local_df[w][t];
        part.tf[id] += local_tf[w][t];
        local_map[w][t] = id;
      }
    }
    part.col.assign(part.terms.size(), -1);
  });
  buckets = {};
  local_df = {};
  local_tf = {};
  std::int64_t n_docs_all = n_docs;
  if (comm != nullptr && comm->size() > 1) {
    std::vector<std::vector<std::int32_t>> to_global;
    auto g = global_terms(*comm, parts, &to_global);
    parallel_for(n_workers, threads, [&](std::int64_t w) {
      const text::Interner& terms = workers[w]->terms();
      for (std::int32_t t = 0; t < terms.size(); ++t)
        local_map[w][t] = to_global[part_of(terms.hash(t))][local_map[w][t]];
    });
    parts.clear();
    parts.push_back(std::move(g));
    n_parts = 1;
    std::vector<std::int64_t> n{n_docs};
    comm->allreduce(n, Comm::Op::kSum);
    n_docs_all = n[0];
  }

  lap("merge");
  // 3. Prune by document frequency, as CountVectorizer._limit_features.
  std::int64_t distinct = 0;
  for (const auto& p : parts) distinct += p->terms.size();
  if (distinct == 0)
    throw Error("empty vocabulary: the documents contain no tokens, or only stop words");
  const double nd = static_cast<double>(n_docs_all);
  const double max_count =
      options.max_df.is_fraction ? options.max_df.value * nd : options.max_df.value;
  const double min_count =
      options.min_df.is_fraction ? options.min_df.value * nd : options.min_df.value;
  if (max_count < min_count) throw UsageError("max_df corresponds to fewer documents than min_df");
  std::vector<Candidate> cands;
  for (std::int32_t p = 0; p < n_parts; ++p) {
    const Partition& part = *parts[p];
    for (std::int32_t id = 0; id < part.terms.size(); ++id) {
      const auto df = static_cast<double>(part.df[id]);
      if (df <= max_count && df >= min_count) cands.push_back(Candidate{part.terms.key(id), p, id});
    }
  }
  // 4. Vocabulary in byte order; max_features keeps the highest corpus counts
  // (ties, which scikit-learn leaves to its unstable sort, go to the smaller term).
  parallel_sort(cands, threads);
  if (options.max_features && static_cast<std::int64_t>(cands.size()) > *options.max_features) {
    const auto total = [&](const Candidate& c) {
      const Partition& part = *parts[c.part];
      return options.binary ? part.df[c.id] : part.tf[c.id];
    };
    std::vector<std::int64_t> order(cands.size());
    std::iota(order.begin(), order.end(), 0);
    const auto limit = static_cast<std::size_t>(*options.max_features);
    std::nth_element(order.begin(), order.begin() + limit - 1, order.end(),
                     [&](std::int64_t a, std::int64_t b) {
                       const std::int64_t ta = total(cands[a]), tb = total(cands[b]);
                       return ta != tb ? ta > tb : a < b;
                     });
    order.resize(limit);
    std::sort(order.begin(), order.end());
    std::vector<Candidate> kept;
    kept.reserve(limit);
    for (std::int64_t i : order) kept.push_back(cands[i]);
    cands.swap(kept);
  }
  if (cands.empty())
    throw Error("after pruning, no terms remain: try a lower min_df or a higher max_df");
  const auto n_cols = static_cast<std::int64_t>(cands.size());
  std::vector<std::int64_t> col_df(n_cols);
  for (std::int64_t c = 0; c < n_cols; ++c) {
    parts[cands[c].part]->col[cands[c].id] = static_cast<std::int32_t>(c);
    col_df[c] = parts[cands[c].part]->df[cands[c].id];
  }
  std::vector<double> idf;
  if (options.use_idf) {
    // TfidfTransformer: ln((1 + n) / (1 + df)) + 1 when smoothing, else ln(n / df) + 1.
    const double s = options.smooth_idf ? 1.0 : 0.0;
    idf.resize(n_cols);
    for (std::int64_t c = 0; c < n_cols; ++c)
      idf[c] = std::log((nd + s) / (static_cast<double>(col_df[c]) + s)) + 1.0;
  }
  if (model != nullptr) {
    model->vocabulary.clear();
    model->vocabulary.reserve(n_cols);
    for (const auto& c : cands) model->vocabulary.emplace_back(c.key);
    model->df = col_df;
    model->idf = idf;
    model->documents = n_docs_all;
  }
  cands = {};

  lap("vocab");
  // 5. Worker term ids -> columns, in place in the entries.
  parallel_for(n_workers, threads, [&](std::int64_t w) {
    const text::Interner& terms = workers[w]->terms();
    std::vector<std::int32_t>& map = local_map[w];
    for (std::int32_t t = 0; t < terms.size(); ++t)
      map[t] = parts[part_of(terms.hash(t))]->col[map[t]];
    for (Entry& e : workers[w]->entries()) e.term = map[e.term];
    map = {};
    workers[w]->release_tables();
  });
  parts.clear();
  parts.shrink_to_fit();

  lap("remap");
  // 6. Rows: kept entries sorted by column, weighted in double, rounded to float.
  CsrMatrix x;
  x.rows = n_docs;
  x.cols = n_cols;
  x.indptr.assign(n_docs + 1, 0);
  if (n_cols == distinct) {
    // Nothing pruned (the default options): rows keep every entry.
    for (std::int64_t d = 0; d < n_docs; ++d) x.indptr[d + 1] = doc_len[d];
  } else {
    parallel_for(
        n_docs, threads,
        [&](std::int64_t d) {
          const Entry* e = workers[doc_worker[d]]->entries().data() + doc_begin[d];
          std::int64_t k = 0;
          for (std::int32_t i = 0; i < doc_len[d]; ++i) k += e[i].term >= 0;
          x.indptr[d + 1] = k;
        },
        1024);
  }
  for (std::int64_t d = 0; d < n_docs; ++d) x.indptr[d + 1] += x.indptr[d];
  // Built in waves of documents: after each wave the entries it consumed are
  // released, and the matrix arrays grow (within reserved capacity) only by
  // the wave's rows, so peak memory holds the non-zeros about once, not twice.
  x.indices.reserve(x.indptr[n_docs]);
  x.data.reserve(x.indptr[n_docs]);
  std::vector<std::vector<std::uint64_t>> scratch(threads), sort_tmp(threads);
  int column_bits = 1;
  while ((std::int64_t{1} << column_bits) < n_cols) ++column_bits;
  std::vector<std::vector<double>> values(threads);
  const std::int64_t wave = std::max<std::int64_t>(4096, n_docs / 16);
  for (std::int64_t a = 0; a < n_docs; a += wave) {
    const std::int64_t b = std::min(n_docs, a + wave);
    x.indices.resize(x.indptr[b]);
    x.data.resize(x.indptr[b]);
    parallel_for_worker(
        b - a, threads,
        [&](std::int64_t i, int w) {
          const std::int64_t d = a + i;
          const Entry* e = workers[doc_worker[d]]->entries().data() + doc_begin[d];
          // (column, count) packed in one integer: the sort compares plain words.
          auto& row = scratch[w];
          row.clear();
          for (std::int32_t i = 0; i < doc_len[d]; ++i)
            if (e[i].term >= 0)
              row.push_back(static_cast<std::uint64_t>(e[i].term) << 32 |
                            static_cast<std::uint32_t>(e[i].count));
          sort_row(row, sort_tmp[w], column_bits);
          weight_row(row, idf.data(), options, values[w], x.indices.data() + x.indptr[d],
                     x.data.data() + x.indptr[d]);
        },
        256);
    // Each worker's entries are in document order: everything before the end
    // of its last document in this wave is consumed.
    std::vector<std::size_t> consumed(n_workers, 0);
    for (std::int64_t d = a; d < b; ++d)
      consumed[doc_worker[d]] = static_cast<std::size_t>(doc_begin[d] + doc_len[d]);
    for (int w = 0; w < n_workers; ++w) workers[w]->entries().release_prefix(consumed[w]);
  }
  lap("rows");
  return x;
}

}  // namespace

CsrMatrix fit_transform(const std::vector<const std::string*>& texts, const TfidfOptions& options,
                        TfidfModel* model) {
  std::vector<std::string_view> views(texts.size());
  for (std::size_t d = 0; d < texts.size(); ++d) views[d] = *texts[d];
  return fit(views, nullptr, options, model, nullptr);
}

CsrMatrix fit_transform_consuming(const std::vector<std::string*>& texts,
                                  const TfidfOptions& options, TfidfModel* model) {
  std::vector<std::string_view> views(texts.size());
  for (std::size_t d = 0; d < texts.size(); ++d) views[d] = *texts[d];
  const std::function<void(std::int64_t)> done = [&texts](std::int64_t d) {
    std::string().swap(*texts[d]);
  };
  return fit(views, &done, options, model, nullptr);
}

CsrMatrix fit_transform_blocks(const std::vector<std::string_view>& texts,
                               const std::vector<std::int64_t>& block_ends,
                               const std::function<void(std::size_t)>& release,
                               const TfidfOptions& options, TfidfModel* model, Comm* comm) {
  const auto n = static_cast<std::int64_t>(texts.size());
  std::vector<std::int32_t> block_of(texts.size());
  std::int64_t begin = 0;
  for (std::size_t b = 0; b < block_ends.size(); ++b) {
    if (block_ends[b] < begin || block_ends[b] > n)
      throw UsageError("fit_transform_blocks: block ends must ascend within the texts");
    for (std::int64_t d = begin; d < block_ends[b]; ++d) block_of[d] = static_cast<std::int32_t>(b);
    begin = block_ends[b];
  }
  if (begin != n) throw UsageError("fit_transform_blocks: the blocks do not cover every text");
  // Texts left to tokenize per block; the worker that finishes a block frees it.
  std::unique_ptr<std::atomic<std::int64_t>[]> left(
      new std::atomic<std::int64_t>[block_ends.size()]);
  begin = 0;
  for (std::size_t b = 0; b < block_ends.size(); ++b) {
    left[b].store(block_ends[b] - begin);
    if (block_ends[b] == begin && release) release(b);
    begin = block_ends[b];
  }
  const std::function<void(std::int64_t)> done = [&](std::int64_t d) {
    const auto b = static_cast<std::size_t>(block_of[d]);
    if (left[b].fetch_sub(1) == 1 && release) release(b);
  };
  return fit(texts, &done, options, model, comm);
}

CsrMatrix transform(const std::vector<std::string_view>& texts, const TfidfModel& model,
                    const TfidfOptions& options, TransformStats* stats) {
  validate(options);
  const auto n_cols = static_cast<std::int64_t>(model.vocabulary.size());
  if (n_cols == 0) throw Error("transform: the model has an empty vocabulary");
  if (options.use_idf && static_cast<std::int64_t>(model.idf.size()) != n_cols)
    throw Error("transform: the model's idf does not match its vocabulary");
  // The vocabulary as a hash table; interning in column order makes id = column.
  text::Interner vocab(static_cast<std::size_t>(n_cols));
  for (const std::string& term : model.vocabulary) {
    bool added = false;
    vocab.intern(term, text::hash_bytes(term), &added);
    if (!added) throw Error("transform: the model's vocabulary repeats '" + term + "'");
  }
  TfidfModelView view;
  view.columns = n_cols;
  view.find = [&vocab](std::string_view term) { return vocab.find(term, text::hash_bytes(term)); };
  view.idf = options.use_idf ? model.idf.data() : nullptr;
  return transform(texts, view, options, stats);
}

CsrMatrix transform(const std::vector<std::string_view>& texts, const TfidfModelView& model,
                    const TfidfOptions& options, TransformStats* stats) {
  validate(options);
  const std::int64_t n_cols = model.columns;
  if (n_cols <= 0 || !model.find) throw Error("transform: the model has an empty vocabulary");
  if (options.use_idf && model.idf == nullptr)
    throw Error("transform: the model has no idf while use_idf is on");
  const auto n_docs = static_cast<std::int64_t>(texts.size());
  const int threads = resolve_threads(options.threads);
  const std::unique_ptr<text::Interner> stop_words = stop_word_table(options);
  Tokenized tok = tokenize_documents(texts, nullptr, options, threads, stop_words.get());
  const int n_workers = static_cast<int>(tok.workers.size());
  // Worker term -> column (-1: out of vocabulary), with each term's document
  // frequency and occurrences among these documents for the statistics.
  std::vector<std::vector<std::int32_t>> col_of(n_workers);
  std::vector<std::vector<std::int64_t>> local_df(n_workers), local_tf(n_workers);
  parallel_for(n_workers, threads, [&](std::int64_t w) {
    const text::Interner& terms = tok.workers[w]->terms();
    tok.workers[w]->term_totals(&local_df[w], &local_tf[w]);
    col_of[w].resize(terms.size());
    for (std::int32_t t = 0; t < terms.size(); ++t) col_of[w][t] = model.find(terms.key(t));
  });
  if (stats != nullptr) {
    *stats = TransformStats{};
    stats->documents = n_docs;
    stats->df.assign(n_cols, 0);
    text::Interner oov(1024);
    std::vector<std::int64_t> oov_df;
    for (int w = 0; w < n_workers; ++w) {
      const text::Interner& terms = tok.workers[w]->terms();
      for (std::int32_t t = 0; t < terms.size(); ++t) {
        const std::int32_t c = col_of[w][t];
        if (c >= 0) {
          stats->terms_in_vocabulary += local_tf[w][t];
          stats->df[c] += local_df[w][t];
          continue;
        }
        stats->terms_out_of_vocabulary += local_tf[w][t];
        bool added = false;
        const std::int32_t id = oov.intern(terms.key(t), terms.hash(t), &added);
        if (added) oov_df.push_back(0);
        oov_df[id] += local_df[w][t];
      }
    }
    stats->new_terms.reserve(oov.size());
    for (std::int32_t id = 0; id < oov.size(); ++id)
      stats->new_terms.emplace_back(std::string(oov.key(id)), oov_df[id]);
    std::sort(stats->new_terms.begin(), stats->new_terms.end());
  }
  for (int w = 0; w < n_workers; ++w) tok.workers[w]->release_tables();

  CsrMatrix x;
  x.rows = n_docs;
  x.cols = n_cols;
  x.indptr.assign(n_docs + 1, 0);
  for (std::int64_t d = 0; d < n_docs; ++d) {
    const Entry* e = tok.workers[tok.doc_worker[d]]->entries().data() + tok.doc_begin[d];
    const std::vector<std::int32_t>& map = col_of[tok.doc_worker[d]];
    std::int64_t k = 0;
    for (std::int32_t i = 0; i < tok.doc_len[d]; ++i) k += map[e[i].term] >= 0;
    x.indptr[d + 1] = x.indptr[d] + k;
  }
  x.indices.resize(x.indptr[n_docs]);
  x.data.resize(x.indptr[n_docs]);
  int column_bits = 1;
  while ((std::int64_t{1} << column_bits) < n_cols) ++column_bits;
  std::vector<std::vector<std::uint64_t>> scratch(threads), sort_tmp(threads);
  std::vector<std::vector<double>> values(threads);
  parallel_for_worker(
      n_docs, threads,
      [&](std::int64_t d, int w) {
        const Entry* e = tok.workers[tok.doc_worker[d]]->entries().data() + tok.doc_begin[d];
        const std::vector<std::int32_t>& map = col_of[tok.doc_worker[d]];
        auto& row = scratch[w];
        row.clear();
        for (std::int32_t i = 0; i < tok.doc_len[d]; ++i) {
          const std::int32_t c = map[e[i].term];
          if (c >= 0)
            row.push_back(static_cast<std::uint64_t>(c) << 32 |
                          static_cast<std::uint32_t>(e[i].count));
        }
        sort_row(row, sort_tmp[w], column_bits);
        weight_row(row, model.idf, options, values[w], x.indices.data() + x.indptr[d],
                   x.data.data() + x.indptr[d]);
      },
      256);
  return x;
}

CsrMatrix fit_transform(const std::vector<std::string>& texts, const TfidfOptions& options,
                        TfidfModel* model) {
  std::vector<const std::string*> ptrs;
  ptrs.reserve(texts.size());
  for (const auto& t : texts) ptrs.push_back(&t);
  return fit_transform(ptrs, options, model);
}

void validate_tfidf_options(const TfidfOptions& options) {
  validate(options);
  if (!options.stemmer.empty()) Stemmer probe(options.stemmer);  // throws for an unknown language
}

}  // namespace papersim
