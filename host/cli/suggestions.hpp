#pragma once
// "Did you mean" hints for mistyped subcommands and options.

#include <CLI/CLI.hpp>
#include <string>

namespace papersim::cli {

/// When the command line names an unknown subcommand or an unknown option of its
/// subcommand, a message naming it and the closest known names
/// ("unknown option '--treshold' for 'duplicates'; did you mean '--threshold'?");
/// else empty. Called after a parse error, so `app` knows every name.
std::string unknown_argument_hint(CLI::App& app, int argc, const char* const* argv);

}  // namespace papersim::cli
