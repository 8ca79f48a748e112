#pragma once
// The report's inline stylesheet and script, and the Content-Security-Policy
// that allows exactly these two (by SHA-256 hash) and nothing else: no network,
// no other script, even if some text escaped its escaping.

#include <string>
#include <string_view>

namespace papersim::report_detail {

extern const char* const kStyle;
extern const char* const kScript;

/// SHA-256 digest of `data`, base64-encoded (the form CSP hash sources use).
std::string sha256_base64(std::string_view data);

/// "default-src 'none'; script-src 'sha256-...'; style-src 'sha256-...'; ..." for kStyle and
/// kScript.
std::string content_security_policy();

}  // namespace papersim::report_detail
