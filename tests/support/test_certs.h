#pragma once
// Certificates made at test time with OpenSSL (nothing checked in, nothing
// that expires in the repository): a CA, a server certificate it signed for
// localhost and 127.0.0.1, and a second CA that signed nothing the server
// has, for clients that must refuse the server. ECDSA P-256 keys: quick to
// generate.

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace werk::testing {

struct TestCerts {
  std::string ca_cert;      // PEM
  std::string server_key;   // PEM
  std::string server_cert;  // PEM, signed by ca_cert
  std::string other_ca_cert;
  std::string other_key;    // a key that belongs to no certificate above

  // Fresh ones on every call.
  static TestCerts Make() {
    TestCerts t;
    Key ca_key = NewKey();
    Cert ca = NewCert(ca_key.get(), "werk test CA", nullptr, ca_key.get(), true, 1);
    Key server_key = NewKey();
    Cert server = NewCert(server_key.get(), "localhost", ca.get(), ca_key.get(), false, 2);
    Key other_key = NewKey();
    Cert other = NewCert(other_key.get(), "unrelated test CA", nullptr, other_key.get(), true, 3);
    t.ca_cert = CertPem(ca.get());
    t.server_key = KeyPem(server_key.get());
    t.server_cert = CertPem(server.get());
    t.other_ca_cert = CertPem(other.get());
    t.other_key = KeyPem(NewKey().get());
    return t;
  }

  // private.key.pem and public.cert.pem, as werkd looks for them.
  void WriteServerFiles(const std::string& dir) const {
    std::filesystem::create_directories(dir);
    WriteFile(dir + "/private.key.pem", server_key);
    WriteFile(dir + "/public.cert.pem", server_cert);
  }

  static void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
  }

  // A client context trusting only `ca_pem` and checking the peer's
  // certificate (the name is checked per session: SSL_set1_host).
  static SSL_CTX* ClientContext(const std::string& ca_pem) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(ca_pem.data(), int(ca_pem.size())),
                                                  &BIO_free);
    X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!ca || X509_STORE_add_cert(store, ca) != 1) throw std::runtime_error("bad test CA");
    X509_free(ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    return ctx;
  }

 private:
  using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

  static Key NewKey() {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    if (!k) throw std::runtime_error("EC key generation failed");
    return Key(k, &EVP_PKEY_free);
  }

  static void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext || X509_add_ext(cert, ext, -1) != 1) throw std::runtime_error("bad extension");
    X509_EXTENSION_free(ext);
  }

  // Valid from an hour ago (clock skew) for 30 days.
  static Cert NewCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca,
                      long serial) {
    Cert cert(X509_new(), &X509_free);
    X509* x = cert.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("werk tests"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    AddExt(x, issuer, NID_subject_key_identifier, "hash");
    if (ca) {
      AddExt(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
      AddExt(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
      AddExt(x, issuer, NID_basic_constraints, "CA:FALSE");
      AddExt(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
      AddExt(x, issuer, NID_ext_key_usage, "serverAuth");
      AddExt(x, issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
      AddExt(x, issuer, NID_authority_key_identifier, "keyid:always");
    }
    if (X509_sign(x, issuer_key, EVP_sha256()) == 0) throw std::runtime_error("signing failed");
    return cert;
  }

  static std::string FromBio(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, size_t(n));
    BIO_free(bio);
    return out;
  }
  static std::string CertPem(X509* x) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    return FromBio(bio);
  }
  static std::string KeyPem(EVP_PKEY* k) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
    return FromBio(bio);
  }
};

}  // namespace werk::testing
