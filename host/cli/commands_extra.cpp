#include "cli/commands.hpp"

namespace papersim::cli {
void register_extra_commands(CLI::App&) {}
}  // namespace papersim::cli
