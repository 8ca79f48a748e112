#include "cli/options.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "papersim/error.hpp"
#include "papersim/reader.hpp"

namespace papersim::cli {

namespace {
std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool given(const CLI::Option* o) { return o != nullptr && o->count() > 0; }
}  // namespace

std::size_t parse_bytes(const std::string& text) {
  std::size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw UsageError("invalid size '" + text + "' (expected e.g. 512M, 4G, 1.5GiB)");
  }
  std::string unit = text.substr(pos);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 1;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else if (unit == "K" || unit == "KB" || unit == "KIB") {
    mult = 1024.0;
  } else if (unit == "M" || unit == "MB" || unit == "MIB") {
    mult = 1024.0 * 1024;
  } else if (unit == "G" || unit == "GB" || unit == "GIB") {
    mult = 1024.0 * 1024 * 1024;
  } else if (unit == "T" || unit == "TB" || unit == "TIB") {
    mult = 1024.0 * 1024 * 1024 * 1024;
  } else {
    throw UsageError("invalid size unit in '" + text + "' (use K, M, G or T)");
  }
  if (!(value > 0) || !std::isfinite(value))
    throw UsageError("size must be positive: '" + text + "'");
  const double bytes = value * mult;
  // Beyond 2^62 bytes no size is meaningful (and the conversion would overflow).
  if (!(bytes < 4.6e18)) throw UsageError("size too large: '" + text + "'");
  if (bytes < 1) throw UsageError("size must be at least 1 byte: '" + text + "'");
  return static_cast<std::size_t>(bytes);
}

void check_k(std::int64_t k) {
  if (k < 1) throw UsageError("-k must be >= 1, got " + std::to_string(k));
  if (k > kMaxK) {
    throw UsageError("-k must be <= " + std::to_string(kMaxK) + ", got " + std::to_string(k) +
                     " (a k of at least the number of documents lists every neighbour)");
  }
}

CLI::Option* add_k_option(CLI::App& cmd, std::int64_t& k, const std::string& description) {
  // Checked as text: CLI11 would saturate an out-of-range number silently.
  CLI::Validator range(
      [](std::string& text) -> std::string {
        std::int64_t v = 0;
        const char* end = text.data() + text.size();
        const auto res = std::from_chars(text.data(), end, v);
        if (res.ec == std::errc::result_out_of_range ||
            (res.ec == std::errc() && res.ptr == end && v > kMaxK)) {
          return "must be <= " + std::to_string(kMaxK) + ", got " + text +
                 " (a k of at least the number of documents lists every neighbour)";
        }
        if (res.ec != std::errc() || res.ptr != end) return "not an integer: '" + text + "'";
        if (v < 1) return "must be >= 1, got " + text;
        return std::string();
      },
      "1.." + std::to_string(kMaxK));
  return cmd.add_option("-k", k, description + " (1 to " + std::to_string(kMaxK) + ")")
      ->check(range)
      ->capture_default_str();
}

CLI::Option* add_list_option(CLI::App& app, const std::string& name,
                             std::vector<std::string>& values, const std::string& description) {
  return app.add_option(name, values, description)->allow_extra_args(false)->delimiter(',');
}

void ReaderCli::add_to(CLI::App& app) {
  app.add_option("--input-format", input_format,
                 "Input format: auto, jsonl, json, csv, tsv, listing, poster")
      ->capture_default_str()
      ->group("Input");
  id_opt_ = app.add_option("--id-field", id_field,
                           "Field holding the document id (CSV/TSV headers: any case)")
                ->capture_default_str()
                ->group("Input");
  title_opt_ = app.add_option("--title-field", title_field, "Field holding the title")
                   ->capture_default_str()
                   ->group("Input");
  text_opt_ = add_list_option(app, "--text-field", text_fields,
                              "Field(s) tried in order for the abstract, repeatable or "
                              "comma-separated (default: abstract, then summary)")
                  ->group("Input");
  fields_opt_ =
      app.add_option("--fields", fields,
                     "Parts of the document text, comma-separated: title, abstract or field names")
          ->capture_default_str()
          ->group("Input");
  app.add_option("--delimiter", delimiter,
                 "Field separator of CSV input: one character, or 'tab' (default: , for .csv, "
                 "tab for .tsv)")
      ->group("Input");
  app.add_flag("--strict", strict,
               "Stop with an error at the first bad record instead of skipping it")
      ->group("Input");
  app.add_option("--max-record-bytes", max_record_bytes,
                 "Largest record (line, array element, row, paragraph); larger ones are "
                 "skipped and reported (an error under --strict)")
      ->capture_default_str()
      ->group("Input");
}

