#pragma once
// String interning for the tokenizer: dense ids for distinct byte strings, with
// the strings kept in one arena so no token costs an allocation of its own.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "papersim/error.hpp"

namespace papersim::text {

/// 64-bit hash of a short byte string. Tokens average a few bytes, so this
/// reads 8-byte words and finishes with a strong mixer rather than running a
/// byte-at-a-time loop.
inline std::uint64_t hash_bytes(const char* p, std::size_t n) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  std::uint64_t h = n * kMul ^ 0x2545F4914F6CDD1DULL;
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul;
  }
  // murmur3 fmix64: every input bit reaches the low bits used for slots.
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return h;
}

inline std::uint64_t hash_bytes(std::string_view s) { return hash_bytes(s.data(), s.size()); }

/// Open-addressing map from byte strings to dense ids 0, 1, 2, ... in insertion
/// order. Callers keep per-id values in their own arrays.
class Interner {
 public:
  explicit Interner(std::size_t expected = 1024) {
    std::size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    slots_.assign(cap, Slot{0, -1});
    mask_ = cap - 1;
    offsets_.push_back(0);
  }

  /// Id of `key` (whose hash_bytes is `hash`), adding it when absent.
  std::int32_t intern(std::string_view key, std::uint64_t hash, bool* added) {
    std::size_t i = hash & mask_;
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    for (;;) {
      Slot& s = slots_[i];
      if (s.id < 0) break;
      if (s.tag == tag && equal(s.id, key)) {
        *added = false;
        return s.id;
      }
      i = (i + 1) & mask_;
    }
    if (hashes_.size() >= static_cast<std::size_t>(INT32_MAX))
      throw Error("vocabulary exceeds 2^31 distinct terms");
    const auto id = static_cast<std::int32_t>(hashes_.size());
    slots_[i] = Slot{tag, id};
    arena_.insert(arena_.end(), key.begin(), key.end());
    offsets_.push_back(arena_.size());
    hashes_.push_back(hash);
    *added = true;
    if (hashes_.size() * 2 > slots_.size()) grow();
    return id;
  }

  /// Id of `key`, or -1.
  std::int32_t find(std::string_view key, std::uint64_t hash) const {
    std::size_t i = hash & mask_;
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    for (;;) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.tag == tag && equal(s.id, key)) return s.id;
      i = (i + 1) & mask_;
    }
  }

  std::string_view key(std::int32_t id) const {
    return {arena_.data() + offsets_[id],
            static_cast<std::size_t>(offsets_[id + 1] - offsets_[id])};
  }
  std::uint64_t hash(std::int32_t id) const { return hashes_[id]; }
  std::int32_t size() const { return static_cast<std::int32_t>(hashes_.size()); }
  /// Bytes held, for memory accounting.
  std::size_t bytes() const {
    return slots_.capacity() * sizeof(Slot) + arena_.capacity() +
           offsets_.capacity() * sizeof(std::uint64_t) + hashes_.capacity() * sizeof(std::uint64_t);
  }

 private:
  struct Slot {
    std::uint32_t tag;  // High hash bits: most mismatches are rejected without touching the arena.
    std::int32_t id;    // -1: empty.
  };

  bool equal(std::int32_t id, std::string_view key) const {
    const std::uint64_t b = offsets_[id], e = offsets_[id + 1];
    return e - b == key.size() && std::memcmp(arena_.data() + b, key.data(), key.size()) == 0;
  }

  void grow() {
    std::vector<Slot> bigger(slots_.size() * 2, Slot{0, -1});
    const std::size_t mask = bigger.size() - 1;
    for (const Slot& s : slots_) {
      if (s.id < 0) continue;
      std::size_t i = hashes_[s.id] & mask;
      while (bigger[i].id >= 0) i = (i + 1) & mask;
      bigger[i] = s;
    }
    slots_.swap(bigger);
    mask_ = mask;
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::vector<char> arena_;
  std::vector<std::uint64_t> offsets_;  // offsets_[id] .. offsets_[id + 1] in arena_.
  std::vector<std::uint64_t> hashes_;
};

}  // namespace papersim::text

namespace papersim::text {

/// Cache from short tokens (at most kMaxLen bytes) to an int32 value, with the
/// key stored inline in the slot: one probe touches one cache line, no arena.
/// The token's memory must stay readable kMaxLen bytes past its start (the
/// Tokenizer guarantees this padding).
class TokenCache {
 public:
  static constexpr std::size_t kMaxLen = 16;

  /// A short token's bytes, zero-padded into two words, and their hash.
  struct Key {
    std::uint64_t a, b, hash;
    std::uint32_t len;
  };

  explicit TokenCache(std::size_t expected = 1 << 15) {
    std::size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    resize(cap);
  }

  /// Key of `tok` (1..kMaxLen bytes, readable for kMaxLen bytes).
  static Key key(std::string_view tok) {
    Key k;
    k.len = static_cast<std::uint32_t>(tok.size());
    std::memcpy(&k.a, tok.data(), 8);
    std::memcpy(&k.b, tok.data() + 8, 8);
    if (k.len < 8) {
      k.a &= (std::uint64_t{1} << (8 * k.len)) - 1;
      k.b = 0;
    } else if (k.len < 16) {
      k.b &= (std::uint64_t{1} << (8 * (k.len - 8))) - 1;
    }
    std::uint64_t h = (k.a ^ (k.b * 0xC2B2AE3D27D4EB4FULL) ^ k.len) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    k.hash = h * 0xBF58476D1CE4E5B9ULL;
    return k;
  }

  /// The token's bytes (valid while `k` lives).
  static std::string_view text(const Key& k) {
    return {reinterpret_cast<const char*>(&k.a), k.len};
  }

  /// Hint the slot of `k` into cache ahead of get().
  void prefetch(const Key& k) const { __builtin_prefetch(&slots_[k.hash >> shift_]); }

  /// The value of `k`, calling `make()` to compute it on first sight.
  template <class Make>
  std::int32_t get(const Key& k, Make&& make) {
    std::size_t i = k.hash >> shift_;  // Top bits: the best mixed.
    for (;;) {
      const Slot& s = slots_[i];
      if (s.len == k.len && s.k0 == k.a && s.k1 == k.b) return s.value;
      if (s.len == 0) break;
      i = (i + 1) & mask_;
    }
    const std::int32_t value = make();
    slots_[i] = Slot{k.a, k.b, k.hash, k.len, value};
    if (++size_ * 2 > slots_.size()) {
      std::vector<Slot> old;
      old.swap(slots_);
      resize(old.size() * 2);
      for (const Slot& s : old) {
        if (s.len == 0) continue;
        std::size_t j = s.hash >> shift_;
        while (slots_[j].len != 0) j = (j + 1) & mask_;
        slots_[j] = s;
      }
    }
    return value;
  }

 private:
  struct Slot {
    std::uint64_t k0, k1;  // The token's bytes, zero-padded.
    std::uint64_t hash;
    std::uint32_t len;  // 0: empty.
    std::int32_t value;
  };

  void resize(std::size_t cap) {
    slots_.assign(cap, Slot{0, 0, 0, 0, 0});
    mask_ = cap - 1;
    shift_ = 64;
    while ((std::size_t{1} << (64 - shift_)) < cap) --shift_;
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace papersim::text
