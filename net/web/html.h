#pragma once
// Writing HTML safely. Every value that is not the page's own text (job
// args, errors, queue names, worker labels: a client's strings) goes
// through AppendEscaped, which makes it inert in element content and in
// quoted attribute values alike.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/types.h"

namespace werk::net::web {

// & < > " ' escaped.
void AppendEscaped(std::string& out, std::string_view text);
std::string Escaped(std::string_view text);
// Percent-encoding for a path segment or a query value (RFC 3986
// unreserved characters kept).
std::string UrlEncoded(std::string_view text);
// 1234567 -> "1,234,567".
std::string Count(uint64_t n);
// A duration in seconds as "3d 4h", "5m 2s", "12s".
std::string Duration(int64_t seconds);
// A time as "2026-12-04 15:31:04 UTC" (0: "—").
std::string UtcTime(core::UnixNanos t);

}  // namespace werk::net::web
