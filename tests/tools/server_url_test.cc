// How werkctl reads a Faktory URL and picks it from the flag and the
// environment (tools/werkctl/server_url.h).

#include "tools/werkctl/server_url.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace werk::ctl {
namespace {

ServerUrl Parse(std::string_view url) {
  auto r = ParseServerUrl(url);
  EXPECT_TRUE(r.ok()) << url << ": " << r.status();
  return r.ok() ? *r : ServerUrl{};
}

std::string ParseError(std::string_view url) {
  auto r = ParseServerUrl(url);
  EXPECT_FALSE(r.ok()) << url;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << url;
  return std::string(r.status().message());
}

TEST(ServerUrl, HostAndPortDefaultLikeFaktoryClients) {
  ServerUrl u = Parse("tcp://10.1.2.3:7500");
  EXPECT_EQ(u.host, "10.1.2.3");
  EXPECT_EQ(u.port, 7500);
  EXPECT_EQ(u.password, "");
  EXPECT_EQ(u.Address(), "10.1.2.3:7500");
  u = Parse("tcp://faktory.internal");
  EXPECT_EQ(u.Address(), "faktory.internal:7419");
  u = Parse("tcp://:7500");
  EXPECT_EQ(u.Address(), "localhost:7500");
  EXPECT_EQ(Parse("tcp://").Address(), "localhost:7419");
  EXPECT_EQ(Parse("tcp://host:7419/").Address(), "host:7419");
  EXPECT_EQ(Parse("tcp://host:65535").port, 65535);
}

TEST(ServerUrl, PasswordAndUserAreTakenAndPercentDecoded) {
  ServerUrl u = Parse("tcp://:s3cret@127.0.0.1:7419");
  EXPECT_EQ(u.username, "");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.Address(), "127.0.0.1:7419");
  u = Parse("tcp://ops:s3cret@host");
  EXPECT_EQ(u.username, "ops");
  EXPECT_EQ(u.password, "s3cret");
  u = Parse("tcp://:p%40ss%3Aw%2Frd%25@host:1");
  EXPECT_EQ(u.password, "p@ss:w/rd%");
  // As Go's url.Parse, the userinfo ends at the last '@'; ':' after the
  // first belongs to the password.
  u = Parse("tcp://:a@b:c@host:1");
  EXPECT_EQ(u.password, "a@b:c");
  EXPECT_EQ(u.Address(), "host:1");
  // The user alone; an empty password is none.
  u = Parse("tcp://ops@host");
  EXPECT_EQ(u.username, "ops");
  EXPECT_EQ(u.password, "");
  EXPECT_EQ(Parse("tcp://:@host").password, "");
}

TEST(ServerUrl, Ipv6AddressesGoInBrackets) {
  ServerUrl u = Parse("tcp://[::1]:7500");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 7500);
  EXPECT_EQ(u.Address(), "[::1]:7500");
  EXPECT_EQ(Parse("tcp://:pw@[fe80::1]").Address(), "[fe80::1]:7419");
  EXPECT_NE(ParseError("tcp://::1:7419").find("brackets"), std::string::npos);
  ParseError("tcp://[::1");
  ParseError("tcp://[::1]x");
  ParseError("tcp://[]:7419");
  ParseError("tcp://[::1]:");
}

TEST(ServerUrl, TcpPlusTlsIsTheSameServerOverTls) {
  auto u = ParseServerUrl("tcp+tls://:s3cret@jobs.example.com:7500");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "jobs.example.com");
  EXPECT_EQ(u->port, 7500);
  EXPECT_EQ(u->password, "s3cret");
  auto plain = ParseServerUrl("tcp://jobs.example.com");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->tls);
}

TEST(ServerUrl, MalformedUrlsSayWhatIsWrong) {
  EXPECT_NE(ParseError("http://host:7419").find("expected tcp://"), std::string::npos);
  EXPECT_NE(ParseError("host:7419").find("expected tcp://"), std::string::npos);
  EXPECT_NE(ParseError("").find("expected tcp://"), std::string::npos);
  EXPECT_NE(ParseError("TCP://host").find("expected tcp://"), std::string::npos);
  EXPECT_NE(ParseError("tcp+tls://host:7419/x").find("\"/x\""), std::string::npos);
  EXPECT_NE(ParseError("tcp://host:0").find("bad port \"0\""), std::string::npos);
  EXPECT_NE(ParseError("tcp://host:65536").find("bad port"), std::string::npos);
  EXPECT_NE(ParseError("tcp://host:123456").find("bad port"), std::string::npos);
  EXPECT_NE(ParseError("tcp://host:74a9").find("bad port"), std::string::npos);
  EXPECT_NE(ParseError("tcp://host:-1").find("bad port"), std::string::npos);
  EXPECT_NE(ParseError("tcp://host:").find("empty port"), std::string::npos);
  EXPECT_NE(ParseError("tcp://host:7419/jobs").find("\"/jobs\""), std::string::npos);
  EXPECT_NE(ParseError("tcp://host:7419?x=1").find("\"?x=1\""), std::string::npos);
  EXPECT_NE(ParseError("tcp://host//").find("after host:port"), std::string::npos);
  EXPECT_NE(ParseError("tcp://:%4@host").find("bad %-escape in the password"),
            std::string::npos);
  EXPECT_NE(ParseError("tcp://%zz:pw@host").find("in the user name"), std::string::npos);
  ParseError("tcp://ho st:7419");
  // The password never appears in a message.
  EXPECT_EQ(ParseError("tcp://:hunter2@host:x").find("hunter2"), std::string::npos);
}

