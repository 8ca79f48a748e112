// The MPI world as a papersim::Comm; compiled only when MPI is found.
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "comm/comm_internal.hpp"
#include "papersim/comm.hpp"
#include "papersim/error.hpp"

namespace papersim::detail {

namespace {

// MPI counts are int: larger messages travel in pieces of this size.
constexpr std::int64_t kMaxPiece = std::int64_t{1} << 30;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("MPI: ") + what + " failed");
}

MPI_Op mpi_op(Comm::Op op) {
  switch (op) {
    case Comm::Op::kSum:
      return MPI_SUM;
    case Comm::Op::kMax:
      return MPI_MAX;
    case Comm::Op::kMin:
      break;
  }
  return MPI_MIN;
}

class MpiComm final : public Comm {
 public:
  MpiComm(int rank, int size) : rank_(rank), size_(size) {
    // The ranks sharing this node's memory: the node-local rank picks a GPU.
    MPI_Comm node = MPI_COMM_NULL;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type");
    check(MPI_Comm_rank(node, &local_rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(node, &local_size_), "MPI_Comm_size");
    MPI_Comm_free(&node);
  }
  ~MpiComm() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }

  void allreduce(std::vector<std::int64_t>& values, Op op) override {
    collective_bytes_ += static_cast<std::int64_t>(values.size() * sizeof(std::int64_t));
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_INT64_T,
                        mpi_op(op), MPI_COMM_WORLD),
          "MPI_Allreduce");
  }

  std::vector<std::string> allgatherv(std::string_view bytes) override { return gather(bytes, -1); }
  std::vector<std::string> gatherv(std::string_view bytes, int root) override {
    return gather(bytes, root);
  }

  std::string sendrecv(std::string_view bytes, int dest, int source) override {
    std::int64_t n = static_cast<std::int64_t>(bytes.size()), m = 0;
    check(MPI_Sendrecv(&n, 1, MPI_INT64_T, dest, 0, &m, 1, MPI_INT64_T, source, 0, MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE),
          "MPI_Sendrecv");
    std::string out(static_cast<std::size_t>(m), '\0');
    // Each direction in its own number of pieces: with dest != source the two
    // partners of this rank see different sizes, so a piece count taken from
    // both would post a receive (or send) its partner never matches.
    const std::int64_t sends = (n + kMaxPiece - 1) / kMaxPiece;
    const std::int64_t recvs = (m + kMaxPiece - 1) / kMaxPiece;
    for (std::int64_t i = 0; i < std::max(sends, recvs); ++i) {
      const std::int64_t off = i * kMaxPiece;
      const int send = static_cast<int>(std::clamp<std::int64_t>(n - off, 0, kMaxPiece));
      const int recv = static_cast<int>(std::clamp<std::int64_t>(m - off, 0, kMaxPiece));
      check(MPI_Sendrecv(bytes.data() + std::min(off, n), send, MPI_BYTE,
                         i < sends ? dest : MPI_PROC_NULL, 1, out.data() + std::min(off, m), recv,
                         MPI_BYTE, i < recvs ? source : MPI_PROC_NULL, 1, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE),
            "MPI_Sendrecv");
    }
    ring_bytes_ += n;
    return out;
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::exit(code);
  }
  std::string describe() const override {
    return "MPI, " + std::to_string(size_) + " ranks (" + std::to_string(local_size_) +
           " on this node)";
  }

 private:
  // Gathers at `root`, or at every rank when root < 0.
  std::vector<std::string> gather(std::string_view bytes, int root) {
    if (bytes.size() > static_cast<std::size_t>(INT_MAX))
      throw Error("MPI: a gathered part exceeds 2 GiB (use more ranks)");
    const int n = static_cast<int>(bytes.size());
    std::vector<int> counts(static_cast<std::size_t>(size_)), displs(counts.size());
    collective_bytes_ += n;
    if (root < 0) {
      check(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD),
            "MPI_Allgather");
    } else {
      check(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, root, MPI_COMM_WORLD),
            "MPI_Gather");
    }
    std::int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      displs[r] = static_cast<int>(total);
      total += counts[r];
    }
    const bool here = root < 0 || root == rank_;
    if (here && total > INT_MAX) throw Error("MPI: gathered data exceeds 2 GiB (use more ranks)");
    std::string all(here ? static_cast<std::size_t>(total) : 0, '\0');
    if (root < 0) {
      check(MPI_Allgatherv(bytes.data(), n, MPI_BYTE, all.data(), counts.data(), displs.data(),
                           MPI_BYTE, MPI_COMM_WORLD),
            "MPI_Allgatherv");
    } else {
      check(MPI_Gatherv(bytes.data(), n, MPI_BYTE, all.data(), counts.data(), displs.data(),
                        MPI_BYTE, root, MPI_COMM_WORLD),
            "MPI_Gatherv");
    }
    std::vector<std::string> parts;
    if (!here) return parts;
    for (int r = 0; r < size_; ++r) parts.emplace_back(all.substr(displs[r], counts[r]));
    return parts;
  }

  int rank_, size_;
  int local_rank_ = 0, local_size_ = 1;
};

}  // namespace

std::unique_ptr<Comm> make_mpi_comm(int* argc, char*** argv) {
  // Starting MPI outside a launcher (a singleton) costs about 0.35 s on Open MPI:
  // too much for every plain run, so MPI starts only where a launcher (mpirun,
  // srun, any PMI/PMIx one) left its mark; the world size then decides.
  if (!std::getenv("OMPI_COMM_WORLD_SIZE") && !std::getenv("PMIX_RANK") &&
      !std::getenv("PMI_SIZE") && !std::getenv("PMI_RANK")) {
    return nullptr;
  }
  int provided = 0;
  // Only the main thread calls MPI; worker threads never do.
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) return nullptr;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size == 1) {
    // A plain launch (or mpirun -np 1): an ordinary process, exactly as without MPI.
    MPI_Finalize();
    return nullptr;
  }
  // Errors come back as return codes so they become papersim errors, not aborts.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return std::make_unique<MpiComm>(rank, size);
}

}  // namespace papersim::detail
