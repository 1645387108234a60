#pragma once
// Plain-text tables for werkctl's human output: columns padded to their
// widest cell (cells cut at a bound), two spaces apart, a header row in
// capitals. Scripts use --json instead.

#include <string>
#include <vector>

namespace werk::ctl {

using Row = std::vector<std::string>;
std::string FormatTable(const Row& header, const std::vector<Row>& rows);
// `s` cut to `max` characters, "…"-less: a trailing "...".
std::string Cut(const std::string& s, size_t max);
// An RFC 3339 time for a table cell, to the second:
// "2026-12-04T15:39:23.123456789Z" -> "2026-12-04 15:39:23".
std::string ShortTime(const std::string& t);

}  // namespace werk::ctl
