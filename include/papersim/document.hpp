#pragma once
/// @file document.hpp
/// @brief Documents read from the inputs, and the counts of what was skipped.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace papersim {

/// One abstract (one record of an input).
struct Document {
  std::int64_t doc = 0;  ///< 0-based index over all inputs, in input order.
  std::string id;        ///< The record's own id, else "<file name>:<record number>".
  std::string source;    ///< "<file name>:<line>" of the record's first line.
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
  std::vector<std::string> messages;  ///< "<file>:<line>: <reason>", at most `kMaxMessages`.
  static constexpr std::size_t kMaxMessages = 1000;

  std::int64_t skipped_total() const {
    std::int64_t n = 0;
    for (const auto& kv : skipped) n += kv.second;
    return n;
  }
};

/// All documents of a run plus the reading statistics.
struct Corpus {
  std::vector<Document> docs;
  ReadStats stats;
};

}  // namespace papersim
