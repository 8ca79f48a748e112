#pragma once
/// @file document.hpp
/// @brief Documents read from the inputs, and the counts of what was skipped.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace papersim {

/// One abstract (one record of an input).
struct Document {
  std::int64_t doc = 0;     ///< 0-based index over all inputs, in input order.
  std::string id;           ///< The record's own id, else "<file name>:<record number>".
  std::string source;       ///< "<file name>:<line>" of the record's first line.
  std::int32_t file = 0;    ///< Index of its input in the paths given to read_corpus.
  std::int64_t record = 0;  ///< 1-based record number within its file (skipped ones counted).
  std::string title;
  std::string text;  ///< The text to vectorize (title + "\n" + abstract by default).
};

/// What the readers skipped or noticed. Nothing is dropped silently: every
/// skipped record is counted by reason, and the first messages are kept.
struct ReadStats {
  std::int64_t files = 0;
  std::int64_t records = 0;                     ///< Records seen, kept or skipped.
  std::int64_t kept = 0;                        ///< Documents produced.
  std::map<std::string, std::int64_t> skipped;  ///< Reason -> count ("malformed JSON", ...).
  std::int64_t duplicate_ids = 0;     ///< Documents whose id was already seen (kept, not dropped).
  std::int64_t title_only = 0;        ///< Kept documents without an abstract (text from the title).
  std::vector<std::string> messages;  ///< "<file>:<line>: <reason>", at most `kMaxMessages`.
  static constexpr std::size_t kMaxMessages = 1000;

  std::int64_t skipped_total() const {
    std::int64_t n = 0;
    for (const auto& kv : skipped) n += kv.second;
    return n;
  }
};

/// The texts of consecutive documents stored back to back in one buffer: the
/// compact form of `Document::text` (see `ReaderOptions::pack_texts`). One
/// allocation per few thousand documents instead of one per document, so a
/// consumer can hand each pack's memory back to the system as soon as it is done
/// with it (freed small strings stay in the allocator, counted in RSS).
class TextPack {
 public:
  TextPack() = default;
  /// Reserve address space for `capacity` bytes (memory is taken as bytes are written).
  explicit TextPack(std::size_t capacity);
  TextPack(const TextPack& other);
  TextPack& operator=(const TextPack& other);
  TextPack(TextPack&& other) noexcept;
  TextPack& operator=(TextPack&& other) noexcept;
  ~TextPack() { release(); }

  /// Append the next document's text.
  void append(std::string_view text);
  /// Number of texts.
  std::size_t size() const { return ends_.size(); }
  /// Text `i` (0-based within the pack); valid until release() or destruction.
  std::string_view text(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return {data_ + begin, ends_[i] - begin};
  }
  /// Total bytes of the texts.
  std::size_t bytes() const { return size_; }
  /// `Document::doc` of the first text; the pack holds documents first_doc .. first_doc + size()
  /// - 1.
  std::int64_t first_doc = 0;
  /// Free the buffer and the offsets (size() becomes 0).
  void release();

 private:
  void grow(std::size_t capacity);
  char* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
  bool mapped_ = false;            // data_ is a memory mapping, else malloc'd.
  std::vector<std::size_t> ends_;  // End offset of each text in data_.
};

/// All documents of a run plus the reading statistics.
struct Corpus {
  std::vector<Document> docs;
  ReadStats stats;
  /// With `ReaderOptions::pack_texts`: the document texts, packs in document
  /// order covering every document (`Document::text` is then empty). Else empty.
  std::vector<TextPack> packs;
};

}  // namespace papersim
