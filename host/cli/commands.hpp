#pragma once
#include <CLI/CLI.hpp>

#include "common/atomic_file.hpp"
#include "papersim/comm.hpp"

namespace papersim::cli {

// Exit codes (documented in the README).
constexpr int kExitUsage = 2;    // bad arguments or an empty corpus
constexpr int kExitInput = 3;    // missing/unreadable/bad input (with --strict), unwritable output
constexpr int kExitBackend = 4;  // --backend cuda without CUDA support or a visible GPU
constexpr int kExitRuntime = 1;  // anything else (CUDA errors, out of memory)

/// Default --threshold of `duplicates` (chosen by measurement; see the README).
constexpr float kDefaultThreshold = 0.8f;

/// Every subcommand; their output files register their temporaries in `temps`
/// (removed by main's signal handlers). `comm` is the run's processes: related,
/// duplicates, dedup, check and index build run over all of them.
void register_commands(CLI::App& app, TempFileRegistry& temps, Comm& comm);

/// Whether subcommand `name` ("index build" for index's) runs over several ranks
/// (the others run in one process).
bool runs_distributed(const std::string& name);

/// Default --threshold of `check` (chosen on revised arXiv abstracts; see the README).
constexpr float kDefaultCheckThreshold = 0.45f;

/// check (check_command.cpp).
void register_check(CLI::App& app, TempFileRegistry& temps, Comm& comm);

/// dedup (dedup_command.cpp).
void register_dedup(CLI::App& app, TempFileRegistry& temps, Comm& comm);

/// synth, report and demo (synth_report_demo_commands.cpp).
void register_synth_report_demo_commands(CLI::App& app, TempFileRegistry& temps);

}  // namespace papersim::cli
