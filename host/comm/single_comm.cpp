#include <cstdlib>

#include "comm/comm_internal.hpp"
#include "papersim/comm.hpp"
#include "papersim/error.hpp"

namespace papersim {

namespace {

// Size 1: every collective is the identity, and there is nobody to shift to.
class SingleComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce(std::vector<std::int64_t>&, Op) override {}
  std::vector<std::string> allgatherv(std::string_view bytes) override {
    return {std::string(bytes)};
  }
  std::vector<std::string> gatherv(std::string_view bytes, int) override {
    return {std::string(bytes)};
  }
  std::string sendrecv(std::string_view bytes, int, int) override { return std::string(bytes); }
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }
  std::string describe() const override { return "1 process"; }
};

}  // namespace

std::unique_ptr<Comm> make_single_comm() { return std::make_unique<SingleComm>(); }

}  // namespace papersim
