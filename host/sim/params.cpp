#include <cmath>
#include <string>

#include "papersim/error.hpp"
#include "papersim/similarity.hpp"

namespace papersim {

void validate_params(const SimilarityParams& params) {
  if (params.k < 0) throw UsageError("k must be >= 0 (got " + std::to_string(params.k) + ")");
  if (std::isnan(params.threshold) || params.threshold > 1.0f) {
    throw UsageError("threshold must be in [0, 1] (got " + std::to_string(params.threshold) + ")");
  }
  if (std::isnan(params.min_score) || params.min_score > 1.0f) {
    throw UsageError("min-score must be in [0, 1] (got " + std::to_string(params.min_score) + ")");
  }
  if (params.k == 0 && params.threshold < 0.0f) {
    throw UsageError("nothing to compute: k is 0 and no threshold is set");
  }
  if (params.threads < 0) {
    throw UsageError("threads must be >= 0 (got " + std::to_string(params.threads) + ")");
  }
  if (params.head_dim < -1) {
    throw UsageError("head dimension must be >= 0, or -1 for automatic (got " +
                     std::to_string(params.head_dim) + ")");
  }
  if (params.tile < 0)
    throw UsageError("tile must be >= 0 (got " + std::to_string(params.tile) + ")");
  for (int d : params.devices) {
    if (d < 0) throw UsageError("device index must be >= 0 (got " + std::to_string(d) + ")");
  }
}

}  // namespace papersim
