#include "papersim/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include "papersim/error.hpp"
#include "report/assets.hpp"
#include "report/text.hpp"

namespace papersim {
namespace {

using report_detail::append_html;
using report_detail::append_script_json;
using report_detail::DiffOp;
using report_detail::DiffRun;
using report_detail::html;

// The whole report can reach tens of megabytes: hand it to the stream in chunks
// instead of holding it in one string.
class Sink {
 public:
  explicit Sink(std::ostream& out) : out_(out) { buf_.reserve(kChunk + 4096); }
  ~Sink() = default;
  std::string& buf() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= kChunk) flush();
  }
  void flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
    if (!out_) throw Error("report: writing the HTML failed");
  }

 private:
  static constexpr std::size_t kChunk = 1 << 20;
  std::ostream& out_;
  std::string buf_;
};

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string score_text(float s) { return s < 0.0f || std::isnan(s) ? "\xE2\x80\x94" : fixed(s, 4); }

std::string count_text(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

std::string seconds_text(double s) {
  if (s < 1.0) return fixed(s * 1000.0, 1) + " ms";
  if (s < 120.0) return fixed(s, 2) + " s";
  return fixed(s / 60.0, 1) + " min";
}

void check_doc(std::int64_t doc, std::int64_t n, const char* what) {
  if (doc < 0 || doc >= n) {
    throw Error(std::string("report: ") + what + " refers to document " + std::to_string(doc) +
                " but there are " + std::to_string(n) + " documents");
  }
}

void validate(const ReportData& d) {
  const auto n = static_cast<std::int64_t>(d.docs.size());
  for (const auto& p : d.pairs) {
    check_doc(p.a, n, "a threshold pair");
    check_doc(p.b, n, "a threshold pair");
  }
  for (const auto& c : d.clusters) {
    check_doc(c.representative, n, "a cluster representative");
    for (const auto& m : c.members) check_doc(m.doc, n, "a cluster member");
  }
  if (!d.topk.empty() && static_cast<std::int64_t>(d.topk.size()) != n) {
    throw Error("report: " + std::to_string(d.topk.size()) + " top-k lists for " +
                std::to_string(n) + " documents");
  }
  for (const auto& list : d.topk) {
    for (const auto& nb : list) check_doc(nb.doc, n, "a top-k neighbour");
  }
  if (!d.best_scores.empty() && static_cast<std::int64_t>(d.best_scores.size()) != n) {
    throw Error("report: " + std::to_string(d.best_scores.size()) + " best scores for " +
                std::to_string(n) + " documents");
  }
  for (const auto& t : d.triage) {
    check_doc(t.doc, n, "a triage document");
    check_doc(t.match, n, "a triage match");
  }
  if (d.queries < 0 || d.queries > n) throw Error("report: queries outside the documents");
}

std::vector<float> best_scores(const ReportData& d) {
  if (!d.best_scores.empty()) return d.best_scores;
  std::vector<float> best(d.docs.size(), -1.0f);
  if (!d.topk.empty()) {
    for (std::size_t i = 0; i < d.topk.size(); ++i) {
      for (const auto& nb : d.topk[i]) best[i] = std::max(best[i], nb.score);
    }
  } else {
    for (const auto& p : d.pairs) {
      best[p.a] = std::max(best[p.a], p.score);
      best[p.b] = std::max(best[p.b], p.score);
    }
  }
  return best;
}

// ---------------------------------------------------------------- summary

void write_summary(const ReportData& d, const std::vector<float>& best, Sink& sink) {
  std::string& o = sink.buf();
  const auto& s = d.summary;
  auto row = [&](const std::string& key, const std::string& value_html) {
    o += "<tr><th>";
    append_html(o, key);
    o += "</th><td>";
    o += value_html;
    o += "</td></tr>\n";
  };
  o += "<section id=\"summary\"><h2>Summary</h2>\n<div class=\"cards\">\n";
  std::int64_t in_clusters = 0;
  for (const auto& c : d.clusters) in_clusters += static_cast<std::int64_t>(c.members.size());
  std::int64_t with_neighbour = 0;
  for (float b : best) with_neighbour += b >= 0.0f;
  auto card = [&](const std::string& value, const std::string& label) {
    o += "<div class=\"card\"><div class=\"big\">";
    append_html(o, value);
    o += "</div><div>";
    append_html(o, label);
    o += "</div></div>\n";
  };
  if (d.queries > 0) {
    card(count_text(d.queries), "submissions");
    card(count_text(static_cast<std::int64_t>(d.docs.size()) - d.queries), "published papers");
  } else {
    card(count_text(static_cast<std::int64_t>(d.docs.size())), "documents");
  }
  if (d.threshold >= 0.0f) {
    card(count_text(static_cast<std::int64_t>(d.pairs.size())),
         "pairs with score \xE2\x89\xA5 " + fixed(d.threshold, 2));
    card(count_text(static_cast<std::int64_t>(d.clusters.size())), "duplicate clusters");
    card(count_text(in_clusters), "documents in clusters");
  }
  double total = 0.0;
  for (const auto& t : s.timings) total += t.second;
  if (!s.timings.empty()) card(seconds_text(total), "total time");
  o += "</div>\n<table class=\"kv\">\n";
  if (!s.command.empty()) row("Command", "<code>" + html(s.command) + "</code>");
  if (!s.inputs.empty()) {
    std::string v;
    for (const auto& in : s.inputs) v += "<code>" + html(in) + "</code> ";
    row("Inputs", v);
  }
  const auto& rs = s.read_stats;
  if (rs.records > 0 || rs.files > 0) {
    std::string v = count_text(rs.files) + " files, " + count_text(rs.records) + " records, " +
                    count_text(rs.kept) + " documents kept";
    row("Read", html(v));
    std::string skipped = count_text(rs.skipped_total());
    if (!rs.skipped.empty()) {
      skipped += " (";
      bool first = true;
      for (const auto& kv : rs.skipped) {
        if (!first) skipped += ", ";
        first = false;
        skipped += kv.first + ": " + count_text(kv.second);
      }
      skipped += ")";
    }
    row("Skipped records", html(skipped));
    if (rs.title_only > 0) row("Title only (no abstract)", html(count_text(rs.title_only)));
    if (rs.duplicate_ids > 0) row("Repeated ids (kept)", html(count_text(rs.duplicate_ids)));
    if (!rs.messages.empty()) {
      std::string v = "<details><summary>" +
                      count_text(static_cast<std::int64_t>(rs.messages.size())) +
                      " messages</summary><pre>";
      for (const auto& m : rs.messages) v += html(m) + "\n";
      v += "</pre></details>";
      row("Reader messages", v);
    }
  }
  if (!s.options.empty()) {
    std::string v;
    for (const auto& kv : s.options)
      v += "<code>" + html(kv.first) + "=" + html(kv.second) + "</code> ";
    row("Options", v);
  }
  if (!s.backend.empty()) row("Backend", html(s.backend));
  if (s.pairs_evaluated > 0) row("Pairs evaluated", html(count_text(s.pairs_evaluated)));
  if (d.queries > 0) {
    row("Submissions with a match",
        html(count_text(with_neighbour) + " of " + count_text(d.queries)));
  } else {
    row("Documents with a neighbour", html(count_text(with_neighbour) + " of " +
                                           count_text(static_cast<std::int64_t>(d.docs.size()))));
  }
  if (s.zero_rows > 0) row("Documents without terms", html(count_text(s.zero_rows)));
  if (!s.timings.empty()) {
    std::string v;
    for (const auto& t : s.timings) v += html(t.first) + " " + html(seconds_text(t.second)) + "; ";
    v += "total " + html(seconds_text(total));
    row("Time", v);
  }
  if (!s.generated_at.empty()) row("Generated", html(s.generated_at));
  o += "</table>\n</section>\n";
  sink.maybe_flush();
}

// -------------------------------------------------------------- histogram

void write_histogram(const ReportData& d, const std::vector<float>& best, int bins_requested,
                     Sink& sink) {
  std::string& o = sink.buf();
  const int bins = std::max(1, bins_requested);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(bins), 0);
  std::int64_t none = 0, above = 0;
  for (float b : best) {
    if (b < 0.0f || std::isnan(b)) {
      ++none;
      continue;
    }
    int bin = static_cast<int>(std::floor(static_cast<double>(b) * bins));
    counts[static_cast<std::size_t>(std::clamp(bin, 0, bins - 1))]++;
    if (d.threshold >= 0.0f && b >= d.threshold) ++above;
  }
  const std::int64_t max_count =
      std::max<std::int64_t>(1, *std::max_element(counts.begin(), counts.end()));
  // Plot geometry (SVG user units; the SVG scales to the page width).
  const double W = 760, H = 280, left = 56, right = 16, top = 28, bottom = 44;
  const double pw = W - left - right, ph = H - top - bottom;
  const double bw = pw / bins;
  const double log_max = std::log10(static_cast<double>(max_count) + 1.0);
  auto lin_h = [&](std::int64_t c) {
    return ph * static_cast<double>(c) / static_cast<double>(max_count);
  };
  auto log_h = [&](std::int64_t c) {
    return ph * std::log10(static_cast<double>(c) + 1.0) / log_max;
  };

  o += "<section id=\"histogram\"><h2>Best-neighbour score of every document</h2>\n";
  o += "<p class=\"note\">Each document counts once, at the score of its most similar other "
       "document. Duplicates pile up near 1; merely related papers form the broad hump below. ";
  if (d.threshold >= 0.0f) {
    o += "The red line is the duplicate threshold (" + fixed(d.threshold, 2) +
         "): " + count_text(above) + " documents have a neighbour at or above it.";
  }
  if (none > 0)
    o += " " + count_text(none) + " documents have no neighbour at all and are not plotted.";
  // When one bin dwarfs the rest (usually exact duplicates at 1.0), linear bars would
  // flatten the related-papers hump: start on the logarithmic scale then.
  std::vector<std::int64_t> sorted_counts = counts;
  std::sort(sorted_counts.rbegin(), sorted_counts.rend());
  const bool start_log = sorted_counts.size() > 1 && sorted_counts[0] > 5 * sorted_counts[1];
  o += std::string("</p>\n<input type=\"checkbox\" id=\"logscale\"") +
       (start_log ? " checked" : "") +
       "><label for=\"logscale\"> logarithmic "
       "counts</label>\n";
  o += "<svg class=\"hist\" viewBox=\"0 0 " + fixed(W, 0) + " " + fixed(H, 0) +
       "\" role=\"img\" aria-label=\"Histogram of best-neighbour scores\">\n";
  // Axes and x ticks.
  o += "<line class=\"axis\" x1=\"" + fixed(left, 1) + "\" y1=\"" + fixed(top + ph, 1) +
       "\" x2=\"" + fixed(left + pw, 1) + "\" y2=\"" + fixed(top + ph, 1) + "\"/>\n";
  o += "<line class=\"axis\" x1=\"" + fixed(left, 1) + "\" y1=\"" + fixed(top, 1) + "\" x2=\"" +
       fixed(left, 1) + "\" y2=\"" + fixed(top + ph, 1) + "\"/>\n";
  for (int t = 0; t <= 10; ++t) {
    const double x = left + pw * t / 10.0;
    o += "<line class=\"tick\" x1=\"" + fixed(x, 1) + "\" y1=\"" + fixed(top + ph, 1) + "\" x2=\"" +
         fixed(x, 1) + "\" y2=\"" + fixed(top + ph + 5, 1) + "\"/><text class=\"tl\" x=\"" +
         fixed(x, 1) + "\" y=\"" + fixed(top + ph + 18, 1) + "\" text-anchor=\"middle\">" +
         fixed(t / 10.0, 1) + "</text>\n";
  }
  o += "<text class=\"tl\" x=\"" + fixed(left + pw / 2, 1) + "\" y=\"" + fixed(H - 6, 1) +
       "\" text-anchor=\"middle\">best-neighbour cosine score</text>\n";
  // Y ticks for both scales; CSS shows the set matching the checkbox.
  auto y_ticks = [&](const char* cls, auto height_of, const std::vector<std::int64_t>& values) {
    o += std::string("<g class=\"") + cls + "\">";
    for (std::int64_t v : values) {
      const double y = top + ph - height_of(v);
      o += "<line class=\"grid\" x1=\"" + fixed(left, 1) + "\" y1=\"" + fixed(y, 1) + "\" x2=\"" +
           fixed(left + pw, 1) + "\" y2=\"" + fixed(y, 1) + "\"/><text class=\"tl\" x=\"" +
           fixed(left - 6, 1) + "\" y=\"" + fixed(y + 4, 1) + "\" text-anchor=\"end\">" +
           count_text(v) + "</text>";
    }
    o += "</g>\n";
  };
  std::vector<std::int64_t> lin_ticks;
  {
    // A "nice" step: 1, 2 or 5 times a power of ten, giving at most ~5 lines.
    double raw = static_cast<double>(max_count) / 5.0;
    double p = std::pow(10.0, std::floor(std::log10(std::max(1.0, raw))));
    double step = p;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
      if (p * m >= raw) {
        step = p * m;
        break;
      }
    }
    const auto istep = std::max<std::int64_t>(1, static_cast<std::int64_t>(step));
    for (std::int64_t v = istep; v <= max_count; v += istep) lin_ticks.push_back(v);
  }
  std::vector<std::int64_t> log_ticks;
  for (std::int64_t v = 1; v <= max_count; v *= 10) log_ticks.push_back(v);
  y_ticks("lin", lin_h, lin_ticks);
  y_ticks("log", log_h, log_ticks);
  for (const char* cls : {"lin", "log"}) {
    const bool is_log = cls[1] == 'o';
    o += std::string("<g class=\"bars ") + cls + "\">";
    for (int i = 0; i < bins; ++i) {
      if (counts[i] == 0) continue;
      const double h = is_log ? log_h(counts[i]) : lin_h(counts[i]);
      const double lo = static_cast<double>(i) / bins, hi = static_cast<double>(i + 1) / bins;
      const bool dup = d.threshold >= 0.0f && lo >= d.threshold - 1e-9;
      o += "<rect" + std::string(dup ? " class=\"dup\"" : "") + " x=\"" +
           fixed(left + i * bw + 0.5, 2) + "\" y=\"" + fixed(top + ph - h, 2) + "\" width=\"" +
           fixed(std::max(0.5, bw - 1.0), 2) + "\" height=\"" + fixed(h, 2) + "\"><title>" +
           fixed(lo, 2) + "\xE2\x80\x93" + fixed(hi, 2) + ": " + count_text(counts[i]) +
           " documents</title></rect>";
    }
    o += "</g>\n";
  }
  if (d.threshold >= 0.0f && d.threshold <= 1.0f) {
    const double x = left + pw * d.threshold;
    const bool label_left = d.threshold > 0.75f;
    o += "<line class=\"thr\" x1=\"" + fixed(x, 1) + "\" y1=\"" + fixed(top - 16, 1) + "\" x2=\"" +
         fixed(x, 1) + "\" y2=\"" + fixed(top + ph, 1) + "\"/><text class=\"thrl\" x=\"" +
         fixed(label_left ? x - 6 : x + 6, 1) + "\" y=\"" + fixed(top - 8, 1) +
         "\" text-anchor=\"" + (label_left ? "end" : "start") + "\">threshold " +
         fixed(d.threshold, 2) + ": " + count_text(above) + " documents at or above</text>\n";
  }
  o += "</svg>\n</section>\n";
  sink.maybe_flush();
}