TEST(ServerUrl, RedactHidesOnlyThePassword) {
  EXPECT_EQ(RedactUrl("tcp://:hunter2@host:7419"), "tcp://:xxxxx@host:7419");
  EXPECT_EQ(RedactUrl("tcp://ops:hunter2@host"), "tcp://ops:xxxxx@host");
  EXPECT_EQ(RedactUrl("tcp://ops@host:7419"), "tcp://ops@host:7419");
  EXPECT_EQ(RedactUrl("tcp://host:7419"), "tcp://host:7419");
  EXPECT_EQ(RedactUrl("tcp://:a@b@host"), "tcp://:xxxxx@host");
  EXPECT_EQ(RedactUrl(":pw@host"), ":xxxxx@host");
}

// An environment for ResolveServer.
struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      const auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

ResolvedServer Resolve(std::string_view flag, const FakeEnv& env) {
  auto r = ResolveServer(flag, env.lookup());
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : ResolvedServer{};
}

TEST(ServerUrl, ResolveOrderFlagThenProviderThenFaktoryUrlThenDefault) {
  FakeEnv env;
  ResolvedServer r = Resolve("", env);
  EXPECT_EQ(r.url.Address(), "localhost:7419");
  EXPECT_EQ(r.source, "the default");
  env.vars["FAKTORY_URL"] = "tcp://from-env:1";
  r = Resolve("", env);
  EXPECT_EQ(r.url.Address(), "from-env:1");
  EXPECT_EQ(r.source, "FAKTORY_URL");
  // FAKTORY_PROVIDER names the variable to read instead of FAKTORY_URL.
  env.vars["FAKTORY_PROVIDER"] = "MY_URL";
  env.vars["MY_URL"] = "tcp://from-provider:2";
  r = Resolve("", env);
  EXPECT_EQ(r.url.Address(), "from-provider:2");
  EXPECT_EQ(r.source, "MY_URL (named by FAKTORY_PROVIDER)");
  // The flag wins over both.
  r = Resolve("tcp://from-flag:3", env);
  EXPECT_EQ(r.url.Address(), "from-flag:3");
  EXPECT_EQ(r.source, "--url");
  // A provider naming an unset variable: the default, as the Rust client.
  env.vars.erase("MY_URL");
  EXPECT_EQ(Resolve("", env).url.Address(), "localhost:7419");
  // Empty variables count as unset.
  env.vars = {{"FAKTORY_PROVIDER", ""}, {"FAKTORY_URL", ""}};
  EXPECT_EQ(Resolve("", env).url.Address(), "localhost:7419");
}

TEST(ServerUrl, ResolveRefusesAProviderHoldingAUrlAndNamesTheBadVariable) {
  FakeEnv env;
  env.vars["FAKTORY_PROVIDER"] = "tcp://host:7419";
  auto r = ResolveServer("", env.lookup());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("FAKTORY_PROVIDER must be the name"), std::string::npos);
  env.vars = {{"FAKTORY_URL", "tcp://:hunter2@host:x"}};
  r = ResolveServer("", env.lookup());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()),
            "bad URL in FAKTORY_URL \"tcp://:xxxxx@host:x\": bad port \"x\" (expected 1 to "
            "65535)");
  r = ResolveServer("http://x", env.lookup());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad URL in --url"), std::string::npos);
}

TEST(ServerUrl, FaktoryPasswordFillsInWhenTheUrlHasNone) {
  FakeEnv env;
  env.vars["FAKTORY_PASSWORD"] = "from-env";
  EXPECT_EQ(Resolve("", env).url.password, "from-env");
  EXPECT_EQ(Resolve("tcp://host", env).url.password, "from-env");
  EXPECT_EQ(Resolve("tcp://:from-url@host", env).url.password, "from-url");
  // As for the server: a value starting with '/' names a file holding it.
  const std::string path = ::testing::TempDir() + "/werkctl-password-test";
  std::ofstream(path) << "  from-file\n";
  env.vars["FAKTORY_PASSWORD"] = path;
  EXPECT_EQ(Resolve("", env).url.password, "from-file");
  std::filesystem::remove(path);
  auto r = ResolveServer("", env.lookup());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("FAKTORY_PASSWORD: cannot read the password file"),
            std::string::npos);
}

}  // namespace
}  // namespace werk::ctl
