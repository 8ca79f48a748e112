// Rebuild the report's inputs from the JSON Lines outputs of `duplicates` and
// `related`, so a report can be made after the fact without re-running the search.

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <string>
#include <unordered_map>

#include "papersim/error.hpp"
#include "papersim/report.hpp"

namespace papersim {
namespace {

class JsonlReader {
 public:
  explicit JsonlReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw InputError(path, 0, "cannot open file");
  }
  // Next non-blank line parsed as a JSON object; false at end of file.
  bool next(simdjson::dom::object* object) {
    while (std::getline(in_, line_)) {
      ++line_number_;
      if (line_.find_first_not_of(" \t\r") == std::string::npos) continue;
      simdjson::dom::element element;
      if (auto error = parser_.parse(line_).get(element)) {
        fail(std::string("malformed JSON: ") + simdjson::error_message(error));
      }
      if (element.get_object().get(*object)) fail("expected a JSON object");
      return true;
    }
    if (in_.bad()) throw InputError(path_, line_number_, "read error");
    return false;
  }
  [[noreturn]] void fail(const std::string& message) const {
    throw InputError(path_, line_number_, message);
  }
  std::int64_t get_int(const simdjson::dom::object& o, const char* key) const {
    std::int64_t v = 0;
    if (o[key].get_int64().get(v)) fail(std::string("missing or non-integer \"") + key + "\"");
    return v;
  }
  double get_double(const simdjson::dom::object& o, const char* key) const {
    double v = 0;
    if (o[key].get_double().get(v)) fail(std::string("missing or non-numeric \"") + key + "\"");
    return v;
  }
  // Checks a record's doc index and, when present, its id against the documents
  // of the inputs: the JSONL must come from the same inputs in the same order.
  std::int64_t checked_doc(const simdjson::dom::object& o, const char* doc_key, const char* id_key,
                           const std::vector<Document>& docs) const {
    const std::int64_t doc = get_int(o, doc_key);
    if (doc < 0 || doc >= static_cast<std::int64_t>(docs.size())) {
      fail(std::string("\"") + doc_key + "\" " + std::to_string(doc) +
           " is out of range: the inputs hold " + std::to_string(docs.size()) +
           " documents (were the same inputs given?)");
    }
    std::string_view id;
    if (!o[id_key].get_string().get(id) && id != docs[static_cast<std::size_t>(doc)].id) {
      fail(std::string("document ") + std::to_string(doc) + " has id \"" + std::string(id) +
           "\" here but \"" + docs[static_cast<std::size_t>(doc)].id +
           "\" in the inputs (were the same inputs given, in the same order?)");
    }
    return doc;
  }

