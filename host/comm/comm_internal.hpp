#pragma once
// Communicators the factory (host/comm_factory.cpp) chooses between.

#include <memory>

#include "papersim/comm.hpp"

namespace papersim::detail {

/// The MPI world (host/comm/mpi/mpi_comm.cpp, built only with MPI): null when
/// the launch has a single rank, so such a run is an ordinary process.
std::unique_ptr<Comm> make_mpi_comm(int* argc, char*** argv);

}  // namespace papersim::detail
