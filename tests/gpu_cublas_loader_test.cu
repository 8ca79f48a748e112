// cuBLAS is opened on first use (cuda/cublas_loader.cpp), not at start-up: the
// process holds no libcublas mapping until the first call, and the calls reach
// the real library (its status names, a handle where a device exists).
// Runs without a GPU: loading the library needs none.
#include <cublas_v2.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "cuda/cuda_backend.hpp"

namespace papersim {
namespace {

bool cublas_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream all;
  all << maps.rdbuf();
  return all.str().find("libcublas") != std::string::npos;
}

TEST(CublasLoader, OpensTheLibraryOnFirstUseOnly) {
  ASSERT_FALSE(cublas_mapped()) << "libcublas is loaded before any cuBLAS call";
  // Only the real library knows this name; the fallback would say UNKNOWN.
  EXPECT_STREQ(cublasGetStatusName(CUBLAS_STATUS_INVALID_VALUE), "CUBLAS_STATUS_INVALID_VALUE");
  EXPECT_TRUE(cublas_mapped());
  cublasHandle_t handle = nullptr;
  const cublasStatus_t created = cublasCreate(&handle);
  if (cuda::list_devices().empty()) {
    EXPECT_NE(created, CUBLAS_STATUS_SUCCESS) << "a handle without a device";
    return;
  }
  ASSERT_EQ(created, CUBLAS_STATUS_SUCCESS) << cublasGetStatusString(created);
  EXPECT_EQ(cublasSetStream(handle, nullptr), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasDestroy(handle), CUBLAS_STATUS_SUCCESS);
}

}  // namespace
}  // namespace papersim
