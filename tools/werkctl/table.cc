#include "tools/werkctl/table.h"

#include <algorithm>

namespace werk::ctl {

namespace {
constexpr size_t kCellMax = 60;
}

std::string Cut(const std::string& s, size_t max) {
  std::string out = s.size() > max ? s.substr(0, max - 3) + "..." : s;
  // One line per row: control characters (a message's newlines) shown as spaces.
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return out;
}

std::string FormatTable(const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const Row& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], std::min(r[i].size(), kCellMax));
  };
  measure(header);
  for (const Row& r : rows) measure(r);
  std::string out;
  auto emit = [&](const Row& r) {
    std::string line;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = Cut(i < r.size() ? r[i] : "", kCellMax);
      line += cell;
      if (i + 1 < width.size()) line.append(width[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(header);
  for (const Row& r : rows) emit(r);
  return out;
}

std::string ShortTime(const std::string& t) {
  if (t.size() < 19) return t;
  std::string s = t.substr(0, 19);
  s[10] = ' ';
  return s;
}

}  // namespace werk::ctl