// --------------------------------------------------------------- clusters

void doc_ref(std::string& o, const Document& doc, std::int64_t index) {
  o += "<span class=\"dn\">#" + std::to_string(index) + "</span> ";
  append_html(o, doc.title.empty() ? std::string_view("(untitled)") : std::string_view(doc.title));
}

// Word spans of one side: equal words plain, changed words wrapped in `tag`.
void append_side(std::string& o, const std::vector<std::string_view>& words,
                 const std::vector<DiffRun>& runs, DiffOp mine, const char* tag) {
  std::size_t w = 0;
  for (const auto& r : runs) {
    if (r.op != DiffOp::kEqual && r.op != mine) continue;
    const bool changed = r.op == mine;
    if (changed) o += std::string("<") + tag + ">";
    for (std::size_t i = 0; i < r.count && w < words.size(); ++i, ++w) {
      if (i > 0) o.push_back(' ');
      append_html(o, words[w]);
    }
    if (changed) o += std::string("</") + tag + ">";
    o.push_back(' ');
  }
}

// `rep_label` names the left side ("representative", "best match").
void write_pair_diff(const Document& rep, std::int64_t rep_index, const Document& member,
                     std::int64_t member_index, float score, const ReportOptions& opt,
                     std::string& o, const std::string& rep_label = "representative") {
  o += "<div class=\"pair\"><div class=\"ph\">";
  // The members table already shows every title: repeat it only when it differs.
  if (member.title != rep.title) {
    doc_ref(o, member, member_index);
  } else {
    o += "<span class=\"dn\">#" + std::to_string(member_index) + "</span>";
  }
  o += " <span class=\"vs\">vs " + rep_label + " #" + std::to_string(rep_index) + "</span>";
  if (score >= 0.0f) o += " <span class=\"score\">" + score_text(score) + "</span>";
  // Readers never keep a document without text: empty is one whose text was not stored
  // (a saved index's), and two such are not "identical".
  if (rep.text.empty() || member.text.empty()) {
    o += " <span class=\"tag\">no text comparison: a saved index stores id, title and source, "
         "not the text</span></div></div>\n";
    return;
  }
  if (rep.text == member.text) {
    o += " <span class=\"tag same\">identical text</span></div></div>\n";
    return;
  }
  bool cut_a = false, cut_b = false;
  const auto a = report_detail::split_words(rep.text, opt.max_diff_words, &cut_a);
  const auto b = report_detail::split_words(member.text, opt.max_diff_words, &cut_b);
  std::vector<DiffRun> runs;
  const bool ok = report_detail::diff_words(a, b, opt.max_diff_edits, &runs);
  if (ok) {
    std::size_t del = 0, ins = 0;
    for (const auto& r : runs) {
      if (r.op == DiffOp::kDelete) del += r.count;
      if (r.op == DiffOp::kInsert) ins += r.count;
    }
    if (del == 0 && ins == 0) {
      o += " <span class=\"tag same\">same words, different spacing</span>";
    } else {
      o += " <span class=\"tag\">" + count_text(static_cast<std::int64_t>(del)) +
           " words removed, " + count_text(static_cast<std::int64_t>(ins)) + " added</span>";
    }
  } else {
    runs = {{DiffOp::kDelete, a.size()}, {DiffOp::kInsert, b.size()}};
    o += " <span class=\"tag\">too different to align word by word</span>";
  }
  if (cut_a || cut_b) {
    o += " <span class=\"tag\">compared the first " +
         count_text(static_cast<std::int64_t>(opt.max_diff_words)) + " words</span>";
  }
  o += "</div>\n<div class=\"sbs\"><div class=\"side\"><div class=\"sh\">#" +
       std::to_string(rep_index) + " (" + rep_label + ")</div>";
  if (ok) {
    append_side(o, a, runs, DiffOp::kDelete, "del");
  } else {
    for (std::size_t i = 0; i < a.size(); ++i) {
      append_html(o, a[i]);
      o.push_back(' ');
    }
  }
  o += "</div><div class=\"side\"><div class=\"sh\">#" + std::to_string(member_index) + "</div>";
  if (ok) {
    append_side(o, b, runs, DiffOp::kInsert, "ins");
  } else {
    for (std::size_t i = 0; i < b.size(); ++i) {
      append_html(o, b[i]);
      o.push_back(' ');
    }
  }
  o += "</div></div></div>\n";
}

