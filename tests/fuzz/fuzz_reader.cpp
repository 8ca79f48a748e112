// One reader (PAPERSIM_FUZZ_FORMAT: jsonl, json, csv, tsv, text, auto) on
// arbitrary bytes. Invariants beyond "no crash": every record is kept or
// skipped; kept documents are numbered in order with non-empty, valid UTF-8
// text; packed and unpacked texts agree; --strict fails exactly when the
// default policy skips something; without --strict, only binary or
// compressed input, or a CSV/TSV header that maps no text column, may be an
// error.
#include <cstring>

#include "fuzz_support.hpp"
#include "io/reader_internal.hpp"
#include "papersim/error.hpp"
#include "papersim/reader.hpp"

using namespace papersim;

namespace {

InputFormat format_for(std::uint8_t selector) {
  const std::string f = PAPERSIM_FUZZ_FORMAT;
  if (f == "jsonl") return InputFormat::kJsonl;
  if (f == "json") return InputFormat::kJson;
  if (f == "csv") return InputFormat::kCsv;
  if (f == "tsv") return InputFormat::kTsv;
  if (f == "text") return selector & 1 ? InputFormat::kPoster : InputFormat::kListing;
  return InputFormat::kAuto;
}

bool binary_or_compressed(std::string_view d) {
  if (fuzz::compressed_magic(d)) return true;
  // A BOM is removed after the check: the probe covers the raw bytes.
  const std::string_view probe = d.substr(0, io::StreamGuard::kProbeBytes);
  return std::memchr(probe.data(), '\0', probe.size()) != nullptr;
}

// A header that gives no text is one error for the file by design (a skip
// per row would hide a --text-field typo), so it is an expected outcome.
bool header_without_text(InputFormat f, const InputError& e) {
  if (f != InputFormat::kCsv && f != InputFormat::kTsv && f != InputFormat::kAuto) return false;
  return std::strstr(e.what(), "the header has none of the text columns") != nullptr ||
         std::strstr(e.what(), "the header has no column") != nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static fuzz::MemFile file;
  const std::uint8_t selector = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string& path = file.write(body);

  ReaderOptions o;
  o.format = format_for(selector);
  o.threads = 1;
  // Small limits reach the record-size paths; 0 keeps the default.
  o.max_record_bytes = (selector >> 1) == 0 ? 0 : static_cast<std::size_t>(selector >> 1) * 8;
  if (selector & 0x80) o.fields = {"title", "abstract", "authors", "id"};

  Corpus plain;
  try {
    plain = read_corpus({path}, o);
  } catch (const InputError& e) {
    PAPERSIM_FUZZ_CHECK(binary_or_compressed(body) || header_without_text(o.format, e), e.what());
    return 0;
  }
  const ReadStats& st = plain.stats;
  PAPERSIM_FUZZ_CHECK(st.records == st.kept + st.skipped_total(), "records != kept + skipped");
  PAPERSIM_FUZZ_CHECK(st.kept == static_cast<std::int64_t>(plain.docs.size()), "kept != docs");
  for (std::size_t i = 0; i < plain.docs.size(); ++i) {
    const Document& d = plain.docs[i];
    PAPERSIM_FUZZ_CHECK(d.doc == static_cast<std::int64_t>(i), "doc numbering");
    PAPERSIM_FUZZ_CHECK(!d.text.empty(), "empty kept text");
    PAPERSIM_FUZZ_CHECK(fuzz::utf8_ok(d.text), "kept text not UTF-8");
    PAPERSIM_FUZZ_CHECK(fuzz::utf8_ok(d.title), "title not UTF-8");
    PAPERSIM_FUZZ_CHECK(fuzz::utf8_ok(d.id), "id not UTF-8");
  }
  if (o.format == InputFormat::kAuto) {
    // Detection is total and stable.
    const InputFormat f = io::detect_format(path, body, o);
    PAPERSIM_FUZZ_CHECK(f != InputFormat::kAuto, "detect_format returned kAuto");
  }

  ReaderOptions packed_options = o;
  packed_options.pack_texts = true;
  const Corpus packed = read_corpus({path}, packed_options);
  PAPERSIM_FUZZ_CHECK(packed.docs.size() == plain.docs.size(), "packed doc count");
  std::size_t i = 0;
  for (const TextPack& p : packed.packs) {
    for (std::size_t t = 0; t < p.size(); ++t, ++i) {
      PAPERSIM_FUZZ_CHECK(i < plain.docs.size() && p.text(t) == plain.docs[i].text,
                          "packed text differs");
    }
  }
  PAPERSIM_FUZZ_CHECK(i == plain.docs.size(), "packed text count");

  ReaderOptions strict = o;
  strict.strict = true;
  bool threw = false;
  try {
    const Corpus s = read_corpus({path}, strict);
    PAPERSIM_FUZZ_CHECK(s.docs.size() == plain.docs.size(), "strict doc count");
  } catch (const InputError&) {
    threw = true;
  }
  PAPERSIM_FUZZ_CHECK(threw == (st.skipped_total() > 0), "strict fails iff records are skipped");
  return 0;
}
