#pragma once
#include <memory>

#include "papersim/similarity.hpp"
#include "sim/plan.hpp"

namespace papersim::detail {
/// The exact multithreaded CPU engine (sgemm head + sparse tail per tile).
std::unique_ptr<SimilarityBackend> make_cpu_backend();
/// Most queries of a cross join the CPU engine scores with its dense-queries
/// kernel (sim/dense_queries.hpp) when the head size is left to it.
std::int64_t cpu_dense_query_rows();
/// The CPU engine's cost model constants (calibration in cpu_backend.cpp).
CostModel cpu_cost_model();
/// The tile edge the CPU engine uses for head size `d` (`budget` bytes for
/// tiles, 0 = from the memory available).
std::int64_t cpu_tile_edge(const SimilarityParams& params, int d, std::int64_t rows_q,
                           std::int64_t rows_r, std::size_t budget);
}  // namespace papersim::detail