void write_clusters(const ReportData& d, const ReportOptions& opt, Sink& sink) {
  std::string& o = sink.buf();
  o += "<section id=\"clusters\"><h2>Duplicate clusters</h2>\n";
  if (d.threshold < 0.0f && d.pairs.empty() && d.clusters.empty()) {
    o += "<p class=\"note\">No duplicate threshold was given, so no clusters were "
         "computed.</p>\n</section>\n";
    return;
  }
  if (d.clusters.empty()) {
    o += "<p class=\"note\">No pair of documents scored at or above the threshold";
    if (d.threshold >= 0.0f) o += " (" + fixed(d.threshold, 2) + ")";
    o += ".</p>\n</section>\n";
    return;
  }
  o += "<p class=\"note\">Connected components of the pairs scoring at or above the threshold, "
       "largest first. Each member is compared word by word with the cluster's representative "
       "(the member most similar to the others): <del>removed</del> and <ins>added</ins> words are "
       "highlighted.</p>\n";
  std::size_t opened_with_changes = 0;
  // Parsing cluster markup is what makes a big report slow to open (26k clusters of
  // arXiv-daily: 33 MB, ~20 s), so only the largest are HTML; the script lists the
  // rest from the data blob, a page at a time.
  const std::size_t in_html = std::min(d.clusters.size(), opt.max_diff_clusters);
  for (std::size_t ci = 0; ci < in_html; ++ci) {
    const Cluster& c = d.clusters[ci];
    const Document& rep = d.docs[static_cast<std::size_t>(c.representative)];
    // Besides the largest clusters, expand those whose texts differ: revised
    // abstracts are what a reader checks by eye, exact copies are not.
    bool differs = false;
    for (const auto& m : c.members)
      differs |= d.docs[static_cast<std::size_t>(m.doc)].text != rep.text;
    bool open = ci < opt.open_clusters;
    if (!open && differs && opened_with_changes < opt.open_clusters) {
      open = true;
      ++opened_with_changes;
    }
    o += "<details class=\"cluster" + std::string(differs ? " changed" : "") + "\" id=\"cluster-" +
         std::to_string(c.id) + "\"" + (open ? " open" : "") + "><summary><span class=\"size\">" +
         std::to_string(c.members.size()) + " papers</span> ";
    append_html(o,
                rep.title.empty() ? std::string_view("(untitled)") : std::string_view(rep.title));
    if (differs) o += " <span class=\"tag\">texts differ</span>";
    o += "</summary>\n<table class=\"members\"><thead><tr><th>doc</th><th>title</th><th>id</th>"
         "<th>source</th><th>score to rep.</th></tr></thead><tbody>\n";
    for (const auto& m : c.members) {
      const Document& doc = d.docs[static_cast<std::size_t>(m.doc)];
      const bool is_rep = m.doc == c.representative;
      o += std::string("<tr") + (is_rep ? " class=\"rep\"" : "") + "><td>#" +
           std::to_string(m.doc) + "</td><td class=\"title\">";
      append_html(o, doc.title);
      if (is_rep) o += " <span class=\"tag\">representative</span>";
      o += "</td><td><code>";
      append_html(o, doc.id);
      o += "</code></td><td><code>";
      append_html(o, doc.source);
      o += "</code></td><td class=\"num\">" +
           (is_rep ? std::string("\xE2\x80\x94") : score_text(m.score_to_representative)) +
           "</td></tr>\n";
    }
    o += "</tbody></table>\n";
    {
      // Identical texts need no side-by-side view: show the representative's text once.
      bool any_identical = false;
      std::size_t shown = 0;
      for (const auto& m : c.members) {
        if (m.doc == c.representative) continue;
        if (shown >= opt.max_diffs_per_cluster) break;
        const Document& doc = d.docs[static_cast<std::size_t>(m.doc)];
        any_identical |= doc.text == rep.text;
        write_pair_diff(rep, c.representative, doc, m.doc, m.score_to_representative, opt, o);
        ++shown;
        sink.maybe_flush();
      }
      const std::size_t others = c.members.size() - 1;
      if (shown < others) {
        o += "<p class=\"note\">" + count_text(static_cast<std::int64_t>(others - shown)) +
             " more members not compared (limit " + std::to_string(opt.max_diffs_per_cluster) +
             ").</p>\n";
      }
      if (any_identical) {
        o += "<details class=\"text\"><summary>Representative text</summary><p>";
        append_html(o, rep.text);
        o += "</p></details>\n";
      }
    }
    o += "</details>\n";
    sink.maybe_flush();
  }
  if (d.clusters.size() > in_html) {
    o += "<h3>" + count_text(static_cast<std::int64_t>(d.clusters.size() - in_html)) +
         " smaller clusters</h3>\n<p class=\"note\">Listed without text comparisons.</p>\n"
         "<div class=\"controls\"><button id=\"cprev\" type=\"button\">\xE2\x80\xB9 "
         "previous</button> <button id=\"cnext\" type=\"button\">next \xE2\x80\xBA</button> "
         "<span id=\"cl-info\"></span></div>\n<div id=\"cl-list\"></div>\n";
  }
  o += "</section>\n";
  sink.maybe_flush();
}

