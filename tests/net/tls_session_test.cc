// net::TlsSession: a client and a server session talking through memory
// only, with the ciphertext carried across in chunks of every awkward size.

#include "net/tls_session.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <cstring>
#include <random>
#include <string>

#include "net/tls_context.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace werk::net {
namespace {

using testing::TempDir;
using testing::TestCerts;
using Result = TlsSession::Result;

class TlsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = TestCerts::Make();
    certs_.WriteServerFiles(dir_.path());
    auto ctx = TlsContext::LoadFromConfigDir(dir_.path(), nullptr);
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    ASSERT_NE(*ctx, nullptr);
    server_ctx_ = *ctx;
  }
  void TearDown() override {
    if (client_ctx_) SSL_CTX_free(client_ctx_);
  }

  // A client session trusting `ca` and expecting the name "localhost".
  std::unique_ptr<TlsSession> Client(const std::string& ca) {
    if (client_ctx_) SSL_CTX_free(client_ctx_);
    client_ctx_ = TestCerts::ClientContext(ca);
    auto s = std::make_unique<TlsSession>(client_ctx_, TlsSession::Side::kClient);
    SSL_set1_host(s->ssl(), "localhost");
    SSL_set_tlsext_host_name(s->ssl(), "localhost");
    return s;
  }
  std::unique_ptr<TlsSession> Server() {
    return std::make_unique<TlsSession>(server_ctx_->ctx(), TlsSession::Side::kServer);
  }

  // Moves what `from` has to send into `to`, `chunk` bytes at a time (as a
  // socket may deliver it); returns how many bytes moved.
  static size_t Carry(TlsSession& from, TlsSession& to, size_t chunk) {
    std::string bytes;
    from.TakeOutput(&bytes);
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      const size_t n = std::min(chunk, bytes.size() - at);
      // Through the session's own receive buffer, as the shard feeds it.
      std::memcpy(to.recv_buffer(), bytes.data() + at, n);
      to.Feed(n);
    }
    return bytes.size();
  }

  // Reads everything `s` can give now into `*plain`, `cap` bytes per call.
  static Result Drain(TlsSession& s, std::string* plain, size_t cap) {
    std::string buf(cap, '\0');
    for (;;) {
      size_t n = 0;
      const Result r = s.Read(buf.data(), buf.size(), &n);
      if (r != Result::kOk) return r;
      plain->append(buf.data(), n);
    }
  }

  // Runs both handshakes to the end, carrying `chunk` bytes at a time.
  void Handshake(TlsSession& client, TlsSession& server, size_t chunk) {
    for (int round = 0; round < 100; ++round) {
      const Result c = client.Handshake();
      ASSERT_NE(c, Result::kFailed) << client.error();
      Carry(client, server, chunk);
      std::string ignored;
      ASSERT_EQ(Drain(server, &ignored, 512), Result::kWantInput) << server.error();
      EXPECT_TRUE(ignored.empty());
      Carry(server, client, chunk);
      if (client.handshake_done() && server.handshake_done()) return;
    }
    FAIL() << "the handshake did not finish";
  }

  TempDir dir_{"werk-tls"};
  TestCerts certs_;
  std::shared_ptr<const TlsContext> server_ctx_;
  SSL_CTX* client_ctx_ = nullptr;
};

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = char(rng());
  return s;
}

