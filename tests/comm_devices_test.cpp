// The GPU a rank of a distributed run takes (papersim::local_device): the
// selection runs in any build, so it is tested here without a GPU.
#include <gtest/gtest.h>

#include <vector>

#include "papersim/comm.hpp"
#include "papersim/error.hpp"

namespace papersim {
namespace {

TEST(LocalDevice, AllVisibleDevicesInTurnByLocalRank) {
  EXPECT_EQ(local_device({}, 4, 0), std::vector<int>{0});
  EXPECT_EQ(local_device({}, 4, 3), std::vector<int>{3});
  // More ranks on a node than GPUs: they share, in turn.
  EXPECT_EQ(local_device({}, 4, 5), std::vector<int>{1});
  EXPECT_EQ(local_device({}, 1, 7), std::vector<int>{0});
}

TEST(LocalDevice, DevicesListIsTheSetToPickFrom) {
  const std::vector<int> devices{2, 5, 7};
  EXPECT_EQ(local_device(devices, 8, 0), std::vector<int>{2});
  EXPECT_EQ(local_device(devices, 8, 1), std::vector<int>{5});
  EXPECT_EQ(local_device(devices, 8, 2), std::vector<int>{7});
  EXPECT_EQ(local_device(devices, 8, 3), std::vector<int>{2});
  // An index the node lacks is kept for the backend to reject by name.
  EXPECT_EQ(local_device({9}, 2, 1), std::vector<int>{9});
}

TEST(LocalDevice, EveryLocalRankGetsOneDeviceAndNodesSpreadEvenly) {
  for (int visible = 1; visible <= 8; ++visible) {
    for (int ranks = 1; ranks <= 16; ++ranks) {
      std::vector<int> load(static_cast<std::size_t>(visible), 0);
      for (int r = 0; r < ranks; ++r) {
        const std::vector<int> d = local_device({}, visible, r);
        ASSERT_EQ(d.size(), 1u);
        ASSERT_GE(d[0], 0);
        ASSERT_LT(d[0], visible);
        ++load[static_cast<std::size_t>(d[0])];
      }
      for (int n : load) {
        EXPECT_GE(n, ranks / visible);
        EXPECT_LE(n, ranks / visible + 1);
      }
    }
  }
}

TEST(LocalDevice, NothingVisibleLeavesTheListToTheBackend) {
  EXPECT_TRUE(local_device({}, 0, 2).empty());
  EXPECT_THROW(local_device({}, 2, -1), Error);
}

TEST(LocalDevice, OneProcessIsLocalRankZeroOfOne) {
  auto comm = make_single_comm();
  EXPECT_EQ(comm->local_rank(), 0);
  EXPECT_EQ(comm->local_size(), 1);
}

}  // namespace
}  // namespace papersim
