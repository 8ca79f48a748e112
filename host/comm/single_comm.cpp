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
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
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

std::vector<int> local_device(const std::vector<int>& devices, int visible, int local_rank) {
  if (local_rank < 0) throw Error("internal: negative local rank");
  if (!devices.empty()) return {devices[static_cast<std::size_t>(local_rank) % devices.size()]};
  if (visible <= 0) return devices;
  return {local_rank % visible};
}

}  // namespace papersim
