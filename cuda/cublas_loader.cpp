// cuBLAS, opened on first use. Linking libcublas makes every process run
// libcublasLt's static initializers at start-up: `papersim --version` took
// 0.17 s and 227 MB of RSS with it linked, 0.01 s and 11 MB without, although
// most runs never touch a GPU. The few entry points the CUDA engine calls are
// defined here (with the prototypes of cublas_api.h, so the compiler checks
// them) and forward to the library, opened with dlopen the first time one is
// called; without it each returns CUBLAS_STATUS_NOT_INITIALIZED, which the
// PAPERSIM_CUBLAS_TRY at the call site reports with the loader's message.
#include <cublas_v2.h>
#include <dlfcn.h>

#include <string>

#define PAPERSIM_STR2(x) #x
#define PAPERSIM_STR(x) PAPERSIM_STR2(x)

namespace {

struct Cublas {
  void* library = nullptr;
  std::string error;
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasGetStatusName) status_name = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                            const void*, const void*, cudaDataType, int, const void*, cudaDataType,
                            int, const void*, void*, cudaDataType, int, cublasComputeType_t,
                            cublasGemmAlgo_t) = nullptr;
};

template <class F>
void resolve(Cublas& c, F& f, const char* name) {
  f = reinterpret_cast<F>(dlsym(c.library, name));
  if (f == nullptr && c.error.empty()) c.error = std::string("missing symbol ") + name;
}

Cublas open_cublas() {
  Cublas c;
  const std::string name = "libcublas.so." PAPERSIM_STR(CUBLAS_VER_MAJOR);
  // The loader's search path first, then the toolkit the build used.
  for (const std::string& path : {name, std::string(PAPERSIM_CUDA_LIBRARY_DIR "/") + name}) {
    c.library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (c.library != nullptr) break;
    if (c.error.empty()) c.error = dlerror();
  }
  if (c.library == nullptr) return c;
  c.error.clear();
  resolve(c, c.create, "cublasCreate_v2");
  resolve(c, c.destroy, "cublasDestroy_v2");
  resolve(c, c.set_stream, "cublasSetStream_v2");
  resolve(c, c.status_name, "cublasGetStatusName");
  resolve(c, c.status_string, "cublasGetStatusString");
  resolve(c, c.gemm_ex, "cublasGemmEx");
  return c;
}

// Opened once per process, like the dynamic loader's own state; thread-safe.
const Cublas& cublas() {
  static const Cublas c = open_cublas();
  return c;
}

}  // namespace

extern "C" {

cublasStatus_t CUBLASWINAPI cublasCreate_v2(cublasHandle_t* handle) {
  const Cublas& c = cublas();
  return c.create ? c.create(handle) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t CUBLASWINAPI cublasDestroy_v2(cublasHandle_t handle) {
  const Cublas& c = cublas();
  return c.destroy ? c.destroy(handle) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t CUBLASWINAPI cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
  const Cublas& c = cublas();
  return c.set_stream ? c.set_stream(handle, stream) : CUBLAS_STATUS_NOT_INITIALIZED;
}

const char* CUBLASWINAPI cublasGetStatusName(cublasStatus_t status) {
  const Cublas& c = cublas();
  if (c.status_name) return c.status_name(status);
  return status == CUBLAS_STATUS_NOT_INITIALIZED ? "CUBLAS_STATUS_NOT_INITIALIZED"
                                                 : "CUBLAS_STATUS_UNKNOWN";
}

const char* CUBLASWINAPI cublasGetStatusString(cublasStatus_t status) {
  const Cublas& c = cublas();
  if (c.status_string) return c.status_string(status);
  static const std::string why = "cuBLAS could not be loaded: " + c.error;
  return why.c_str();
}

cublasStatus_t CUBLASWINAPI cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const void* alpha, const void* a, cudaDataType a_type,
                                         int lda, const void* b, cudaDataType b_type, int ldb,
                                         const void* beta, void* c_out, cudaDataType c_type,
                                         int ldc, cublasComputeType_t compute,
                                         cublasGemmAlgo_t algo) {
  const Cublas& c = cublas();
  if (!c.gemm_ex) return CUBLAS_STATUS_NOT_INITIALIZED;
  return c.gemm_ex(handle, transa, transb, m, n, k, alpha, a, a_type, lda, b, b_type, ldb, beta,
                   c_out, c_type, ldc, compute, algo);
}

}  // extern "C"
