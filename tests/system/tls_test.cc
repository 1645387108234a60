// TLS on the command port (reference §1.7): with private.key.pem and
// public.cert.pem in the config directory, werkd serves TLS only. The
// certificates are made at test time (tests/support/test_certs.h).

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/support/line_client.h"
#include "tests/support/test_certs.h"
#include "tests/support/tls_line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

WerkdProcess::Options TlsServer(const TestCerts& certs, std::vector<std::string> args = {}) {
  WerkdProcess::Options o;
  // config_files go to <config>/conf.d/; the key and certificate belong in
  // <config> itself.
  o.config_files = {{"../private.key.pem", certs.server_key},
                    {"../public.cert.pem", certs.server_cert}};
  o.args = std::move(args);
  return o;
}

std::string Jid(const std::string& fetched) {
  std::smatch m;
  const std::string body = BulkBody(fetched);
  return std::regex_search(body, m, std::regex(R"re("jid":"([^"]+)")re")) ? m[1].str() : "";
}

TEST(Tls, ClientPushesFetchesAndAcks) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess server(TlsServer(certs));
  const std::string log = server.log();
  EXPECT_NE(log.find("TLS on the command port"), std::string::npos) << log;
  EXPECT_NE(log.find("CN=localhost,O=werk tests"), std::string::npos) << log;
  EXPECT_NE(log.find("valid until"), std::string::npos) << log;

  // By name and by address: the certificate names both.
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    TlsLineClient c(server.port(), certs.ca_cert, host);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_GE(SSL_version(c.ssl()), TLS1_2_VERSION);
    EXPECT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
    ASSERT_EQ(c.Call(R"(HELLO {"v":2,"hostname":"h","wid":"w-tls","pid":1,"labels":[]})"),
              "+OK\r\n");
    // A job bigger than one TLS record (16 KiB) each way.
    const std::string big(50'000, 'x');
    const std::string jid = std::string("tls-job-") + host;
    ASSERT_EQ(c.Call(R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","queue":"tls","args":[")" +
                     big + "\"]}"),
              "+OK\r\n");
    const std::string fetched = c.Call("FETCH tls");
    EXPECT_EQ(Jid(fetched), jid) << fetched.substr(0, 200);
    EXPECT_NE(fetched.find(big), std::string::npos);
    EXPECT_EQ(c.Call(R"(ACK {"jid":")" + jid + "\"}"), "+OK\r\n");
    // END: the server answers nothing, ends the session with close_notify
    // and closes.
    c.Send("END\r\n");
    EXPECT_EQ(c.ReadToEnd(), SSL_ERROR_ZERO_RETURN);
  }
}

TEST(Tls, PipelinedCommandsAllGetTheirReplies) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess server(TlsServer(certs));
  TlsLineClient c(server.port(), certs.ca_cert);
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
  // HELLO and 300 PUSHes in one write: far more than one record, and more
  // than the input buffer takes at once.
  std::string batch = "HELLO {\"v\":2}\r\n";
  constexpr int kJobs = 300;
  for (int i = 0; i < kJobs; ++i) {
    batch += R"(PUSH {"jid":"pipelined-)" + std::to_string(i) + R"(","jobtype":"T","args":[")" +
             std::string(200, 'p') + "\"]}\r\n";
  }
  c.Send(batch);
  EXPECT_EQ(c.ReadOrFail(), "+OK\r\n");
  for (int i = 0; i < kJobs; ++i) ASSERT_EQ(c.ReadOrFail(), "+OK\r\n") << "push " << i;
  const std::string info = c.Call("INFO");
  EXPECT_NE(info.find("\"default\":" + std::to_string(kJobs)), std::string::npos)
      << info.substr(0, 400);
}

TEST(Tls, PlaintextClientIsRefused) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess server(TlsServer(certs, {"--handshake-timeout", "1"}));
  {
    // A plaintext client that speaks first: not a ClientHello, closed.
    LineClient c(server.port());
    c.TrySend("HELLO {\"v\":2}\r\n");
    EXPECT_TRUE(c.WaitClosed(30'000));
    EXPECT_EQ(c.buffered().find("+HI"), std::string::npos);
  }
  {
    // One that waits for the greeting: it never comes, and the handshake
    // deadline closes the connection.
    LineClient c(server.port());
    EXPECT_TRUE(c.WaitClosed(30'000));
    EXPECT_TRUE(c.buffered().empty());
  }
}

TEST(Tls, HandshakeDeadlineCoversTheTlsHandshake) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess server(TlsServer(certs, {"--handshake-timeout", "1"}));
  {
    // TLS done, greeting read, no HELLO: closed at the deadline.
    TlsLineClient c(server.port(), certs.ca_cert);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
    const int end = c.ReadToEnd();
    EXPECT_TRUE(end == SSL_ERROR_SYSCALL || end == SSL_ERROR_SSL || end == SSL_ERROR_ZERO_RETURN)
        << end;
  }
  {
    // Half a ClientHello, then nothing: closed at the same deadline.
    LineClient c(server.port());
    c.TrySend(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
    EXPECT_TRUE(c.WaitClosed(30'000));
  }
}

TEST(Tls, ClientTrustingAnotherCaFailsVerification) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess server(TlsServer(certs));
  TlsLineClient c(server.port(), certs.other_ca_cert);
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.error().find("certificate verify failed"), std::string::npos) << c.error();
  // And one expecting another name fails too.
  TlsLineClient named(server.port(), certs.ca_cert, "jobs.example.com");
  EXPECT_FALSE(named.ok());
}

TEST(Tls, OldProtocolVersionIsRefusedWithAnAlert) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess server(TlsServer(certs));
  TlsLineClient c(server.port(), certs.ca_cert, "localhost", [](SSL_CTX* ctx) {
    // TLS 1.1 at most, allowed at this end only for the test.
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  });
  EXPECT_FALSE(c.ok());
  // The server said why before closing.
  EXPECT_NE(c.error().find("alert protocol version"), std::string::npos) << c.error();
}

TEST(Tls, BadKeyRefusesToStartNamingTheFile) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess::Options o = TlsServer(certs);
  o.config_files[0].second = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  try {
    WerkdProcess server(o);
    FAIL() << "werkd started with a bad key:\n" << server.log();
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("exit status 2"), std::string::npos) << what;
    EXPECT_NE(what.find("/config/private.key.pem: not a usable PEM private key"),
              std::string::npos)
        << what;
  }
}

TEST(Tls, KeyOfAnotherCertificateRefusesToStart) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess::Options o = TlsServer(certs);
  o.config_files[0].second = certs.other_key;
  try {
    WerkdProcess server(o);
    FAIL() << "werkd started with a key that is not the certificate's:\n" << server.log();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("private.key.pem does not belong to the certificate"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace werk::testing
