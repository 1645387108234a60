#include "net/promotion_marker.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "net/durable_files.h"

namespace werk::net {

std::string PromotionMarkerPath(const std::string& data_dir) {
  return (data_dir.empty() ? std::string(".") : data_dir) + "/PROMOTED";
}

absl::Status WritePromotionMarker(const std::string& data_dir, uint64_t epoch,
                                  const std::string& was_standby_of, const std::string& when) {
  const std::string text = "promoted to primary at epoch " + std::to_string(epoch) + " on " +
                           when + "; it was the standby of " + was_standby_of + "\n";
  return ReplaceAtomically(PromotionMarkerPath(data_dir), text,
                           data_dir.empty() ? std::string(".") : data_dir);
}

std::optional<uint64_t> PromotionMarkerEpoch(const std::string& text) {
  constexpr std::string_view kAt = "at epoch ";
  const size_t at = text.find(kAt);
  if (at == std::string::npos) return std::nullopt;
  size_t i = at + kAt.size();
  uint64_t epoch = 0;
  const size_t begin = i;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && i - begin < 19; ++i)
    epoch = epoch * 10 + uint64_t(text[i] - '0');
  if (i == begin || epoch == 0) return std::nullopt;
  return epoch;
}

absl::StatusOr<std::optional<std::string>> ReadPromotionMarker(const std::string& data_dir) {
  const std::string path = PromotionMarkerPath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return std::optional<std::string>();
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return std::optional<std::string>(std::move(text));
}

}  // namespace werk::net
