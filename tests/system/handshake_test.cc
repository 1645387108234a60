// The HI/HELLO handshake and authentication (reference §1.6).

#include <gtest/gtest.h>

#include <regex>

#include "net/password.h"
#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

TEST(Handshake, PasswordIsChecked) {
  WerkdProcess server({.env = {{"FAKTORY_PASSWORD", "s3cret"}}});
  for (const bool good : {true, false}) {
    LineClient c(server.port());
    const std::string hi = c.ReadOrFail();
    std::smatch m;
    ASSERT_TRUE(std::regex_match(hi, m, std::regex(R"re(\+HI \{"v":2,"i":(\d+),"s":"([0-9a-f]+)"\}\r\n)re"))) << hi;
    const int iterations = std::stoi(m[1]);
    EXPECT_GE(iterations, 4000);
    EXPECT_LE(iterations, 8095);
    const std::string hash = net::PasswordHash(good ? "s3cret" : "wrong", m[2].str(), iterations);
    const std::string reply = c.Call(R"(HELLO {"v":2,"pwdhash":")" + hash + "\"}");
    if (good) {
      EXPECT_EQ(reply, "+OK\r\n");
      EXPECT_EQ(c.Call("INFO").rfind("$", 0), 0u);
    } else {
      EXPECT_EQ(reply, "-ERR Invalid password\r\n");
      EXPECT_TRUE(c.WaitClosed());
    }
  }
}

TEST(Handshake, PasswordFromTomlAndVersionOneHash) {
  WerkdProcess server({.config_toml = "[faktory]\npassword = \"fromtoml\"\n"});
  LineClient c(server.port());
  const std::string hi = c.ReadOrFail();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(hi, m, std::regex(R"re("s":"([0-9a-f]+)")re")));
  // A v1 client hashes once.
  EXPECT_EQ(c.Call(R"(HELLO {"v":1,"pwdhash":")" + net::PasswordHash("fromtoml", m[1].str(), 1) + "\"}"),
            "+OK\r\n");
}

TEST(Handshake, NoPasswordIgnoresPwdhash) {
  WerkdProcess server;
  LineClient c(server.port());
  EXPECT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
  EXPECT_EQ(c.Call(R"(HELLO {"v":1,"pwdhash":"junk"})"), "+OK\r\n");
}

TEST(Handshake, AnythingButHelloClosesSilently) {
  WerkdProcess server;
  for (const char* first : {R"(PUSH {"jid":"abcdefgh","jobtype":"T","args":[]})", "HELLO",
                            "HELLO {bad json", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                            R"(HELLO {"v":"2"})"}) {
    LineClient c(server.port());
    ASSERT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
    c.TrySend(std::string(first) + "\r\n");
    EXPECT_TRUE(c.WaitClosed()) << first;
    EXPECT_TRUE(c.buffered().empty()) << first << " got " << c.buffered();
  }
  // The server is unaffected.
  LineClient ok(server.port());
  ok.ReadOrFail();
  EXPECT_EQ(ok.Call(R"(HELLO {"v":2})"), "+OK\r\n");
}

TEST(Handshake, SilentClientIsDroppedAfterTwoSeconds) {
  WerkdProcess server;
  LineClient c(server.port());
  ASSERT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.WaitClosed(5000));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

TEST(Handshake, ProductionRequiresAPassword) {
  EXPECT_THROW(WerkdProcess({.args = {"-e", "production"}}), std::runtime_error);
  WerkdProcess ok({.args = {"-e", "production"}, .env = {{"FAKTORY_SKIP_PASSWORD", "1"}}});
  EXPECT_GT(ok.port(), 0);
}

}  // namespace
}  // namespace werk::testing
