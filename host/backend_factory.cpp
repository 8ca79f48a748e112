// The one place that knows whether the CUDA backend is compiled in.
#include "papersim/error.hpp"
#include "papersim/similarity.hpp"
#include "sim/cpu_backend.hpp"

#ifdef PAPERSIM_WITH_CUDA
#include "cuda/cuda_backend.hpp"
#endif

namespace papersim {

BackendKind parse_backend_kind(const std::string& name) {
  if (name == "auto") return BackendKind::kAuto;
  if (name == "cpu") return BackendKind::kCpu;
  if (name == "cuda" || name == "gpu") return BackendKind::kCuda;
  throw UsageError("unknown backend '" + name + "' (expected auto, cpu or cuda)");
}

bool cuda_compiled() {
#ifdef PAPERSIM_WITH_CUDA
  return true;
#else
  return false;
#endif
}

std::vector<DeviceInfo> cuda_devices() {
#ifdef PAPERSIM_WITH_CUDA
  return cuda::list_devices();
#else
  return {};
#endif
}

std::unique_ptr<SimilarityBackend> make_backend(BackendKind kind, const BackendOptions& options) {
  if (kind == BackendKind::kCpu) return detail::make_cpu_backend();
#ifdef PAPERSIM_WITH_CUDA
  if (!cuda::list_devices().empty()) return cuda::make_cuda_backend(options);
  if (kind == BackendKind::kCuda) {
    throw BackendUnavailable("--backend cuda: no CUDA device is visible");
  }
#else
  (void)options;
  if (kind == BackendKind::kCuda) {
    throw BackendUnavailable(
        "--backend cuda: this build has no CUDA support (rebuild with -DPAPERSIM_WITH_CUDA=ON)");
  }
#endif
  return detail::make_cpu_backend();
}

}  // namespace papersim
