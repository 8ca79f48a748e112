// papersim command-line interface: one subcommand per job.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/pipeline.hpp"
#include "cli/suggestions.hpp"
#include "common/atomic_file.hpp"
#include "papersim/comm.hpp"
#include "papersim/error.hpp"

namespace {

// The subcommand named on the command line (the first word that is not an
// option), with index's own subcommand after it ("index build").
std::string subcommand_name(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') continue;
    const std::string name = argv[i];
    if (name != "index") return name;
    for (int j = i + 1; j < argc; ++j)
      if (argv[j][0] != '-') return name + " " + argv[j];
    return name;
  }
  return {};
}

int run(int argc, char** argv, papersim::Comm& comm);

}  // namespace

int main(int argc, char** argv) {
  using namespace papersim;
  // An MPI launch with several ranks makes this one rank of a distributed run;
  // anything else is an ordinary process.
  std::unique_ptr<Comm> comm = make_world_comm(&argc, &argv);
  const int code = run(argc, argv, *comm);
  return code;
}

namespace {

int run(int argc, char** argv, papersim::Comm& comm) {
  using namespace papersim;
  const bool distributed = comm.size() > 1;
  const std::string name = subcommand_name(argc, argv);
  if (distributed && !name.empty() && !cli::runs_distributed(name)) {
    if (comm.is_root()) {
      std::fprintf(stderr,
                   "papersim: error: '%s' runs in one process, not under MPI with %d ranks "
                   "(related, duplicates, dedup, check and index build run on many)\n",
                   name.c_str(), comm.size());
    }
    return cli::kExitUsage;
  }
  // Errors every rank meets alike (arguments, options) are reported by rank 0
  // alone; one rank's own failure is reported by that rank.
  const bool speak = !distributed || comm.is_root();
  // An error not agreed at a phase boundary may leave other ranks waiting in a
  // collective: in a distributed run it ends them all.
  const auto fail = [&](int code) {
    if (distributed) comm.abort(code);
    return code;
  };
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
  cli::register_commands(app, temps, comm);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return speak ? app.exit(e) : 0;
  } catch (const CLI::CallForAllHelp& e) {
    return speak ? app.exit(e) : 0;
  } catch (const CLI::CallForVersion& e) {
    return speak ? app.exit(e) : 0;
  } catch (const CLI::ParseError& e) {
    if (!speak) return cli::kExitUsage;
    const std::string hint = cli::unknown_argument_hint(app, argc, argv);
    if (hint.empty()) {
      app.exit(e);
    } else {
      std::fprintf(stderr, "papersim: error: %s\nRun with --help for more information.\n",
                   hint.c_str());
    }
    return cli::kExitUsage;
  } catch (const cli::PeerFailed& e) {
    return e.code();  // the failing rank printed the message; every rank agreed
  } catch (...) {
    // One mapping of errors to exit codes and messages (the README's table).
    const std::exception_ptr error = std::current_exception();
    const int code = cli::exit_code_of(error);
    // Usage errors come from the arguments and the inputs, which every rank
    // sees alike: each ends with the same code, rank 0 says why.
    if (code == cli::kExitUsage) {
      if (speak) std::fprintf(stderr, "papersim: error: %s\n", cli::error_message(error).c_str());
      return code;
    }
    std::fprintf(stderr, "papersim: error: %s\n", cli::error_message(error).c_str());
    return fail(code);
  }
  return 0;
}

}  // namespace
