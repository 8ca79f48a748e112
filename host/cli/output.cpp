#include "cli/output.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <streambuf>
#include <string_view>

#include "common/util.hpp"
#include "papersim/error.hpp"

namespace papersim::cli {

OutFormat parse_out_format(const std::string& name) {
  if (name == "jsonl" || name == "json") return OutFormat::kJsonl;
  if (name == "csv") return OutFormat::kCsv;
  if (name == "tsv") return OutFormat::kTsv;
  throw UsageError("--format: expected jsonl, csv or tsv, got '" + name + "'");
}

// The ostream's buffer: a megabyte of bytes handed to the AtomicFile. A write
// error is kept (the stream turns bad) and thrown by close(), with its cause.
class OutputFile::Buffer : public std::streambuf {
 public:
  explicit Buffer(AtomicFile& file) : file_(file), buf_(1 << 20) { reset(); }
  bool flush_all() {
    if (!error_.empty()) return false;
    const std::size_t n = static_cast<std::size_t>(pptr() - pbase());
    try {
      if (n > 0) file_.write(std::string_view(pbase(), n));
    } catch (const std::exception& e) {
      error_ = e.what();
      return false;
    }
    reset();
    return true;
  }
  const std::string& error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!flush_all()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return flush_all() ? 0 : -1; }

 private:
  void reset() { setp(buf_.data(), buf_.data() + buf_.size()); }
  AtomicFile& file_;
  std::vector<char> buf_;
  std::string error_;
};

OutputFile::OutputFile(const std::string& path, TempFileRegistry& temps)
    : file_(path, &temps), buffer_(std::make_unique<Buffer>(file_)), stream_(buffer_.get()) {}

OutputFile::~OutputFile() = default;  // the AtomicFile removes an uncommitted temporary

void OutputFile::close() {
  stream_.flush();
  if (!buffer_->flush_all()) throw Error(buffer_->error());
  if (!stream_) throw Error(file_.path() + ": write failed");
  file_.commit();
}

std::unique_ptr<OutputFile> open_optional_output(const std::string& path, TempFileRegistry& temps) {
  if (path.empty()) return nullptr;
  return std::make_unique<OutputFile>(path, temps);
}

