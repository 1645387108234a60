#pragma once

namespace werk::net {

// The werk release.
inline constexpr const char* kWerkVersion = "0.1.0";
// The Faktory release whose OSS protocol werk speaks; INFO reports it as
// `faktory_version` because clients parse that field as a semantic version.
inline constexpr const char* kFaktoryProtocolVersion = "1.9.4";

}  // namespace werk::net