// ---------------------------------------------------------------- related

// The related-papers table is rendered by the inline script from this JSON blob,
// a page at a time, so a 100k-document report stays quick to open.
void write_related_data(const ReportData& d, const std::vector<float>& best,
                        const ReportOptions& opt, Sink& sink) {
  std::string& o = sink.buf();
  constexpr int kScale = 10000;
  auto scaled = [](float s) {
    return s < 0.0f || std::isnan(s)
               ? -1
               : static_cast<int>(std::lround(static_cast<double>(s) * kScale));
  };
  o += "<script type=\"application/json\" id=\"report-data\">{\"scale\":" + std::to_string(kScale) +
       ",\"page\":" + std::to_string(std::max(1, opt.page_size)) + ",\"docs\":[";
  for (std::size_t i = 0; i < d.docs.size(); ++i) {
    if (i) o.push_back(',');
    o.push_back('[');
    append_script_json(o, d.docs[i].id);
    o.push_back(',');
    append_script_json(o, report_detail::utf8_prefix(d.docs[i].title, opt.max_title_bytes));
    o.push_back(',');
    append_script_json(o, d.docs[i].source);
    o.push_back(']');
    sink.maybe_flush();
  }
  o += "],\n\"best\":[";
  for (std::size_t i = 0; i < best.size(); ++i) {
    if (i) o.push_back(',');
    o += std::to_string(scaled(best[i]));
  }
  o += "],\n\"nb\":";
  if (d.topk.empty()) {
    o += "null";
  } else {
    o.push_back('[');
    for (std::size_t i = 0; i < d.topk.size(); ++i) {
      if (i) o.push_back(',');
      o.push_back('[');
      bool first = true;
      for (const auto& nb : d.topk[i]) {
        if (!first) o.push_back(',');
        first = false;
        o += std::to_string(nb.doc);
        o.push_back(',');
        o += std::to_string(scaled(nb.score));
      }
      o.push_back(']');
      sink.maybe_flush();
    }
    o.push_back(']');
  }
  // Clusters not rendered as HTML: [id, representative, doc, score, doc, score, ...].
  o += ",\n\"cl\":[";
  for (std::size_t ci = std::min(d.clusters.size(), opt.max_diff_clusters); ci < d.clusters.size();
       ++ci) {
    const Cluster& c = d.clusters[ci];
    if (ci > opt.max_diff_clusters) o.push_back(',');
    o += "[" + std::to_string(c.id) + "," + std::to_string(c.representative);
    for (const auto& m : c.members) {
      o += "," + std::to_string(m.doc) + "," +
           std::to_string(m.doc == c.representative ? -1 : scaled(m.score_to_representative));
    }
    o.push_back(']');
    sink.maybe_flush();
  }
  o += "]}</script>\n";
  sink.maybe_flush();
}