ReaderOptions ReaderCli::to_options() const {
  ReaderOptions o;
  o.format = parse_input_format(input_format);
  o.id_field = id_field;
  o.title_field = title_field;
  if (!text_fields.empty()) o.text_fields = text_fields;
  o.fields = split_list(fields, ',');
  if (o.fields.empty()) throw UsageError("--fields: empty list");
  o.strict = strict;
  if (!delimiter.empty()) {
    if (delimiter == "tab" || delimiter == "\\t" || delimiter == "\t") {
      o.delimiter = '\t';
    } else if (delimiter.size() == 1 && delimiter[0] != '"' && delimiter[0] != '\n' &&
               delimiter[0] != '\r') {
      o.delimiter = delimiter[0];
    } else {
      throw UsageError(
          "--delimiter: expected one character (not a quote or line break) or "
          "'tab', got '" +
          delimiter + "'");
    }
  }
  // Fields the user named must exist in a CSV/TSV header: a typo is an error, not
  // ids like corpus.csv:N or empty titles.
  if (given(id_opt_) && !id_field.empty()) o.required_columns.push_back({id_field});
  if (given(title_opt_) && !title_field.empty()) o.required_columns.push_back({title_field});
  if (given(text_opt_) && !text_fields.empty()) o.required_columns.push_back(text_fields);
  if (given(fields_opt_)) {
    for (const auto& f : o.fields) {
      if (f != "title" && f != "abstract") o.required_columns.push_back({f});
    }
  }
  o.max_record_bytes = parse_bytes(max_record_bytes);
  return o;
}

namespace {

const char* on_off(bool b) { return b ? "on" : "off"; }

// "--NAME" and "--no-NAME"; the help states the value under the default preset
// (abstracts) and under sklearn.
BoolFlag add_bool(CLI::App& app, const std::string& name, const std::string& what, bool abstracts,
                  bool sklearn, const char* group) {
  BoolFlag f;
  const std::string on_help =
      what + " (default: " + on_off(abstracts) + "; --preset sklearn: " + on_off(sklearn) + ")";
  const std::string off_help = "Turn --" + name + " off";
  f.on = app.add_flag("--" + name, on_help)->group(group);
  f.off = app.add_flag("--no-" + name, off_help)->group(group);
  return f;
}

const char* accents_name(StripAccents a) {
  return a == StripAccents::kNone ? "none" : a == StripAccents::kAscii ? "ascii" : "unicode";
}
const char* norm_name(Norm n) { return n == Norm::kL2 ? "l2" : n == Norm::kL1 ? "l1" : "none"; }
std::string df_text(const DfBound& b) {
  std::ostringstream t;
  if (b.is_fraction) {
    t << b.value;
    if (b.value == std::floor(b.value)) t << ".0";
  } else {
    t << static_cast<std::int64_t>(b.value);
  }
  return t.str();
}
std::string stop_text(const TfidfOptions& o) { return o.stop_words.empty() ? "none" : "english"; }

// The preset's value as the option's shown default, and sklearn's when it differs.
CLI::Option* preset_default(CLI::Option* opt, const std::string& abstracts,
                            const std::string& sklearn) {
  opt->default_str(abstracts);
  if (abstracts != sklearn) {
    opt->description(opt->get_description() + " (--preset sklearn: " + sklearn + ")");
  }
  return opt;
}

}  // namespace

