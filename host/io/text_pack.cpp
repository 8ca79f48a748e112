// TextPack storage. A large pack is an anonymous mapping reserved at its
// expected size: pages are only taken as texts are written, growth moves no
// bytes on Linux (mremap), and release() returns the memory to the system at
// once, without malloc's heuristics (freeing a large block raises glibc's mmap
// threshold, which would keep later blocks in the heap). Small packs (many
// small input files) use malloc, so they do not run into the mapping limit.
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "papersim/document.hpp"

namespace papersim {

TextPack::TextPack(std::size_t capacity) { grow(capacity); }

TextPack::TextPack(const TextPack& other) : first_doc(other.first_doc) {
  grow(other.size_);
  if (other.size_ > 0) std::memcpy(data_, other.data_, other.size_);
  size_ = other.size_;
  ends_ = other.ends_;
}

TextPack& TextPack::operator=(const TextPack& other) {
  if (this != &other) *this = TextPack(other);
  return *this;
}

TextPack::TextPack(TextPack&& other) noexcept { *this = std::move(other); }

TextPack& TextPack::operator=(TextPack&& other) noexcept {
  if (this != &other) {
    release();
    first_doc = other.first_doc;
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    mapped_ = std::exchange(other.mapped_, false);
    ends_ = std::move(other.ends_);
    other.ends_.clear();
  }
  return *this;
}

void TextPack::append(std::string_view text) {
  if (size_ + text.size() > capacity_) grow(std::max(2 * capacity_, size_ + text.size() + 4096));
  if (!text.empty()) std::memcpy(data_ + size_, text.data(), text.size());
  size_ += text.size();
  ends_.push_back(size_);
}

void TextPack::release() {
  if (mapped_) {
    munmap(data_, capacity_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  mapped_ = false;
  size_ = capacity_ = 0;
  std::vector<std::size_t>().swap(ends_);
}

void TextPack::grow(std::size_t capacity) {
  if (capacity == 0 || capacity <= capacity_) return;
  constexpr std::size_t kMapAbove = 1 << 18;
  if (capacity < kMapAbove) {
    void* p = std::realloc(data_, capacity);
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<char*>(p);
    capacity_ = capacity;
    return;
  }
  void* p = MAP_FAILED;
#if defined(__linux__)
  if (mapped_) p = mremap(data_, capacity_, capacity, MREMAP_MAYMOVE);
#endif
  if (p == MAP_FAILED) {
    p = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
             -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (size_ > 0) std::memcpy(p, data_, size_);
    if (mapped_) {
      munmap(data_, capacity_);
    } else {
      std::free(data_);
    }
  }
  data_ = static_cast<char*>(p);
  capacity_ = capacity;
  mapped_ = true;
}

}  // namespace papersim
