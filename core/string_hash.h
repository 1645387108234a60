#pragma once
// Transparent hashing for maps keyed by strings, so lookups by
// std::string_view never build a temporary std::string. (Debian's abseil is
// built with its own absl::string_view, so its default heterogeneous lookup
// does not accept std::string_view.)

#include <string_view>

#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>

namespace werk::core {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
  }
};

struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

}  // namespace werk::core