void TfidfCli::add_to(CLI::App& app) {
  const char* g = "TF-IDF (scikit-learn TfidfVectorizer names; each overrides the preset)";
  const TfidfOptions d = tfidf_preset("abstracts");
  const TfidfOptions sk = tfidf_preset("sklearn");
  app.add_option("--preset", preset, "Option preset: abstracts (default) or sklearn")
      ->capture_default_str()
      ->group(g);
  lowercase_ =
      add_bool(app, "lowercase", "Lowercase before tokenizing", d.lowercase, sk.lowercase, g);
  strip_accents_opt_ = preset_default(
      app.add_option("--strip-accents", strip_accents, "none, ascii or unicode")->group(g),
      accents_name(d.strip_accents), accents_name(sk.strip_accents));
  token_pattern_opt_ =
      preset_default(app.add_option("--token-pattern", token_pattern, "Token regex")->group(g),
                     d.token_pattern, sk.token_pattern);
  stop_words_opt_ = preset_default(
      app.add_option("--stop-words", stop_words, "none, english, or a file with one word per line")
          ->group(g),
      stop_text(d), stop_text(sk));
  ngram_opt_ = preset_default(
      app.add_option("--ngram-range", ngram_range, "MIN,MAX n-gram lengths: 1,2 or 1 2")
          ->expected(2)
          ->delimiter(',')
          ->option_text("MIN,MAX=" + std::to_string(d.ngram_min) + "," +
                        std::to_string(d.ngram_max))
          ->group(g),
      std::to_string(d.ngram_min) + "," + std::to_string(d.ngram_max),
      std::to_string(sk.ngram_min) + "," + std::to_string(sk.ngram_max));
  min_df_opt_ =
      preset_default(app.add_option("--min-df", min_df,
                                    "Minimum document frequency: count (int) or proportion (float)")
                         ->group(g),
                     df_text(d.min_df), df_text(sk.min_df));
  max_df_opt_ =
      preset_default(app.add_option("--max-df", max_df,
                                    "Maximum document frequency: count (int) or proportion (float)")
                         ->group(g),
                     df_text(d.max_df), df_text(sk.max_df));
  max_features_opt_ = app.add_option("--max-features", max_features,
                                     "Keep only the most frequent terms (default: all)")
                          ->group(g);
  binary_ = add_bool(app, "binary", "Term frequency 1 for any count", d.binary, sk.binary, g);
  sublinear_ = add_bool(app, "sublinear-tf", "tf = 1 + ln(tf)", d.sublinear_tf, sk.sublinear_tf, g);
  smooth_ =
      add_bool(app, "smooth-idf", "idf = ln((1+n)/(1+df)) + 1", d.smooth_idf, sk.smooth_idf, g);
  use_idf_ =
      add_bool(app, "use-idf", "Weight by inverse document frequency", d.use_idf, sk.use_idf, g);
  norm_opt_ =
      preset_default(app.add_option("--norm", norm, "Row normalization: l2, l1 or none")->group(g),
                     norm_name(d.norm), norm_name(sk.norm));
  stem_opt_ = preset_default(
      app.add_option("--stem", stem, "Snowball stemmer language (e.g. english), or none")->group(g),
      d.stemmer.empty() ? "none" : d.stemmer, sk.stemmer.empty() ? "none" : sk.stemmer);
  latex_ = add_bool(app, "strip-latex", "Remove LaTeX markup before tokenizing", d.strip_latex,
                    sk.strip_latex, g);
}

TfidfOptions TfidfCli::to_options(int threads) const {
  for (const BoolFlag* f : {&lowercase_, &binary_, &sublinear_, &smooth_, &use_idf_, &latex_}) {
    if (f->on && f->on->count() && f->off->count()) {
      throw UsageError(f->on->get_name() + " and " + f->off->get_name() + " contradict each other");
    }
  }
  TfidfOptions o = tfidf_preset(preset);
  o.threads = threads;
  if (lowercase_.given()) o.lowercase = lowercase_.value();
  if (given(strip_accents_opt_)) {
    if (strip_accents == "none") {
      o.strip_accents = StripAccents::kNone;
    } else if (strip_accents == "ascii") {
      o.strip_accents = StripAccents::kAscii;
    } else if (strip_accents == "unicode") {
      o.strip_accents = StripAccents::kUnicode;
    } else {
      throw UsageError("--strip-accents: expected none, ascii or unicode, got '" + strip_accents +
                       "'");
    }
  }
  if (given(token_pattern_opt_)) o.token_pattern = token_pattern;
  if (given(stop_words_opt_)) {
    if (stop_words == "none") {
      o.stop_words.clear();
    } else if (stop_words == "english") {
      o.stop_words = english_stop_words();
    } else {
      // Read as any input (decompressed; binary or endless data refused), so
      // `--stop-words /dev/zero` is an error, not a hang.
      std::istringstream in(read_file_decompressed(stop_words));
      o.stop_words.clear();
      std::string w;
      while (std::getline(in, w)) {
        while (!w.empty() && std::isspace(static_cast<unsigned char>(w.back()))) w.pop_back();
        if (!w.empty()) o.stop_words.push_back(w);
      }
    }
  }
  if (given(ngram_opt_)) {
    std::string text;
    for (const auto& p : ngram_range) text += (text.empty() ? "" : ",") + p;
    try {
      if (ngram_range.size() != 2) throw std::invalid_argument("");
      std::size_t used0 = 0, used1 = 0;
      o.ngram_min = std::stoi(ngram_range[0], &used0);
      o.ngram_max = std::stoi(ngram_range[1], &used1);
      if (used0 != ngram_range[0].size() || used1 != ngram_range[1].size())
        throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError("--ngram-range: expected MIN,MAX or MIN MAX, got '" + text + "'");
    }
    if (o.ngram_min < 1 || o.ngram_max < o.ngram_min) {
      throw UsageError("--ngram-range: need 1 <= MIN <= MAX, got '" + text + "'");
    }
  }
  if (given(min_df_opt_)) o.min_df = DfBound::parse(min_df);
  if (given(max_df_opt_)) o.max_df = DfBound::parse(max_df);
  if (given(max_features_opt_)) {
    if (max_features < 1) throw UsageError("--max-features must be >= 1");
    o.max_features = max_features;
  }
  if (binary_.given()) o.binary = binary_.value();
  if (sublinear_.given()) o.sublinear_tf = sublinear_.value();
  if (smooth_.given()) o.smooth_idf = smooth_.value();
  if (use_idf_.given()) o.use_idf = use_idf_.value();
  if (given(norm_opt_)) {
    if (norm == "l2") {
      o.norm = Norm::kL2;
    } else if (norm == "l1") {
      o.norm = Norm::kL1;
    } else if (norm == "none") {
      o.norm = Norm::kNone;
    } else {
      throw UsageError("--norm: expected l2, l1 or none, got '" + norm + "'");
    }
  }
  if (given(stem_opt_)) o.stemmer = stem == "none" ? "" : stem;
  if (latex_.given()) o.strip_latex = latex_.value();
  return o;
}

