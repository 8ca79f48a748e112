// Using and growing an index with its frozen model: vectorizing with the saved
// vocabulary and idf, and `add` — new documents appended, every stored top-k
// list updated exactly, the whole written as a new file renamed over the old.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "index/format.hpp"
#include "papersim/error.hpp"

namespace papersim {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

CsrMatrix vectorize_with_index(const Index& index, const std::vector<std::string_view>& texts,
                               int threads, TransformStats* stats) {
  TfidfOptions options = index.options();
  options.threads = threads;
  return transform(texts, index.model_view(), options, stats);
}

std::vector<std::vector<Neighbor>> topk_lists(SimilarityBackend& backend, const CsrMatrix& x,
                                              const SimilarityParams& params,
                                              SimilarityStats* stats) {
  SimilarityParams p = params;
  p.threshold = -1.0f;
  p.min_score = -1.0f;
  SimilarityResult r = backend.self_join(x, p);
  if (stats != nullptr) *stats = r.stats;
  return std::move(r.topk);
}

IndexAddResult add_to_index(const std::string& path, const std::vector<IndexedDocument>& docs,
                            const std::vector<std::string_view>& texts, SimilarityBackend& backend,
                            const SimilarityParams& params, TempFileRegistry* temps) {
  return index::add_documents(path, docs, texts, backend, params, {}, index::kExactJoinMaxRows,
                              temps);
}

namespace index {

namespace {

// One `add` at a time per index: an exclusive lock on the index file, taken
// without waiting. After locking, the path must still name the locked file (a
// concurrent add may have renamed its new file over it meanwhile); else retry.
class AddLock {
 public:
  explicit AddLock(const std::string& path) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0)
        throw InputError(path, 0, std::string("cannot open index: ") + std::strerror(errno));
      if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        close(fd_);
        throw InputError(path, 0,
                         "another papersim is adding to this index; try again when it is done");
      }
      struct stat a {
      }, b{};
      if (fstat(fd_, &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
          a.st_dev == b.st_dev)
        return;
      close(fd_);
    }
    throw InputError(path, 0, "the index keeps being replaced while locking it");
  }
  ~AddLock() { close(fd_); }
  AddLock(const AddLock&) = delete;
  AddLock& operator=(const AddLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

IndexAddResult add_documents(const std::string& path, const std::vector<IndexedDocument>& docs,
                             const std::vector<std::string_view>& texts, SimilarityBackend& backend,
                             const SimilarityParams& params, const WriteHook& hook,
                             std::int64_t exact_join_max_rows, TempFileRegistry* temps) {
  if (docs.size() != texts.size())
    throw UsageError("add_to_index: one document entry per text needed");
  index::check_writable(path);
  const AddLock lock(path);
  const Index old = Index::open(path);
  const std::int64_t n = old.documents(), m = static_cast<std::int64_t>(texts.size());
  const std::int64_t k = old.k(), v = old.vocabulary_size();
  IndexAddResult res;
  res.added = m;
  res.documents = n + m;

  auto t0 = std::chrono::steady_clock::now();
  const CsrMatrix x_new = vectorize_with_index(old, texts, params.threads, &res.transform);
  res.vectorize_seconds = seconds_since(t0);

  // Lists: new rows over everything, old rows merged with their best new rows.
  // Doc numbers are global (old rows 0..n-1, new rows n..n+m-1), so merging two
  // exact top-k lists of disjoint candidate sets under (score desc, doc asc)
  // gives the exact top-k of their union.
  std::vector<std::vector<Neighbor>> new_lists(static_cast<std::size_t>(m));
  std::vector<std::vector<Neighbor>> old_lists;
  t0 = std::chrono::steady_clock::now();
  if (k > 0 && m > 0) {
    SimilarityParams p = params;
    p.k = k;
    p.threshold = -1.0f;
    p.min_score = -1.0f;
    const auto shift = [n](std::vector<std::vector<Neighbor>>& lists) {
      for (auto& l : lists)
        for (auto& nb : l) nb.doc += n;
    };
    // nn: new rows over new rows; no: new rows over old; on: old rows over new.
    std::vector<std::vector<Neighbor>> nn, no, on;
    if (m <= exact_join_max_rows) {
      ExactJoinOptions o;
      o.k = k;
      o.threads = params.threads;
      ExactJoin cross = exact_join(old.matrix(), x_new.view(), o);
      o.exclude_diagonal = true;
      ExactJoin self = exact_join(x_new.view(), x_new.view(), o);
      nn = std::move(self.row_lists);
      on = std::move(cross.row_lists);
      no = std::move(cross.fresh_lists);
      res.pairs_evaluated = self.pairs_evaluated + cross.pairs_evaluated;
    } else {
      SimilarityResult self = backend.self_join(x_new.view(), p);
      nn = std::move(self.topk);
      res.pairs_evaluated = self.stats.pairs_evaluated;
      if (n > 0) {
        // The backends read the mapped rows in place.
        SimilarityResult a =
            backend.cross_join(x_new.view(), old.matrix(), old.deferred_column_blocks(), p);
        SimilarityResult b = backend.cross_join(old.matrix(), x_new.view(), p);
        res.pairs_evaluated += a.stats.pairs_evaluated + b.stats.pairs_evaluated;
        no = std::move(a.topk);
        on = std::move(b.topk);
      }
    }
    shift(nn);
    shift(on);
    for (std::int64_t r = 0; r < m; ++r)
      new_lists[r] = n > 0 ? merge_lists(no[r], nn[r], k) : std::move(nn[r]);
    old_lists.resize(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < n; ++r) {
      if (on[r].empty()) continue;
      const std::vector<Neighbor> before = old.neighbors(r);
      old_lists[r] = merge_lists(before, on[r], k);
      const bool same =
          old_lists[r].size() == before.size() &&
          std::equal(before.begin(), before.end(), old_lists[r].begin(),
                     [](const Neighbor& x, const Neighbor& y) { return x.doc == y.doc; });
      res.lists_changed += same ? 0 : 1;
    }
  }
  res.similarity_seconds = seconds_since(t0);

  t0 = std::chrono::steady_clock::now();
  const std::uint64_t total = static_cast<std::uint64_t>(n + m);
  std::vector<std::uint64_t> meta(index::kMetaWords, 0);
  const auto [meta_p, meta_b] = old.section(IndexSection::kMeta);
  std::memcpy(meta.data(), meta_p, meta_b);
  meta[index::kMetaDocuments] = total;
  // Indexes from before version 3 get column blocks of the current size.
  const auto block_rows = old.version() >= index::kColumnBlocksVersion
                              ? static_cast<std::int64_t>(meta[index::kMetaBlockRows])
                              : kIndexBlockRows;
  meta[index::kMetaBlockRows] = static_cast<std::uint64_t>(block_rows);
  meta[index::kMetaNnz] = static_cast<std::uint64_t>(old.nnz() + x_new.nnz());
  meta[index::kMetaAddedDocuments] += static_cast<std::uint64_t>(m);
  meta[index::kMetaAddedInVocabulary] +=
      static_cast<std::uint64_t>(res.transform.terms_in_vocabulary);
  meta[index::kMetaAddedOutOfVocabulary] +=
      static_cast<std::uint64_t>(res.transform.terms_out_of_vocabulary);

  // CSR: the old arrays straight from the mapping, then the new rows.
  const CsrView ov = old.matrix();
  std::vector<std::int64_t> indptr_tail(static_cast<std::size_t>(m));
  for (std::int64_t r = 0; r < m; ++r) indptr_tail[r] = old.nnz() + x_new.indptr[r + 1];
  // Document table likewise.
  const auto [doff_p, doff_b] = old.section(IndexSection::kDocOffsets);
  const auto [dbytes_p, dbytes_b] = old.section(IndexSection::kDocBytes);
  std::vector<std::uint64_t> doc_off_tail;
  std::string doc_bytes_tail;
  doc_off_tail.reserve(static_cast<std::size_t>(3 * m));
  for (const auto& d : docs) {
    for (const std::string* s : {&d.id, &d.title, &d.source}) {
      doc_bytes_tail += *s;
      doc_off_tail.push_back(dbytes_b + doc_bytes_tail.size());
    }
  }
  // Lists: every row's slots rewritten (old rows that did not change copied).
  std::vector<std::int64_t> topk_docs(static_cast<std::size_t>(total * k), -1);
  std::vector<float> topk_scores(static_cast<std::size_t>(total * k), 0.0f);
  if (k > 0) {
    std::memcpy(topk_docs.data(), old.topk_docs(0), static_cast<std::size_t>(n * k) * 8);
    std::memcpy(topk_scores.data(), old.topk_scores(0), static_cast<std::size_t>(n * k) * 4);
    const auto store = [&](std::int64_t r, const std::vector<Neighbor>& l) {
      for (std::size_t i = 0; i < l.size(); ++i) {
        topk_docs[r * k + i] = l[i].doc;
        topk_scores[r * k + i] = l[i].score;
      }
    };
    for (std::int64_t r = 0; r < static_cast<std::int64_t>(old_lists.size()); ++r)
      if (!old_lists[r].empty()) store(r, old_lists[r]);
    for (std::int64_t r = 0; r < m; ++r) store(n + r, new_lists[r]);
  }
  // Drift: per-term df of everything added, and the union of ignored terms.
  std::vector<std::int64_t> added_df(static_cast<std::size_t>(v));
  const auto [adf_p, adf_b] = old.section(IndexSection::kAddedDf);
  std::memcpy(added_df.data(), adf_p, adf_b);
  for (std::int64_t c = 0; c < v; ++c) added_df[c] += res.transform.df[c];
  const auto [nto_p, nto_b] = old.section(IndexSection::kNewTermOffsets);
  const auto [ntb_p, ntb_b] = old.section(IndexSection::kNewTermBytes);
  const auto [ntd_p, ntd_b] = old.section(IndexSection::kNewTermDf);
  const auto* old_off = reinterpret_cast<const std::uint64_t*>(nto_p);
  const auto* old_bytes = reinterpret_cast<const char*>(ntb_p);
  const auto* old_df = reinterpret_cast<const std::int64_t*>(ntd_p);
  const auto old_terms = static_cast<std::int64_t>(nto_b / 8 - 1);
  std::vector<std::uint64_t> term_off{0};
  std::string term_bytes;
  std::vector<std::int64_t> term_df;
  const auto emit = [&](std::string_view t, std::int64_t df) {
    term_bytes += t;
    term_off.push_back(term_bytes.size());
    term_df.push_back(df);
  };
  {
    const auto& fresh = res.transform.new_terms;
    std::int64_t i = 0;
    std::size_t j = 0;
    while (i < old_terms || j < fresh.size()) {
      const std::string_view a =
          i < old_terms ? std::string_view(old_bytes + old_off[i], old_off[i + 1] - old_off[i])
                        : std::string_view();
      if (j == fresh.size() || (i < old_terms && a < fresh[j].first)) {
        emit(a, old_df[i++]);
      } else if (i == old_terms || fresh[j].first < a) {
        emit(fresh[j].first, fresh[j].second);
        ++j;
      } else {
        emit(a, old_df[i++] + fresh[j++].second);
      }
    }
  }
  meta[index::kMetaNewTerms] = term_df.size();

  using index::Chunk;
  using index::chunk_of;
  std::vector<index::SectionData> s;
  const auto copy = [&](IndexSection kind) {
    const auto [p, b] = old.section(kind);
    if (p != nullptr) s.push_back({kind, {{p, b}}});
  };
  s.push_back({IndexSection::kMeta, {chunk_of(meta)}});
  copy(IndexSection::kOptions);
  copy(IndexSection::kVocabularyOffsets);
  copy(IndexSection::kVocabularyBytes);
  copy(IndexSection::kDf);
  copy(IndexSection::kIdf);
  s.push_back({IndexSection::kIndptr,
               {{ov.indptr, static_cast<std::uint64_t>(n + 1) * 8}, chunk_of(indptr_tail)}});
  s.push_back({IndexSection::kIndices,
               {{ov.indices, static_cast<std::uint64_t>(ov.nnz()) * 4}, chunk_of(x_new.indices)}});
  s.push_back({IndexSection::kData,
               {{ov.data, static_cast<std::uint64_t>(ov.nnz()) * 4}, chunk_of(x_new.data)}});
  s.push_back({IndexSection::kDocOffsets, {{doff_p, doff_b}, chunk_of(doc_off_tail)}});
  s.push_back({IndexSection::kDocBytes,
               {{dbytes_p, dbytes_b}, {doc_bytes_tail.data(), doc_bytes_tail.size()}}});
  s.push_back({IndexSection::kTopkDocs, {chunk_of(topk_docs)}});
  s.push_back({IndexSection::kTopkScores, {chunk_of(topk_scores)}});
  s.push_back({IndexSection::kAddedDf, {chunk_of(added_df)}});
  s.push_back({IndexSection::kNewTermOffsets, {chunk_of(term_off)}});
  s.push_back({IndexSection::kNewTermBytes, {{term_bytes.data(), term_bytes.size()}}});
  s.push_back({IndexSection::kNewTermDf, {chunk_of(term_df)}});
  // Column blocks: the old index's whole blocks are written as they are; its
  // last, partial block and the new rows are inverted anew.
  ColumnBlocks prefix, rest;
  std::vector<std::uint64_t> rest_offsets;
  if (block_rows > 0) {
    const std::int64_t kept = n / block_rows;
    const std::int64_t r0 = kept * block_rows;
    const ColumnBlocksView ob = old.column_blocks();
    const bool reuse = !ob.empty();
    if (!reuse) prefix = build_column_blocks(ov.row_range(0, r0), block_rows, params.threads);
    CsrMatrix tail = to_matrix(ov.row_range(r0, n));
    append_rows(tail, x_new.view());
    rest = build_column_blocks(tail.view(), block_rows, params.threads);
    const std::uint64_t kept_terms = reuse ? ob.term_offsets[kept] : prefix.term_offsets.back();
    for (std::size_t b = 1; b < rest.term_offsets.size(); ++b)
      rest_offsets.push_back(rest.term_offsets[b] + kept_terms);
    const auto kept_entries = static_cast<std::uint64_t>(ov.indptr[r0]);
    const auto head = [&](const void* mapped, std::uint64_t bytes, Chunk built) {
      return reuse ? Chunk{mapped, bytes} : built;
    };
    s.push_back({IndexSection::kBlockTermOffsets,
                 {head(ob.term_offsets, static_cast<std::uint64_t>(kept + 1) * 8,
                       chunk_of(prefix.term_offsets)),
                  chunk_of(rest_offsets)}});
    s.push_back({IndexSection::kBlockTerms,
                 {head(ob.terms, kept_terms * 4, chunk_of(prefix.terms)), chunk_of(rest.terms)}});
    s.push_back(
        {IndexSection::kBlockTermStarts,
         {head(ob.starts, kept_terms * 4, chunk_of(prefix.starts)), chunk_of(rest.starts)}});
    s.push_back({IndexSection::kBlockRows,
                 {head(ob.rows, kept_entries * 2, chunk_of(prefix.rows)), chunk_of(rest.rows)}});
    s.push_back(
        {IndexSection::kBlockValues,
         {head(ob.values, kept_entries * 4, chunk_of(prefix.values)), chunk_of(rest.values)}});
  }
  index::write_sections(path, s, params.threads, hook, temps);
  res.write_seconds = seconds_since(t0);
  res.drift = Index::open(path).drift();
  return res;
}

}  // namespace index
}  // namespace papersim