void write_related_section(const ReportData& d, Sink& sink) {
  std::string& o = sink.buf();
  o += "<section id=\"related\"><h2>Related papers</h2>\n";
  if (d.topk.empty()) {
    o += "<p class=\"note\">No top-k lists in this report; the table lists every document and its "
         "best score.</p>\n";
  } else {
    std::size_t k = 0;
    for (const auto& l : d.topk) k = std::max(k, l.size());
    o += "<p class=\"note\">Each paper with its " + std::to_string(k) +
         " most similar papers. Search by title or id; click a neighbour to look it up.</p>\n";
  }
  o += "<div class=\"controls\"><input type=\"search\" id=\"q\" placeholder=\"Search title or id\" "
       "aria-label=\"Search title or id\" autocomplete=\"off\"> <label>Order <select id=\"sort\">"
       "<option value=\"doc\">input order</option><option value=\"best\">best score, highest "
       "first</option></select></label> <button id=\"prev\" type=\"button\">\xE2\x80\xB9 "
       "previous</button> <button id=\"next\" type=\"button\">next \xE2\x80\xBA</button> <span "
       "id=\"rel-info\"></span></div>\n<noscript><p class=\"note\">The related-papers table needs "
       "JavaScript.</p></noscript>\n<table class=\"related\"><thead><tr><th>doc</th><th>paper</th>"
       "<th>best</th><th>related papers</th></tr></thead><tbody id=\"rel-body\"></tbody></table>\n"
       "</section>\n";
}

