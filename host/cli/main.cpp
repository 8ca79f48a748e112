// papersim command-line interface: one subcommand per job.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "cli/commands.hpp"
#include "cli/suggestions.hpp"
#include "common/atomic_file.hpp"
#include "papersim/error.hpp"

int main(int argc, char** argv) {
  using namespace papersim;
  // The program's name, not argv[0] (a build path), in usage lines.
  CLI::App app{
      "papersim: exact all-pairs similarity of scientific abstracts (related papers and "
      "near-duplicates), on the GPU or the CPU",
      "papersim"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "papersim 0.1.0");
  // Output temporaries of this run: removed by the commands on any error
  // (destructors) and by the signal handlers on Ctrl-C / kill.
  TempFileRegistry temps;
  SignalCleanup cleanup(temps);
  cli::register_commands(app, temps);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string hint = cli::unknown_argument_hint(app, argc, argv);
    if (hint.empty()) {
      app.exit(e);
    } else {
      std::fprintf(stderr, "papersim: error: %s\nRun with --help for more information.\n",
                   hint.c_str());
    }
    return cli::kExitUsage;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "papersim: error: %s\n", e.what());
    return cli::kExitUsage;
  } catch (const InputError& e) {
    std::fprintf(stderr, "papersim: error: %s\n", e.what());
    return cli::kExitInput;
  } catch (const BackendUnavailable& e) {
    std::fprintf(stderr, "papersim: error: %s\n", e.what());
    return cli::kExitBackend;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "papersim: error: out of memory (lower --memory-budget or --tile)\n");
    return cli::kExitRuntime;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "papersim: error: %s\n", e.what());
    return cli::kExitRuntime;
  }
  return 0;
}
