#pragma once
// Minimal JSON output helpers. Strings are escaped the way Go's encoding/json
// does it (the reference server), including \u003c \u003e \u0026 for < > &
// and U+FFFD for invalid UTF-8, so byte-level comparisons with Faktory hold.

#include <cstdint>
#include <string>
#include <string_view>

namespace werk::core {

void AppendJsonString(std::string& out, std::string_view s);
void AppendJsonInt(std::string& out, int64_t v);
// Go's strconv 'g'-like shortest float form as encoding/json prints float64.
void AppendJsonDouble(std::string& out, double v);

// Appends `"key":` (key must not need escaping).
inline void AppendJsonKey(std::string& out, std::string_view key) {
  out.push_back('"');
  out.append(key);
  out.append("\":", 2);
}

}  // namespace werk::core