// ----------------------------------------------------------------- triage

// The documents to look at first (check's flagged submissions), each with its best match
// and the word-level diff; the order is the caller's (highest score first).
void write_triage(const ReportData& d, const ReportOptions& opt, Sink& sink) {
  std::string& o = sink.buf();
  o += "<section id=\"triage\"><h2>Submissions to look at (" +
       count_text(static_cast<std::int64_t>(d.triage.size())) + ")</h2>\n";
  o += "<p class=\"note\">Every submission with a match at or above the threshold, the highest "
       "score first, beside its best match: <del>removed</del> and <ins>added</ins> words are "
       "highlighted. All matches of a submission are in the check's JSON Lines output.</p>\n";
  const std::size_t in_html = std::min(d.triage.size(), opt.max_diff_clusters);
  o += "<table class=\"members\"><thead><tr><th>score</th><th>submission</th><th>id</th>"
       "<th>best match</th><th>id</th><th>side</th><th>matches</th></tr></thead><tbody>\n";
  for (const TriageItem& t : d.triage) {
    const Document& a = d.docs[static_cast<std::size_t>(t.doc)];
    const Document& b = d.docs[static_cast<std::size_t>(t.match)];
    o += "<tr><td class=\"num\">" + score_text(t.score) + "</td><td class=\"title\">";
    doc_ref(o, a, t.doc);
    o += "</td><td><code>";
    append_html(o, a.id);
    o += "</code></td><td class=\"title\">";
    doc_ref(o, b, t.match);
    o += "</td><td><code>";
    append_html(o, b.id);
    o += "</code></td><td>" + std::string(t.published ? "published" : "submission") +
         "</td><td class=\"num\">" + count_text(t.matches) + "</td></tr>\n";
    sink.maybe_flush();
  }
  o += "</tbody></table>\n";
  for (std::size_t i = 0; i < in_html; ++i) {
    const TriageItem& t = d.triage[i];
    const Document& a = d.docs[static_cast<std::size_t>(t.doc)];
    const Document& b = d.docs[static_cast<std::size_t>(t.match)];
    o += "<details class=\"cluster changed\" id=\"triage-" + std::to_string(t.doc) + "\"" +
         (i < opt.open_clusters ? " open" : "") + "><summary><span class=\"size\">" +
         score_text(t.score) + "</span> ";
    append_html(o, a.title.empty() ? std::string_view("(untitled)") : std::string_view(a.title));
    o += " <span class=\"tag\">" + std::string(t.published ? "published" : "submission") +
         " match</span></summary>\n";
    write_pair_diff(b, t.match, a, t.doc, t.score, opt, o, "best match");
    o += "<p class=\"note\"><code>";
    append_html(o, a.source);
    o += "</code> vs <code>";
    append_html(o, b.source);
    o += "</code></p></details>\n";
    sink.maybe_flush();
  }
  if (d.triage.size() > in_html) {
    o += "<p class=\"note\">" + count_text(static_cast<std::int64_t>(d.triage.size() - in_html)) +
         " more submissions are listed in the table above without a text comparison.</p>\n";
  }
  o += "</section>\n";
  sink.maybe_flush();
}

}  // namespace

