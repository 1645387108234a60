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

}  // namespace werk::ctl
