#pragma once
// Plain values and strings appended to, and read back from, a byte string: the
// messages the ranks of a distributed run exchange (matrix blocks, results,
// documents). Both sides run the same build, so values travel as their bytes.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "papersim/error.hpp"

namespace papersim::detail {

class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <class T>
  void put_array(const T* p, std::int64_t n) {
    out_.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n) * sizeof(T));
  }
  /// Its length, then its bytes.
  void put_string(std::string_view s) {
    put(static_cast<std::int64_t>(s.size()));
    out_.append(s);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

/// Reads what ByteWriter wrote; a message too short for what is asked is an Error.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <class T>
  T get() {
    T v;
    get_array(&v, 1);
    return v;
  }
  template <class T>
  void get_array(T* p, std::int64_t n) {
    need(static_cast<std::size_t>(n) * sizeof(T));
    const auto bytes = static_cast<std::size_t>(n) * sizeof(T);
    if (bytes > 0) std::memcpy(p, in_.data() + at_, bytes);
    at_ += bytes;
  }
  std::string get_string() {
    const auto n = get<std::int64_t>();
    if (n < 0) throw Error("internal: malformed message between ranks");
    need(static_cast<std::size_t>(n));
    std::string s(in_.substr(at_, static_cast<std::size_t>(n)));
    at_ += static_cast<std::size_t>(n);
    return s;
  }
  bool done() const { return at_ == in_.size(); }
  std::size_t left() const { return in_.size() - at_; }

 private:
  void need(std::size_t bytes) const {
    if (bytes > in_.size() - at_) throw Error("internal: truncated message between ranks");
  }
  std::string_view in_;
  std::size_t at_ = 0;
};

}  // namespace papersim::detail