void write_report(const ReportData& data, std::ostream& out, const ReportOptions& options) {
  validate(data);
  std::vector<float> best = best_scores(data);
  // Cross-corpus runs: the submissions only (the references are the background).
  if (data.queries > 0 && best.size() > static_cast<std::size_t>(data.queries)) {
    std::fill(best.begin() + data.queries, best.end(), -1.0f);
  }
  Sink sink(out);
  std::string& o = sink.buf();
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"" +
       report_detail::content_security_policy() + "\">\n";
  o += "<title>";
  append_html(o, data.summary.title);
  o += "</title>\n<style>";
  o += report_detail::kStyle;
  o += "</style>\n</head>\n<body>\n<div id=\"errbar\" hidden></div>\n<header><h1>";
  append_html(o, data.summary.title);
  o += "</h1><nav>";
  if (!data.triage.empty()) {
    o += "<a href=\"#triage\">Submissions to look at (" +
         count_text(static_cast<std::int64_t>(data.triage.size())) + ")</a> ";
  }
  o += "<a href=\"#summary\">Summary</a> <a href=\"#histogram\">Score distribution</a> "
       "<a href=\"#clusters\">Duplicate clusters (" +
       count_text(static_cast<std::int64_t>(data.clusters.size())) +
       ")</a> <a href=\"#related\">Related papers</a></nav></header>\n<main>\n";
  if (!data.triage.empty()) write_triage(data, options, sink);
  write_summary(data, best, sink);
  write_histogram(data, best, options.histogram_bins, sink);
  write_clusters(data, options, sink);
  write_related_section(data, sink);
  o += "</main>\n<footer>Generated by papersim. This file is self-contained: it loads nothing "
       "from the network.</footer>\n";
  write_related_data(data, best, options, sink);
  o += "<script>";
  o += report_detail::kScript;
  o += "</script>\n</body></html>\n";
  sink.flush();
}

}  // namespace papersim
