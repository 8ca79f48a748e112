#pragma once
// Document generation on an explicit model (the public API uses the default,
// fitted one). Internal: tests and calibration runs pass other parameters.

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "papersim/synth.hpp"
#include "synth/model.hpp"

namespace papersim::synth {

/// The model with the fitted default parameters (built once, thread-safe).
const WordModel& default_model();

/// One word of a document: its rank and what follows it.
struct Token {
  std::uint64_t rank = 0;
  std::uint8_t flags = 0;  ///< kSentenceEnd, kComma.
};
constexpr std::uint8_t kSentenceEnd = 1;
constexpr std::uint8_t kComma = 2;

/// A document before rendering: its topic mixture, keywords and words.
struct DocContent {
  std::uint64_t style = 0;  ///< Keys which generic words this document avoids.
  int topic = 0;
  int secondary = 0;
  double secondary_share = 0.0;
  std::vector<std::uint64_t> keywords;
  std::vector<Token> title;
  std::vector<Token> abstract;
};

/// The original content of document `doc` (what it is when it is not a copy).
DocContent original_content(const WordModel& model, std::uint64_t seed, std::int64_t doc);

/// If `doc` is a planted copy, the original it copies, else -1.
std::int64_t copy_source(const SynthOptions& options, std::int64_t doc);

/// Content of document `doc`; fills `copy` (doc_a = source, doc_b = doc) when it is a copy.
DocContent document_content(const WordModel& model, const SynthOptions& options, std::int64_t doc,
                            PlantedPair* copy, bool* is_copy);

/// Title-cased title and punctuated abstract.
std::string render_title(const DocContent& content);
std::string render_abstract(const DocContent& content);

SynthDocument make_document(const WordModel& model, const SynthOptions& options, std::int64_t doc);

/// synthesize() on `model`; `compress_level` >= 0 hands `write` raw-deflate
/// chunks of one gzip member (header and trailer included).
SynthStats synthesize_with(const WordModel& model, const SynthOptions& options, bool gzip,
                           const std::function<void(std::string_view)>& write,
                           const std::function<void(const PlantedPair&)>& on_pair,
                           const SynthProgressFn& progress);

}  // namespace papersim::synth
