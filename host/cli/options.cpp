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

void ReaderCli::add_to(CLI::App& app) {
  app.add_option("--input-format", input_format,
                 "Input format: auto, jsonl, json, csv, tsv, listing, poster")
      ->capture_default_str()
      ->group("Input");
  app.add_option("--id-field", id_field, "Field holding the document id")
      ->capture_default_str()
      ->group("Input");
  app.add_option("--title-field", title_field, "Field holding the title")
      ->capture_default_str()
      ->group("Input");
  app.add_option("--text-field", text_fields,
                 "Field(s) tried in order for the abstract (default: abstract, then summary)")
      ->group("Input");
  app.add_option("--fields", fields,
                 "Parts of the document text, comma-separated: title, abstract or field names")
      ->capture_default_str()
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
  o.max_record_bytes = parse_bytes(max_record_bytes);
  return o;
}

void TfidfCli::add_to(CLI::App& app) {
  const char* g = "TF-IDF (scikit-learn TfidfVectorizer names; each overrides the preset)";
  app.add_option("--preset", preset, "Option preset: abstracts (default) or sklearn")
      ->capture_default_str()
      ->group(g);
  lowercase_opt_ =
      app.add_flag("--lowercase,!--no-lowercase", lowercase, "Lowercase before tokenizing")
          ->group(g);
  strip_accents_opt_ =
      app.add_option("--strip-accents", strip_accents, "none, ascii or unicode")->group(g);
  token_pattern_opt_ =
      app.add_option("--token-pattern", token_pattern, "Token regex (default (?u)\\b\\w\\w+\\b)")
          ->group(g);
  stop_words_opt_ =
      app.add_option("--stop-words", stop_words, "none, english, or a file with one word per line")
          ->group(g);
  ngram_opt_ =
      app.add_option("--ngram-range", ngram_range, "MIN,MAX n-gram lengths, e.g. 1,2")->group(g);
  min_df_opt_ = app.add_option("--min-df", min_df,
                               "Minimum document frequency: count (int) or proportion (float)")
                    ->group(g);
  max_df_opt_ = app.add_option("--max-df", max_df,
                               "Maximum document frequency: count (int) or proportion (float)")
                    ->group(g);
  max_features_opt_ =
      app.add_option("--max-features", max_features, "Keep only the most frequent terms")->group(g);
  binary_opt_ =
      app.add_flag("--binary,!--no-binary", binary, "Term frequency 1 for any count")->group(g);
  sublinear_opt_ =
      app.add_flag("--sublinear-tf,!--no-sublinear-tf", sublinear_tf, "tf = 1 + ln(tf)")->group(g);
  smooth_opt_ =
      app.add_flag("--smooth-idf,!--no-smooth-idf", smooth_idf, "idf = ln((1+n)/(1+df)) + 1")
          ->group(g);
  use_idf_opt_ =
      app.add_flag("--use-idf,!--no-use-idf", use_idf, "Weight by inverse document frequency")
          ->group(g);
  norm_opt_ = app.add_option("--norm", norm, "Row normalization: l2, l1 or none")->group(g);
  stem_opt_ =
      app.add_option("--stem", stem, "Snowball stemmer language (e.g. english), or none")->group(g);
  latex_opt_ = app.add_flag("--strip-latex,!--no-strip-latex", strip_latex,
                            "Remove LaTeX markup before tokenizing")
                   ->group(g);
}

TfidfOptions TfidfCli::to_options(int threads) const {
  TfidfOptions o = tfidf_preset(preset);
  o.threads = threads;
  if (given(lowercase_opt_)) o.lowercase = lowercase;
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
    auto parts = split_list(ngram_range, ',');
    try {
      if (parts.size() != 2) throw std::invalid_argument("");
      o.ngram_min = std::stoi(parts[0]);
      o.ngram_max = std::stoi(parts[1]);
    } catch (const std::exception&) {
      throw UsageError("--ngram-range: expected MIN,MAX, got '" + ngram_range + "'");
    }
    if (o.ngram_min < 1 || o.ngram_max < o.ngram_min) {
      throw UsageError("--ngram-range: need 1 <= MIN <= MAX, got '" + ngram_range + "'");
    }
  }
  if (given(min_df_opt_)) o.min_df = DfBound::parse(min_df);
  if (given(max_df_opt_)) o.max_df = DfBound::parse(max_df);
  if (given(max_features_opt_)) {
    if (max_features < 1) throw UsageError("--max-features must be >= 1");
    o.max_features = max_features;
  }
  if (given(binary_opt_)) o.binary = binary;
  if (given(sublinear_opt_)) o.sublinear_tf = sublinear_tf;
  if (given(smooth_opt_)) o.smooth_idf = smooth_idf;
  if (given(use_idf_opt_)) o.use_idf = use_idf;
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
  if (given(latex_opt_)) o.strip_latex = strip_latex;
  return o;
}

std::string TfidfCli::describe(const TfidfOptions& o) const {
  std::ostringstream s;
  auto df = [](const DfBound& b) {
    std::ostringstream t;
    if (b.is_fraction) {
      t << b.value;
      if (b.value == std::floor(b.value)) t << ".0";
    } else {
      t << static_cast<std::int64_t>(b.value);
    }
    return t.str();
  };
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
  app.add_option("--head-dim", head_dim, "Dense head size D (default: cost model)")->group(g);
  app.add_option("--tile", tile, "Tile edge in documents (default: from the memory budget)")
      ->group(g);
  app.add_option("--devices", devices, "CUDA device indices (default: all visible)")
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
