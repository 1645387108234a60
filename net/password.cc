#include "net/password.h"

#include <openssl/evp.h>

#include "core/check.h"

namespace werk::net {

std::string PasswordHash(std::string_view password, std::string_view salt, int iterations) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  WERK_CHECK(ctx != nullptr);
  const EVP_MD* md = EVP_sha256();
  WERK_CHECK(EVP_DigestInit_ex(ctx, md, nullptr) == 1);
  EVP_DigestUpdate(ctx, password.data(), password.size());
  EVP_DigestUpdate(ctx, salt.data(), salt.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  for (int i = 1; i < iterations; ++i) {
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, digest, len);
    EVP_DigestFinal_ex(ctx, digest, &len);
  }
  EVP_MD_CTX_free(ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace werk::net
