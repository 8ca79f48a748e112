#pragma once
// RAII owners of device resources: movable, non-copyable, released in the
// destructor without throwing.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "cuda/error.cuh"

namespace papersim::cuda {

/// Sets the current device for a scope and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    PAPERSIM_CUDA_TRY(cudaGetDevice(&previous_));
    PAPERSIM_CUDA_TRY(cudaSetDevice(device));
  }
  ~DeviceGuard() { PAPERSIM_CUDA_TRY_NO_THROW(cudaSetDevice(previous_)); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

/// `size` elements of T in device memory (uninitialized).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t size) { resize(size); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  /// Reallocate to `size` elements; the contents are lost.
  void resize(std::size_t size) {
    release();
    if (size > 0) PAPERSIM_CUDA_TRY(cudaMalloc(reinterpret_cast<void**>(&ptr_), size * sizeof(T)));
    size_ = size;
  }
  void release() noexcept {
    if (ptr_) PAPERSIM_CUDA_TRY_NO_THROW(cudaFree(ptr_));
    ptr_ = nullptr;
    size_ = 0;
  }
  T* data() const { return ptr_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }

 private:
  T* ptr_ = nullptr;
  std::size_t size_ = 0;
};

/// `size` elements of T in page-locked host memory, so async copies really overlap.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t size) { resize(size); }
  ~PinnedBuffer() { release(); }
  PinnedBuffer(PinnedBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void resize(std::size_t size) {
    release();
    if (size > 0)
      PAPERSIM_CUDA_TRY(cudaMallocHost(reinterpret_cast<void**>(&ptr_), size * sizeof(T)));
    size_ = size;
  }
  void release() noexcept {
    if (ptr_) PAPERSIM_CUDA_TRY_NO_THROW(cudaFreeHost(ptr_));
    ptr_ = nullptr;
    size_ = 0;
  }
  T* data() const { return ptr_; }
  std::size_t size() const { return size_; }

 private:
  T* ptr_ = nullptr;
  std::size_t size_ = 0;
};

class Stream {
 public:
  Stream() { PAPERSIM_CUDA_TRY(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (s_) PAPERSIM_CUDA_TRY_NO_THROW(cudaStreamDestroy(s_));
  }
  Stream(Stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stream& operator=(Stream&& o) noexcept {
    if (this != &o) {
      if (s_) PAPERSIM_CUDA_TRY_NO_THROW(cudaStreamDestroy(s_));
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }
  void synchronize() const { PAPERSIM_CUDA_TRY(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  explicit Event(bool timing = false) {
    PAPERSIM_CUDA_TRY(
        cudaEventCreateWithFlags(&e_, timing ? cudaEventDefault : cudaEventDisableTiming));
  }
  ~Event() {
    if (e_) PAPERSIM_CUDA_TRY_NO_THROW(cudaEventDestroy(e_));
  }
  Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Event& operator=(Event&& o) noexcept {
    if (this != &o) {
      if (e_) PAPERSIM_CUDA_TRY_NO_THROW(cudaEventDestroy(e_));
      e_ = std::exchange(o.e_, nullptr);
    }
    return *this;
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }
  void record(cudaStream_t s) { PAPERSIM_CUDA_TRY(cudaEventRecord(e_, s)); }
  void synchronize() const { PAPERSIM_CUDA_TRY(cudaEventSynchronize(e_)); }

 private:
  cudaEvent_t e_ = nullptr;
};

class CublasHandle {
 public:
  CublasHandle() { PAPERSIM_CUBLAS_TRY(cublasCreate(&h_)); }
  ~CublasHandle() {
    if (h_) PAPERSIM_CUBLAS_TRY_NO_THROW(cublasDestroy(h_));
  }
  CublasHandle(CublasHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  CublasHandle& operator=(CublasHandle&& o) noexcept {
    if (this != &o) {
      if (h_) PAPERSIM_CUBLAS_TRY_NO_THROW(cublasDestroy(h_));
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

/// Copy host -> device through a pinned staging buffer in chunks, so a large
/// std::vector uploads asynchronously without pinning (or doubling) it whole.
/// Synchronizes `stream` before returning (the staging buffer is reused).
template <class T>
void upload(T* dst, const T* src, std::size_t n, PinnedBuffer<unsigned char>& staging,
            cudaStream_t stream) {
  const std::size_t chunk = staging.size() / 2 / sizeof(T);
  unsigned char* halves[2] = {staging.data(), staging.data() + staging.size() / 2};
  Event done[2];
  bool used[2] = {false, false};
  int h = 0;
  for (std::size_t off = 0; off < n; off += chunk, h ^= 1) {
    const std::size_t len = std::min(chunk, n - off);
    // Wait until the copy that last read this half finished before refilling it.
    if (used[h]) done[h].synchronize();
    std::memcpy(halves[h], src + off, len * sizeof(T));
    PAPERSIM_CUDA_TRY(
        cudaMemcpyAsync(dst + off, halves[h], len * sizeof(T), cudaMemcpyHostToDevice, stream));
    done[h].record(stream);
    used[h] = true;
  }
  PAPERSIM_CUDA_TRY(cudaStreamSynchronize(stream));
}

}  // namespace papersim::cuda
