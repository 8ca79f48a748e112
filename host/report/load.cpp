// Rebuild the report's inputs from the JSON Lines outputs of `duplicates` and
// `related`, so a report can be made after the fact without re-running the search.

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <string>
#include <unordered_map>

#include "papersim/clusters.hpp"
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

// Clusters as connected_components() defines them; without the vectors a
// member's score to its representative is their pair's score (-1 when the two
// are only connected through others).
std::vector<Cluster> clusters_of(const std::vector<ScoredPair>& pairs, std::size_t n,
                                 const CsrMatrix* x) {
  if (x) return connected_components(*x, pairs);
  std::unordered_map<std::uint64_t, float> edge;
  auto key = [](std::int64_t a, std::int64_t b) {
    return (static_cast<std::uint64_t>(std::min(a, b)) << 32) ^
           static_cast<std::uint64_t>(std::max(a, b));
  };
  for (const auto& p : pairs) edge[key(p.a, p.b)] = p.score;
  return connected_components(static_cast<std::int64_t>(n), pairs,
                              [&](std::int64_t member, std::int64_t rep) {
                                auto e = edge.find(key(member, rep));
                                return e == edge.end() ? -1.0f : e->second;
                              });
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
