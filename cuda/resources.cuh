#pragma once
// RAII owners of device resources: one move-only owner template
// (UniqueResource), released in the destructor without throwing.

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

/// Move-only owner of one resource handle: `Traits::release(handle)` frees a
/// non-null handle on destruction and on reassignment and must not throw. Every
/// device resource below is one of these.
template <class Handle, class Traits>
class UniqueResource {
 public:
  UniqueResource() = default;
  explicit UniqueResource(Handle h) : h_(h) {}
  ~UniqueResource() { reset(); }
  UniqueResource(UniqueResource&& o) noexcept : h_(std::exchange(o.h_, Handle{})) {}
  UniqueResource& operator=(UniqueResource&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, Handle{});
    }
    return *this;
  }
  UniqueResource(const UniqueResource&) = delete;
  UniqueResource& operator=(const UniqueResource&) = delete;
  Handle get() const { return h_; }
  void reset(Handle h = Handle{}) noexcept {
    if (h_) Traits::release(h_);
    h_ = h;
  }

 private:
  Handle h_{};
};

struct DeviceFree {
  static void release(void* p) noexcept { PAPERSIM_CUDA_TRY_NO_THROW(cudaFree(p)); }
};
struct HostFree {
  static void release(void* p) noexcept { PAPERSIM_CUDA_TRY_NO_THROW(cudaFreeHost(p)); }
};
struct StreamDestroy {
  static void release(cudaStream_t s) noexcept { PAPERSIM_CUDA_TRY_NO_THROW(cudaStreamDestroy(s)); }
};
struct EventDestroy {
  static void release(cudaEvent_t e) noexcept { PAPERSIM_CUDA_TRY_NO_THROW(cudaEventDestroy(e)); }
};
struct CublasDestroy {
  static void release(cublasHandle_t h) noexcept { PAPERSIM_CUBLAS_TRY_NO_THROW(cublasDestroy(h)); }
};

/// `size` elements of T in memory from `Alloc` (device or page-locked host),
/// uninitialized; moving leaves the source empty.
template <class T, class Free, cudaError_t (*Alloc)(void**, std::size_t)>
class CudaArray {
 public:
  CudaArray() = default;
  explicit CudaArray(std::size_t size) { resize(size); }
  CudaArray(CudaArray&& o) noexcept : mem_(std::move(o.mem_)), size_(std::exchange(o.size_, 0)) {}
  CudaArray& operator=(CudaArray&& o) noexcept {
    if (this != &o) {
      mem_ = std::move(o.mem_);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }

  /// Reallocate to `size` elements; the contents are lost.
  void resize(std::size_t size) {
    release();
    if (size > 0) {
      void* p = nullptr;
      PAPERSIM_CUDA_TRY(Alloc(&p, size * sizeof(T)));
      mem_.reset(p);
    }
    size_ = size;
  }
  void release() noexcept {
    mem_.reset();
    size_ = 0;
  }
  T* data() const { return static_cast<T*>(mem_.get()); }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }

 private:
  UniqueResource<void*, Free> mem_;
  std::size_t size_ = 0;
};

inline cudaError_t device_alloc(void** p, std::size_t bytes) { return cudaMalloc(p, bytes); }
inline cudaError_t pinned_alloc(void** p, std::size_t bytes) { return cudaMallocHost(p, bytes); }

/// `size` elements of T in device memory (uninitialized).
template <class T>
using DeviceBuffer = CudaArray<T, DeviceFree, device_alloc>;

/// `size` elements of T in page-locked host memory, so async copies really overlap.
template <class T>
using PinnedBuffer = CudaArray<T, HostFree, pinned_alloc>;

class Stream {
 public:
  Stream() {
    cudaStream_t s = nullptr;
    PAPERSIM_CUDA_TRY(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    s_.reset(s);
  }
  cudaStream_t get() const { return s_.get(); }
  void synchronize() const { PAPERSIM_CUDA_TRY(cudaStreamSynchronize(get())); }

 private:
  UniqueResource<cudaStream_t, StreamDestroy> s_;
};

class Event {
 public:
  explicit Event(bool timing = false) {
    cudaEvent_t e = nullptr;
    PAPERSIM_CUDA_TRY(
        cudaEventCreateWithFlags(&e, timing ? cudaEventDefault : cudaEventDisableTiming));
    e_.reset(e);
  }
  cudaEvent_t get() const { return e_.get(); }
  void record(cudaStream_t s) { PAPERSIM_CUDA_TRY(cudaEventRecord(get(), s)); }
  void synchronize() const { PAPERSIM_CUDA_TRY(cudaEventSynchronize(get())); }

 private:
  UniqueResource<cudaEvent_t, EventDestroy> e_;
};

class CublasHandle {
 public:
  CublasHandle() {
    cublasHandle_t h = nullptr;
    PAPERSIM_CUBLAS_TRY(cublasCreate(&h));
    h_.reset(h);
  }
  cublasHandle_t get() const { return h_.get(); }

 private:
  UniqueResource<cublasHandle_t, CublasDestroy> h_;
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
