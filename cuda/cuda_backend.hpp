#pragma once
// Host-facing entry points of the CUDA backend. CUDA-free, so the backend
// factory (the one PAPERSIM_WITH_CUDA site) can include it from plain C++.

#include <memory>
#include <vector>

#include "papersim/similarity.hpp"

namespace papersim::cuda {
/// Visible devices; empty (never an exception) without a driver or a GPU.
std::vector<DeviceInfo> list_devices();
/// The CUDA engine; it runs on the devices named in SimilarityParams::devices
/// (empty = all visible). @throws BackendUnavailable when no device is visible.
std::unique_ptr<SimilarityBackend> make_cuda_backend(const BackendOptions& options = {});
}  // namespace papersim::cuda
