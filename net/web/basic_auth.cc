#include "net/web/basic_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdint>
#include <vector>

namespace werk::net::web {
namespace {

// Longer credentials are refused without decoding: no password is 8 KiB.
constexpr size_t kEncodedMax = 8192;

bool IsBase64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::optional<std::string> BasicPassword(std::string_view header) {
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() < kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {  // the scheme is case-insensitive
    const char a = header[i], b = kScheme[i];
    if ((a | 0x20) != (b | 0x20)) return std::nullopt;
  }
  std::string_view encoded = header.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  if (encoded.empty() || encoded.size() % 4 != 0 || encoded.size() > kEncodedMax)
    return std::nullopt;
  // Padding only at the end, at most two.
  size_t padding = 0;
  while (padding < 2 && encoded[encoded.size() - 1 - padding] == '=') ++padding;
  for (size_t i = 0; i < encoded.size() - padding; ++i)
    if (!IsBase64(encoded[i])) return std::nullopt;
  std::vector<unsigned char> out(encoded.size() / 4 * 3 + 1);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(encoded.data()),
                                int(encoded.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding's zero bytes.
  const size_t size = size_t(n) - padding;
  std::string decoded(reinterpret_cast<const char*>(out.data()), size);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return decoded.substr(colon + 1);
}

bool BasicAuthAccepts(std::string_view header, std::string_view password) {
  if (password.empty()) return true;
  const std::optional<std::string> given = BasicPassword(header);
  if (!given) return false;
  // Constant time over the password's length; the length itself may show.
  if (given->size() != password.size()) return false;
  return CRYPTO_memcmp(given->data(), password.data(), password.size()) == 0;
}

}  // namespace werk::net::web