TEST_F(TlsSessionTest, HandshakeThenDataBothWaysInOddChunks) {
  for (const size_t chunk : {size_t(1), size_t(7), size_t(13), size_t(1000), size_t(16 << 10)}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    auto client = Client(certs_.ca_cert);
    auto server = Server();
    ASSERT_NO_FATAL_FAILURE(Handshake(*client, *server, chunk));
    EXPECT_EQ(SSL_version(server->ssl()) >= TLS1_2_VERSION, true);

    // More than one record (16 KiB) each way, read back through odd-sized
    // destination buffers.
    const std::string request = RandomBytes(70'001, uint32_t(chunk));
    ASSERT_EQ(client->Write(request), Result::kOk);
    Carry(*client, *server, chunk);
    std::string got;
    EXPECT_EQ(Drain(*server, &got, 333), Result::kWantInput) << server->error();
    EXPECT_EQ(got, request);

    const std::string reply = RandomBytes(40'000, uint32_t(chunk) + 1);
    ASSERT_EQ(server->Write(reply.substr(0, 5)), Result::kOk);
    ASSERT_EQ(server->Write(reply.substr(5)), Result::kOk);
    Carry(*server, *client, chunk);
    got.clear();
    EXPECT_EQ(Drain(*client, &got, 4097), Result::kWantInput) << client->error();
    EXPECT_EQ(got, reply);
  }
}

TEST_F(TlsSessionTest, ServerWriteBeforeTheHandshakeWaitsForIt) {
  auto client = Client(certs_.ca_cert);
  auto server = Server();
  // The greeting is queued at accept, before the client said anything.
  EXPECT_EQ(server->Write("+HI {\"v\":2}\r\n"), Result::kWantInput);
  EXPECT_EQ(server->output_bytes(), 0u);
  ASSERT_NO_FATAL_FAILURE(Handshake(*client, *server, 512));
  ASSERT_EQ(server->Write("+HI {\"v\":2}\r\n"), Result::kOk);
  Carry(*server, *client, 512);
  std::string got;
  EXPECT_EQ(Drain(*client, &got, 64), Result::kWantInput);
  EXPECT_EQ(got, "+HI {\"v\":2}\r\n");
}

TEST_F(TlsSessionTest, ReadIsStarvedUntilMoreCiphertextComes) {
  auto client = Client(certs_.ca_cert);
  auto server = Server();
  ASSERT_NO_FATAL_FAILURE(Handshake(*client, *server, 100));
  ASSERT_EQ(client->Write("PUSH {}\r\n"), Result::kOk);
  std::string bytes;
  client->TakeOutput(&bytes);
  ASSERT_GT(bytes.size(), 2u);
  server->Feed(bytes.data(), bytes.size() - 1);  // the record's last byte is missing
  char buf[64];
  size_t n = 0;
  EXPECT_EQ(server->Read(buf, sizeof buf, &n), Result::kWantInput);
  EXPECT_TRUE(server->starved());
  server->Feed(bytes.data() + bytes.size() - 1, 1);
  EXPECT_FALSE(server->starved());
  ASSERT_EQ(server->Read(buf, sizeof buf, &n), Result::kOk);
  EXPECT_EQ(std::string(buf, n), "PUSH {}\r\n");
}

TEST_F(TlsSessionTest, ShutdownIsSeenAsAClosedSession) {
  auto client = Client(certs_.ca_cert);
  auto server = Server();
  ASSERT_NO_FATAL_FAILURE(Handshake(*client, *server, 64));
  ASSERT_EQ(server->Write("+OK\r\n"), Result::kOk);
  server->Shutdown();
  server->Shutdown();  // once only
  Carry(*server, *client, 64);
  std::string got;
  EXPECT_EQ(Drain(*client, &got, 64), Result::kClosed);
  EXPECT_EQ(got, "+OK\r\n");
}

TEST_F(TlsSessionTest, PlaintextInsteadOfAClientHelloFails) {
  for (const std::string& garbage :
       {std::string("HELLO {\"v\":2}\r\n"), std::string("GET / HTTP/1.1\r\n\r\n"),
        std::string(1, '\0') + RandomBytes(300, 7), RandomBytes(5000, 8),
        // A handshake record header announcing a length no record may have.
        std::string("\x16\x03\x01\xff\xff", 5) + RandomBytes(100, 9)}) {
    auto server = Server();
    server->Feed(garbage.data(), garbage.size());
    std::string got;
    EXPECT_EQ(Drain(*server, &got, 256), Result::kFailed);
    EXPECT_TRUE(server->failed());
    EXPECT_FALSE(server->error().empty());
    EXPECT_TRUE(got.empty());
    // Failed for good: no retry brings it back, and writes are refused too.
    size_t n = 0;
    char buf[16];
    EXPECT_EQ(server->Read(buf, sizeof buf, &n), Result::kFailed);
    EXPECT_EQ(server->Write("+HI\r\n"), Result::kFailed);
  }
}

TEST_F(TlsSessionTest, GarbageAfterTheHandshakeFails) {
  auto client = Client(certs_.ca_cert);
  auto server = Server();
  ASSERT_NO_FATAL_FAILURE(Handshake(*client, *server, 64));
  const std::string junk = "\x17\x03\x03\x00\x20" + RandomBytes(32, 3);  // a bogus data record
  server->Feed(junk.data(), junk.size());
  std::string got;
  EXPECT_EQ(Drain(*server, &got, 64), Result::kFailed);
  EXPECT_TRUE(got.empty());
}

TEST_F(TlsSessionTest, ClientTrustingAnotherCaRefusesTheServer) {
  auto client = Client(certs_.other_ca_cert);
  auto server = Server();
  Result c = Result::kWantInput;
  for (int round = 0; round < 10 && c == Result::kWantInput; ++round) {
    c = client->Handshake();
    Carry(*client, *server, 1000);
    std::string ignored;
    Drain(*server, &ignored, 64);
    Carry(*server, *client, 1000);
  }
  EXPECT_EQ(c, Result::kFailed);
  EXPECT_NE(client->error().find("certificate"), std::string::npos) << client->error();
  EXPECT_FALSE(client->handshake_done());
  // The client's alert tells the server, which fails too.
  Carry(*client, *server, 1000);
  std::string got;
  EXPECT_EQ(Drain(*server, &got, 64), Result::kFailed);
}

TEST_F(TlsSessionTest, ClientCheckingAnotherNameRefusesTheServer) {
  auto client = Client(certs_.ca_cert);
  SSL_set1_host(client->ssl(), "jobs.example.com");
  auto server = Server();
  Result c = Result::kWantInput;
  for (int round = 0; round < 10 && c == Result::kWantInput; ++round) {
    c = client->Handshake();
    Carry(*client, *server, 1000);
    std::string ignored;
    Drain(*server, &ignored, 64);
    Carry(*server, *client, 1000);
  }
  EXPECT_EQ(c, Result::kFailed);
}

TEST_F(TlsSessionTest, TlsOneOneIsRefused) {
  SSL_CTX* old = SSL_CTX_new(TLS_client_method());
  // Allowed at the client's end only for this test (OpenSSL's default
  // security level forbids it too).
  SSL_CTX_set_security_level(old, 0);
  SSL_CTX_set_min_proto_version(old, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION);
  TlsSession client(old, TlsSession::Side::kClient);
  auto server = Server();
  client.Handshake();
  ASSERT_GT(Carry(client, *server, 1000), 0u) << client.error();
  std::string got;
  EXPECT_EQ(Drain(*server, &got, 64), Result::kFailed);
  EXPECT_FALSE(server->handshake_done());
  SSL_CTX_free(old);
}

}  // namespace
}  // namespace werk::net
