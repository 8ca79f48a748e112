// The one place that knows whether MPI is compiled in.
#include "comm/comm_internal.hpp"
#include "papersim/comm.hpp"

namespace papersim {

bool mpi_compiled() {
#ifdef PAPERSIM_WITH_MPI
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Comm> make_world_comm(int* argc, char*** argv) {
#ifdef PAPERSIM_WITH_MPI
  if (auto comm = detail::make_mpi_comm(argc, argv)) return comm;
#else
  (void)argc;
  (void)argv;
#endif
  return make_single_comm();
}

}  // namespace papersim