void check_outputs_not_inputs(const std::vector<std::string>& outputs,
                              const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  // "-" as an input is whatever standard input is (`< x` names a file too).
  auto regular_id = [](const std::string& p, struct stat& st) {
    if (p.empty()) return false;
    const int rc = p == "-" ? ::fstat(STDIN_FILENO, &st) : ::stat(p.c_str(), &st);
    return rc == 0 && S_ISREG(st.st_mode);
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::string& out = outputs[i];
    if (out.empty() || out == "-") continue;
    struct stat so {};
    if (regular_id(out, so)) {
      for (const auto& in : inputs) {
        struct stat si {};
        if (regular_id(in, si) && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
          throw UsageError("output " + out + " is the input " +
                           (in == "-" ? "(standard input)" : in) +
                           ": refusing to overwrite an input (choose another output file)");
        }
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      const std::string& other = outputs[j];
      if (other.empty() || other == "-") continue;
      struct stat st {};
      const bool special = ::stat(out.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
      std::error_code e1, e2;
      if (!special && fs::weakly_canonical(out, e1) == fs::weakly_canonical(other, e2) && !e1 &&
          !e2) {
        throw UsageError("outputs " + other + " and " + out + " are the same file");
      }
    }
  }
}

NeighborFields NeighborFields::parse(const std::string& list) {
  NeighborFields f;
  f.doc = f.id = f.title = f.source = f.score = false;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    const std::string name = list.substr(start, end - start);
    if (name == "doc") {
      f.doc = true;
    } else if (name == "id") {
      f.id = true;
    } else if (name == "title") {
      f.title = true;
    } else if (name == "source") {
      f.source = true;
    } else if (name == "score") {
      f.score = true;
    } else {
      throw UsageError("--neighbor-fields: unknown field '" + name +
                       "' (expected doc, id, title, source, score)");
    }
    start = end + 1;
  }
  if (!f.doc && !f.id) throw UsageError("--neighbor-fields: name doc or id (or both)");
  return f;
}

namespace {

// CSV field: quoted when it holds a separator, quote or line break (RFC 4180).
void append_csv(std::string& out, const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) {
    out += s;
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// TSV cannot quote: tabs and line breaks inside a field become spaces.
void append_tsv(std::string& out, const std::string& s) {
  for (char c : s) out.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
}

void append_field(std::string& out, OutFormat f, const std::string& s) {
  if (f == OutFormat::kCsv) {
    append_csv(out, s);
  } else {
    append_tsv(out, s);
  }
}

char sep(OutFormat f) { return f == OutFormat::kCsv ? ',' : '\t'; }

void format_related_row(std::string& line, OutFormat format, const std::vector<Document>& docs,
                        std::int64_t q, const std::vector<Neighbor>& list, std::int64_t ref_offset,
                        const NeighborFields& fields) {
  const Document& d = docs[q];
  if (format == OutFormat::kJsonl) {
    line += "{\"doc\":";
    line += std::to_string(d.doc);
    line += ",\"id\":";
    append_json_string(line, d.id);
    line += ",\"title\":";
    append_json_string(line, d.title);
    line += ",\"neighbors\":[";
    bool first = true;
    for (const auto& n : list) {
      const Document& nd = docs[n.doc + ref_offset];
      if (!first) line.push_back(',');
      first = false;
      char open = '{';
      auto key = [&](const char* k) {
        line.push_back(open);
        open = ',';
        line += k;
      };
      if (fields.doc) {
        key("\"doc\":");
        line += std::to_string(nd.doc);
      }
      if (fields.id) {
        key("\"id\":");
        append_json_string(line, nd.id);
      }
      if (fields.title) {
        key("\"title\":");
        append_json_string(line, nd.title);
      }
      if (fields.source) {
        key("\"source\":");
        append_json_string(line, nd.source);
      }
      if (fields.score) {
        key("\"score\":");
        line += format_score(n.score);
      }
      line.push_back('}');
    }
    line += "]}\n";
    return;
  }
  const char s = sep(format);
  int rank = 0;
  for (const auto& n : list) {
    const Document& nd = docs[n.doc + ref_offset];
    line += std::to_string(d.doc);
    line.push_back(s);
    append_field(line, format, d.id);
    line.push_back(s);
    append_field(line, format, d.title);
    line.push_back(s);
    line += std::to_string(++rank);
    if (fields.doc) {
      line.push_back(s);
      line += std::to_string(nd.doc);
    }
    if (fields.id) {
      line.push_back(s);
      append_field(line, format, nd.id);
    }
    if (fields.title) {
      line.push_back(s);
      append_field(line, format, nd.title);
    }
    if (fields.source) {
      line.push_back(s);
      append_field(line, format, nd.source);
    }
    if (fields.score) {
      line.push_back(s);
      line += format_score(n.score);
    }
    line.push_back('\n');
  }
}

// Format the rows in blocks, in parallel; `emit` gets the blocks in row order.
template <class Emit>
void for_related_blocks(OutFormat format, const std::vector<Document>& docs,
                        const std::vector<std::vector<Neighbor>>& topk, std::int64_t query_offset,
                        std::int64_t ref_offset, int threads, const NeighborFields& fields,
                        const Emit& emit) {
  const std::int64_t n = static_cast<std::int64_t>(topk.size());
  constexpr std::int64_t kBlock = 2048;
  const int workers = resolve_threads(threads);
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  for (std::int64_t b0 = 0; b0 < blocks; b0 += workers) {
    const std::int64_t nb = std::min<std::int64_t>(workers, blocks - b0);
    std::vector<std::string> text(nb);
    parallel_for(nb, workers, [&](std::int64_t i) {
      const std::int64_t begin = (b0 + i) * kBlock, end = std::min(n, begin + kBlock);
      std::string& buf = text[i];
      for (std::int64_t q = begin; q < end; ++q) {
        format_related_row(buf, format, docs, q + query_offset, topk[q], ref_offset, fields);
      }
    });
    for (const auto& t : text) emit(t);
  }
}

}  // namespace

std::string related_header(OutFormat format, const NeighborFields& fields) {
  if (format == OutFormat::kJsonl) return "";
  std::string header = "doc,id,title,rank";
  if (fields.doc) header += ",neighbor_doc";
  if (fields.id) header += ",neighbor_id";
  if (fields.title) header += ",neighbor_title";
  if (fields.source) header += ",neighbor_source";
  if (fields.score) header += ",score";
  header += "\n";
  if (sep(format) == '\t') std::replace(header.begin(), header.end(), ',', '\t');
  return header;
}

void write_related(std::ostream& out, OutFormat format, const std::vector<Document>& docs,
                   const std::vector<std::vector<Neighbor>>& topk, std::int64_t query_offset,
                   std::int64_t ref_offset, int threads, const NeighborFields& fields) {
  out << related_header(format, fields);
  for_related_blocks(format, docs, topk, query_offset, ref_offset, threads, fields,
                     [&out](const std::string& t) {
                       out.write(t.data(), static_cast<std::streamsize>(t.size()));
                     });
}

std::string format_related(OutFormat format, const std::vector<Document>& docs,
                           const std::vector<std::vector<Neighbor>>& topk,
                           std::int64_t query_offset, std::int64_t ref_offset, int threads,
                           const NeighborFields& fields) {
  std::string all;
  for_related_blocks(format, docs, topk, query_offset, ref_offset, threads, fields,
                     [&all](const std::string& t) { all += t; });
  return all;
}

void write_pairs(std::ostream& out, OutFormat format, const std::vector<Document>& docs,
                 const std::vector<ScoredPair>& pairs, std::int64_t a_offset,
                 std::int64_t b_offset) {
  std::string line;
  if (format != OutFormat::kJsonl) {
    std::string header = "doc_a,id_a,title_a,doc_b,id_b,title_b,score\n";
    if (format == OutFormat::kTsv) std::replace(header.begin(), header.end(), ',', '\t');
    out << header;
  }
  for (const auto& p : pairs) {
    const Document& a = docs[p.a + a_offset];
    const Document& b = docs[p.b + b_offset];
    line.clear();
    if (format == OutFormat::kJsonl) {
      line += "{\"doc_a\":" + std::to_string(a.doc) + ",\"id_a\":";
      append_json_string(line, a.id);
      line += ",\"title_a\":";
      append_json_string(line, a.title);
      line += ",\"doc_b\":" + std::to_string(b.doc) + ",\"id_b\":";
      append_json_string(line, b.id);
      line += ",\"title_b\":";
      append_json_string(line, b.title);
      line += ",\"score\":" + format_score(p.score) + "}\n";
    } else {
      const char s = sep(format);
      line += std::to_string(a.doc);
      line.push_back(s);
      append_field(line, format, a.id);
      line.push_back(s);
      append_field(line, format, a.title);
      line.push_back(s);
      line += std::to_string(b.doc);
      line.push_back(s);
      append_field(line, format, b.id);
      line.push_back(s);
      append_field(line, format, b.title);
      line.push_back(s);
      line += format_score(p.score);
      line.push_back('\n');
    }
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
}

void write_clusters(std::ostream& out, const std::vector<Document>& docs,
                    const std::vector<Cluster>& clusters) {
  std::string line;
  auto doc_ref = [&](std::string& s, const Document& d) {
    s += "{\"doc\":" + std::to_string(d.doc) + ",\"id\":";
    append_json_string(s, d.id);
    s += ",\"title\":";
    append_json_string(s, d.title);
  };
  for (const auto& c : clusters) {
    line.clear();
    line += "{\"cluster\":" + std::to_string(docs[c.id].doc) +
            ",\"size\":" + std::to_string(c.members.size()) + ",\"representative\":";
    doc_ref(line, docs[c.representative]);
    line += "},\"members\":[";
    bool first = true;
    for (const auto& m : c.members) {
      if (!first) line.push_back(',');
      first = false;
      doc_ref(line, docs[m.doc]);
      line += ",\"score_to_representative\":" + format_score(m.score_to_representative) + "}";
    }
    line += "]}\n";
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
}

void append_doc_fields(std::string& out, const Document& d) {
  out += "\"doc\":" + std::to_string(d.doc) + ",\"id\":";
  append_json_string(out, d.id);
  out += ",\"source\":";
  append_json_string(out, d.source);
  out += ",\"title\":";
  append_json_string(out, d.title);
}

void write_docs(std::ostream& out, const std::vector<Document>& docs) {
  std::string line;
  for (const auto& d : docs) {
    line = "{";
    append_doc_fields(line, d);
    line += "}\n";
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
}

}  // namespace papersim::cli
