#pragma once
/// @file error.hpp
/// @brief Typed exceptions thrown by papersim. Every user-facing failure is one
/// of these, so the CLI can map it to a message and an exit code.

#include <cstdint>
#include <stdexcept>
#include <string>

namespace papersim {

/// Base of all papersim errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad command-line arguments or parameter values (k < 1, threshold outside [0, 1], ...).
class UsageError : public Error {
 public:
  using Error::Error;
};

/// Unreadable or malformed input. `what()` starts with "<file>:<line>: ".
class InputError : public Error {
 public:
  InputError(std::string file, std::int64_t line, const std::string& message)
      : Error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + message),
        file_(std::move(file)),
        line_(line) {}
  const std::string& file() const noexcept { return file_; }
  /// 1-based line number, 0 when the error concerns the whole file.
  std::int64_t line() const noexcept { return line_; }

 private:
  std::string file_;
  std::int64_t line_;
};

/// A failure of the CUDA runtime or a CUDA library; `what()` names the call, file and line.
class CudaError : public Error {
 public:
  using Error::Error;
};

/// The requested backend or device is not available in this build or on this machine.
class BackendUnavailable : public Error {
 public:
  using Error::Error;
};

}  // namespace papersim
