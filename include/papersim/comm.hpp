#pragma once
/// @file comm.hpp
/// @brief The communicator a run's processes share: one process (the default)
/// or the ranks of an MPI job. Everything distributed (reading, TF-IDF, the
/// ring join, gathering results) goes through this interface, so no other code
/// depends on MPI, and a run of size 1 behaves exactly like a plain process.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace papersim {

/// A group of cooperating processes. Every collective (allreduce, allgatherv,
/// gatherv, barrier) must be called by every rank in the same order;
/// `sendrecv` pairs with the matching call of the ranks it names.
class Comm {
 public:
  enum class Op { kSum, kMax, kMin };

  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// This rank among the ranks on its node (the ones sharing its memory), and
  /// their number: what picks a rank's GPU (local_device). 0 and 1 for one process.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  /// Element-wise reduction of `values` (the same length on every rank), in place.
  virtual void allreduce(std::vector<std::int64_t>& values, Op op) = 0;
  /// Every rank's `bytes`, indexed by rank, on every rank.
  virtual std::vector<std::string> allgatherv(std::string_view bytes) = 0;
  /// Every rank's `bytes`, indexed by rank, at `root`; empty on the other ranks.
  virtual std::vector<std::string> gatherv(std::string_view bytes, int root) = 0;
  /// Send `bytes` to `dest` while receiving what `source` sends (a ring shift).
  virtual std::string sendrecv(std::string_view bytes, int dest, int source) = 0;
  virtual void barrier() = 0;
  /// End every rank now with `code` (the last resort when a rank cannot agree).
  [[noreturn]] virtual void abort(int code) = 0;
  /// A short description ("1 process", "MPI, 3 ranks").
  virtual std::string describe() const = 0;

  /// Bytes this rank sent point to point (sendrecv) and in collectives.
  std::int64_t ring_bytes_sent() const { return ring_bytes_; }
  std::int64_t collective_bytes_sent() const { return collective_bytes_; }

  bool is_root() const { return rank() == 0; }

 protected:
  std::int64_t ring_bytes_ = 0;
  std::int64_t collective_bytes_ = 0;
};

/// The CUDA devices a rank of a distributed run uses: one, chosen by its
/// node-local rank from `devices` (the --devices list; empty = all `visible`
/// devices, 0 .. visible - 1): devices[local_rank % n], so the ranks of a node
/// take the devices in turn. `devices` unchanged when nothing is visible (the
/// backend then reports that).
std::vector<int> local_device(const std::vector<int>& devices, int visible, int local_rank);

/// The one process of an ordinary run.
std::unique_ptr<Comm> make_single_comm();

/// The communicator of this launch: the MPI world when the program was built
/// with MPI and started by an MPI launcher with more than one rank (MPI itself
/// says so), else a single process. With MPI, initializes it (`argc`/`argv`
/// may be null) and finalizes it when the communicator is destroyed.
std::unique_ptr<Comm> make_world_comm(int* argc, char*** argv);

/// Whether this build can run under MPI.
bool mpi_compiled();

}  // namespace papersim
