#pragma once
#include <memory>

#include "papersim/similarity.hpp"

namespace papersim::detail {
/// The exact multithreaded CPU engine (sgemm head + sparse tail per tile).
std::unique_ptr<SimilarityBackend> make_cpu_backend();
}  // namespace papersim::detail
