#include <CLI/CLI.hpp>
#include <cstdio>

#include "papersim/similarity.hpp"

int main(int argc, char** argv) {
  CLI::App app{"papersim: exact all-pairs similarity of scientific abstracts"};
  app.require_subcommand(1);
  auto* info = app.add_subcommand("info", "Show build and device information");
  info->callback([] {
    std::printf("CUDA support: %s\n", papersim::cuda_compiled() ? "compiled in" : "not compiled");
    auto devices = papersim::cuda_devices();
    std::printf("GPUs visible: %zu\n", devices.size());
  });
  CLI11_PARSE(app, argc, argv);
  return 0;
}