std::string TfidfCli::describe(const TfidfOptions& o) const {
  std::ostringstream s;
  const auto df = df_text;
  s << "preset=" << preset << " lowercase=" << (o.lowercase ? "true" : "false") << " strip_accents="
    << (o.strip_accents == StripAccents::kNone    ? "none"
        : o.strip_accents == StripAccents::kAscii ? "ascii"
                                                  : "unicode")
    << " stop_words="
    << (o.stop_words.empty() ? std::string("none") : std::to_string(o.stop_words.size()) + " words")
    << " ngram_range=" << o.ngram_min << "," << o.ngram_max << " min_df=" << df(o.min_df)
    << " max_df=" << df(o.max_df);
  if (o.max_features) s << " max_features=" << *o.max_features;
  s << " binary=" << (o.binary ? "true" : "false")
    << " sublinear_tf=" << (o.sublinear_tf ? "true" : "false")
    << " smooth_idf=" << (o.smooth_idf ? "true" : "false") << " norm="
    << (o.norm == Norm::kL2   ? "l2"
        : o.norm == Norm::kL1 ? "l1"
                              : "none");
  if (!o.stemmer.empty()) s << " stem=" << o.stemmer;
  if (o.strip_latex) s << " strip_latex=true";
  return s.str();
}

void EngineCli::add_to(CLI::App& app) {
  const char* g = "Engine";
  app.add_option("--backend", backend, "auto (CUDA when a GPU is visible), cpu or cuda")
      ->capture_default_str()
      ->group(g);
  app.add_option("--threads", threads, "Host threads (default: all cores)")->group(g);
  app.add_option("--memory-budget", memory_budget,
                 "Working memory for tiles, e.g. 2G (default: from available memory)")
      ->group(g);
  app.add_option("--head-dim", head_dim,
                 "Dense head size D of the head/tail tiles (default: cost model; few queries "
                 "against many references get the dense-queries kernel unless D is given)")
      ->group(g);
  app.add_option("--tile", tile, "Tile edge in documents (default: from the memory budget)")
      ->group(g);
  app.add_option("--devices", devices,
                 "CUDA device indices, repeatable or comma-separated (default: all visible)")
      ->allow_extra_args(false)
      ->delimiter(',')
      ->group(g);
  app.add_flag("-q,--quiet", quiet, "No progress bar, messages or summary on stderr");
}

SimilarityParams EngineCli::to_params() const {
  SimilarityParams p;
  if (threads < 0) throw UsageError("--threads must be >= 0");
  p.threads = threads;
  if (!memory_budget.empty()) p.memory_budget = parse_bytes(memory_budget);
  if (head_dim < -1) throw UsageError("--head-dim must be >= 0");
  p.head_dim = head_dim;
  if (tile < 0) throw UsageError("--tile must be >= 0");
  p.tile = tile;
  p.devices = devices;
  return p;
}

}  // namespace papersim::cli
