#pragma once
// The Web UI's stylesheet and script, compiled into werkd (no CDN, nothing
// fetched at run time). Served under /static/ with a version in the ETag.

#include <string_view>

namespace werk::net::web {

std::string_view StylesheetText();
std::string_view ScriptText();
std::string_view IconText();  // SVG

}  // namespace werk::net::web