 private:
  std::string path_;
  std::ifstream in_;
  std::string line_;
  std::int64_t line_number_ = 0;
  simdjson::dom::parser parser_;
};

float checked_score(const JsonlReader& reader, double s) {
  if (!(s >= -1e-6 && s <= 1.0 + 1e-5))
    reader.fail("score " + std::to_string(s) + " outside [0, 1]");
  return static_cast<float>(s);
}

struct UnionFind {
  explicit UnionFind(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  std::int64_t find(std::int64_t x) {
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  }
  void unite(std::int64_t a, std::int64_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
  std::vector<std::int64_t> parent;
};

// Same definition as connected_components(): components of size >= 2, id = smallest
// member, representative = largest sum of edge scores (ties: lower doc), members by doc,
// clusters by decreasing size then id.
std::vector<Cluster> clusters_of(const std::vector<ScoredPair>& pairs, std::size_t n,
                                 const CsrMatrix* x) {
  UnionFind uf(n);
  std::unordered_map<std::int64_t, double> strength;
  std::unordered_map<std::uint64_t, float> edge;
  auto key = [](std::int64_t a, std::int64_t b) {
    return (static_cast<std::uint64_t>(std::min(a, b)) << 32) ^
           static_cast<std::uint64_t>(std::max(a, b));
  };
  for (const auto& p : pairs) {
    uf.unite(p.a, p.b);
    strength[p.a] += p.score;
    strength[p.b] += p.score;
    if (!x) edge[key(p.a, p.b)] = p.score;
  }
  std::unordered_map<std::int64_t, std::size_t> index;
  std::vector<Cluster> clusters;
  std::vector<std::int64_t> members;
  members.reserve(strength.size());
  for (const auto& kv : strength) members.push_back(kv.first);
  std::sort(members.begin(), members.end());
  for (std::int64_t doc : members) {
    const std::int64_t root = uf.find(doc);
    auto it = index.find(root);
    if (it == index.end()) {
      it = index.emplace(root, clusters.size()).first;
      clusters.emplace_back();
      clusters.back().id = doc;  // Members arrive by increasing doc.
    }
    clusters[it->second].members.push_back({doc, 1.0f});
  }
  for (auto& c : clusters) {
    c.representative = c.members.front().doc;
    for (const auto& m : c.members) {
      if (strength[m.doc] > strength[c.representative]) c.representative = m.doc;
    }
    for (auto& m : c.members) {
      if (m.doc == c.representative) continue;
      if (x) {
        m.score_to_representative = exact_dot(*x, m.doc, *x, c.representative);
      } else {
        auto e = edge.find(key(m.doc, c.representative));
        m.score_to_representative = e == edge.end() ? -1.0f : e->second;
      }
    }
  }
  std::sort(clusters.begin(), clusters.end(), [](const Cluster& a, const Cluster& b) {
    if (a.members.size() != b.members.size()) return a.members.size() > b.members.size();
    return a.id < b.id;
  });
  return clusters;
}

}  // namespace

void load_report_inputs(const std::string& pairs_jsonl, const std::string& related_jsonl,
                        ReportData* data, const CsrMatrix* x) {
  const auto& docs = data->docs;
  const std::size_t n = docs.size();
  if (x && x->rows != static_cast<std::int64_t>(n)) {
    throw Error("load_report_inputs: the matrix has " + std::to_string(x->rows) + " rows for " +
                std::to_string(n) + " documents");
  }
  if (!pairs_jsonl.empty()) {
    JsonlReader reader(pairs_jsonl);
    simdjson::dom::object o;
    std::vector<ScoredPair> pairs;
    while (reader.next(&o)) {
      ScoredPair p;
      p.a = reader.checked_doc(o, "doc_a", "id_a", docs);
      p.b = reader.checked_doc(o, "doc_b", "id_b", docs);
      p.score = checked_score(reader, reader.get_double(o, "score"));
      if (p.a >= p.b) reader.fail("expected doc_a < doc_b");
      pairs.push_back(p);
    }
    std::sort(pairs.begin(), pairs.end(), [](const ScoredPair& l, const ScoredPair& r) {
      return l.a != r.a ? l.a < r.a : l.b < r.b;
    });
    if (data->threshold < 0.0f && !pairs.empty()) {
      float lowest = pairs.front().score;
      for (const auto& p : pairs) lowest = std::min(lowest, p.score);
      data->threshold = lowest;
    }
    data->clusters = clusters_of(pairs, n, x);
    data->pairs = std::move(pairs);
  }
  if (!related_jsonl.empty()) {
    JsonlReader reader(related_jsonl);
    simdjson::dom::object o;
    std::vector<std::vector<Neighbor>> topk(n);
    std::vector<bool> seen(n, false);
    while (reader.next(&o)) {
      const std::int64_t doc = reader.checked_doc(o, "doc", "id", docs);
      if (seen[static_cast<std::size_t>(doc)])
        reader.fail("document " + std::to_string(doc) + " listed twice");
      seen[static_cast<std::size_t>(doc)] = true;
      simdjson::dom::array neighbors;
      if (o["neighbors"].get_array().get(neighbors))
        reader.fail("missing or non-array \"neighbors\"");
      auto& list = topk[static_cast<std::size_t>(doc)];
      for (simdjson::dom::element e : neighbors) {
        simdjson::dom::object no;
        if (e.get_object().get(no)) reader.fail("a neighbour is not a JSON object");
        Neighbor nb;
        nb.doc = reader.checked_doc(no, "doc", "id", docs);
        nb.score = checked_score(reader, reader.get_double(no, "score"));
        if (nb.doc == doc) reader.fail("document " + std::to_string(doc) + " is its own neighbour");
        list.push_back(nb);
      }
    }
    data->topk = std::move(topk);
  }
  // Best-neighbour scores: the top-1 of each list is exact when lists were given;
  // otherwise leave them empty so write_report derives what it can from the pairs.
  data->best_scores.clear();
  if (!data->topk.empty()) {
    data->best_scores.assign(n, -1.0f);
    for (std::size_t i = 0; i < n; ++i) {
      for (const auto& nb : data->topk[i])
        data->best_scores[i] = std::max(data->best_scores[i], nb.score);
    }
  }
}

}  // namespace papersim
