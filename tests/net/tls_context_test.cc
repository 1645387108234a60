// net::TlsContext: what the config directory's key and certificate make of
// the command port, and the errors that stop werkd from starting.

#include "net/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <regex>
#include <string>

#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace werk::net {
namespace {

using testing::TempDir;
using testing::TestCerts;

class TlsContextTest : public ::testing::Test {
 protected:
  std::string key_path() const { return dir_.path() + "/private.key.pem"; }
  std::string cert_path() const { return dir_.path() + "/public.cert.pem"; }

  // The error loading the directory gives (the test fails if it loads).
  std::string LoadError() {
    auto ctx = TlsContext::LoadFromConfigDir(dir_.path(), nullptr);
    EXPECT_FALSE(ctx.ok());
    return ctx.ok() ? std::string() : std::string(ctx.status().message());
  }

  TempDir dir_{"werk-tls"};
  TestCerts certs_ = TestCerts::Make();
};

TEST_F(TlsContextTest, BothFilesMakeATlsPort) {
  certs_.WriteServerFiles(dir_.path());
  std::vector<std::string> warnings;
  auto ctx = TlsContext::LoadFromConfigDir(dir_.path(), &warnings);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  ASSERT_NE(*ctx, nullptr);
  EXPECT_TRUE(warnings.empty());
  EXPECT_NE((*ctx)->ctx(), nullptr);
  EXPECT_EQ((*ctx)->key_path(), key_path());
  EXPECT_EQ((*ctx)->cert_path(), cert_path());
  EXPECT_EQ((*ctx)->subject(), "CN=localhost,O=werk tests");
  EXPECT_TRUE(std::regex_match((*ctx)->not_after(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << (*ctx)->not_after();
  EXPECT_FALSE((*ctx)->expired());
}

TEST_F(TlsContextTest, NeitherFileMeansPlaintext) {
  std::vector<std::string> warnings;
  auto ctx = TlsContext::LoadFromConfigDir(dir_.path(), &warnings);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(*ctx, nullptr);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(TlsContextTest, OneFileAloneMeansPlaintextWithAWarning) {
  TestCerts::WriteFile(key_path(), certs_.server_key);
  std::vector<std::string> warnings;
  auto ctx = TlsContext::LoadFromConfigDir(dir_.path(), &warnings);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(*ctx, nullptr);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("public.cert.pem does not"), std::string::npos) << warnings[0];
}

TEST_F(TlsContextTest, GarbageKeyNamesTheKeyFile) {
  TestCerts::WriteFile(key_path(), "not a key\n");
  TestCerts::WriteFile(cert_path(), certs_.server_cert);
  const std::string error = LoadError();
  EXPECT_EQ(error.rfind(key_path() + ":", 0), 0u) << error;
}

TEST_F(TlsContextTest, GarbageCertificateNamesTheCertificateFile) {
  TestCerts::WriteFile(key_path(), certs_.server_key);
  TestCerts::WriteFile(cert_path(), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  const std::string error = LoadError();
  EXPECT_EQ(error.rfind(cert_path() + ":", 0), 0u) << error;
}

TEST_F(TlsContextTest, EmptyCertificateNamesTheCertificateFile) {
  TestCerts::WriteFile(key_path(), certs_.server_key);
  TestCerts::WriteFile(cert_path(), "");
  const std::string error = LoadError();
  EXPECT_EQ(error.rfind(cert_path() + ":", 0), 0u) << error;
}

TEST_F(TlsContextTest, KeyOfAnotherCertificateIsRefused) {
  TestCerts::WriteFile(key_path(), certs_.other_key);
  TestCerts::WriteFile(cert_path(), certs_.server_cert);
  const std::string error = LoadError();
  EXPECT_EQ(error.rfind(key_path() + " does not belong to the certificate in " + cert_path(), 0),
            0u)
      << error;
}

TEST_F(TlsContextTest, EncryptedKeyIsRefusedWithoutPrompting) {
  // The same key under a passphrase: werkd must fail, not wait at a prompt.
  BIO* in = BIO_new_mem_buf(certs_.server_key.data(), int(certs_.server_key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  ASSERT_NE(key, nullptr);
  BIO* out = BIO_new(BIO_s_mem());
  char pass[] = "secret";
  ASSERT_EQ(PEM_write_bio_PrivateKey(out, key, EVP_aes_128_cbc(), nullptr, 0, nullptr, pass), 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  TestCerts::WriteFile(key_path(), std::string(data, size_t(n)));
  BIO_free(out);
  EVP_PKEY_free(key);
  TestCerts::WriteFile(cert_path(), certs_.server_cert);
  const std::string error = LoadError();
  EXPECT_EQ(error.rfind(key_path() + ":", 0), 0u) << error;
  EXPECT_NE(error.find("passphrase"), std::string::npos) << error;
}

TEST_F(TlsContextTest, ADirectoryInsteadOfAFileIsAnError) {
  TestCerts::WriteFile(key_path(), certs_.server_key);
  std::filesystem::create_directory(cert_path());
  const std::string error = LoadError();
  EXPECT_NE(error.find(cert_path()), std::string::npos) << error;
}

}  // namespace
}  // namespace werk::net
