// werkctl against the real werkd: how it finds the server (FAKTORY_URL,
// --url, FAKTORY_PROVIDER, FAKTORY_PASSWORD), the handshake with and without
// a password, and its exit statuses and messages when something is wrong.

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/line_client.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_certs.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

using Env = std::vector<std::pair<std::string, std::string>>;

// werkctl with exactly the FAKTORY_* variables given (none inherited from
// whoever runs the suite).
ProcessResult Werkctl(const std::vector<std::string>& args, const Env& env = {}) {
  std::vector<std::string> argv = {WERKCTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, env, {"FAKTORY_"});
}

std::string Url(int port, const std::string& password = "") {
  const std::string auth = password.empty() ? "" : ":" + password + "@";
  return "tcp://" + auth + "127.0.0.1:" + std::to_string(port);
}

// A loopback port nothing listens on: bound by the kernel's choice, then freed.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(fd);
  return ntohs(a.sin_port);
}

void PushJobs(LineClient& c, const std::string& queue, int n) {
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(c.Call(R"(PUSH {"jid":")" + queue + "-job-" + std::to_string(i) +
                     R"(","jobtype":"T","queue":")" + queue + R"(","args":[]})"),
              "+OK\r\n");
}

std::string Diagnose(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

TEST(Werkctl, InfoWithoutPassword) {
  WerkdProcess server;
  LineClient c = ReadyClient(server.port());
  PushJobs(c, "critical", 3);
  PushJobs(c, "default", 1);
  const ProcessResult r = Werkctl({"info"}, {{"FAKTORY_URL", Url(server.port())}});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find("server:      werk "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(Faktory protocol "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", up "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 queues, 4 jobs enqueued"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  critical  3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  default   1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("totals:      processed 0, failures 0"), std::string::npos) << r.out;
  // werkctl's own connection is a producer's: no worker process appears.
  const std::string info = BulkBody(c.Call("INFO"));
  EXPECT_NE(info.find(R"("Workers":{"reaped":0,"size":0})"), std::string::npos) << info;
}

TEST(Werkctl, InfoJsonIsTheDocumentAndHoldsTheQueues) {
  WerkdProcess server;
  LineClient c = ReadyClient(server.port());
  PushJobs(c, "critical", 2);
  const ProcessResult r = Werkctl({"info", "--json"}, {{"FAKTORY_URL", Url(server.port())}});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  int64_t critical = 0;
  ASSERT_EQ(doc.at_pointer("/faktory/queues/critical").get_int64().get(critical),
            simdjson::SUCCESS)
      << r.out;
  EXPECT_EQ(critical, 2);
  std::string_view description;
  ASSERT_EQ(doc.at_pointer("/server/description").get_string().get(description),
            simdjson::SUCCESS);
  EXPECT_EQ(description, "werk");
}

TEST(Werkctl, PasswordFromFaktoryUrlFromTheFlagAndFromFaktoryPassword) {
  WerkdProcess server({.env = {{"FAKTORY_PASSWORD", "s3cret"}}});
  const int port = server.port();
  // In FAKTORY_URL.
  ProcessResult r = Werkctl({"info"}, {{"FAKTORY_URL", Url(port, "s3cret")}});
  EXPECT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_NE(r.out.find("server:      werk"), std::string::npos) << r.out;
  // --url wins over FAKTORY_URL, here one naming a port nothing listens on;
  // before or after the subcommand.
  const Env dead_url = {{"FAKTORY_URL", Url(FreePort(), "wrong")}};
  r = Werkctl({"--url", Url(port, "s3cret"), "info"}, dead_url);
  EXPECT_EQ(r.exit_code, 0) << Diagnose(r);
  r = Werkctl({"info", "--url", Url(port, "s3cret"), "--json"}, dead_url);
  EXPECT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_EQ(r.out.rfind("{\"now\":", 0), 0u) << r.out;
  // FAKTORY_PASSWORD when the URL has none.
  r = Werkctl({"info"}, {{"FAKTORY_URL", Url(port)}, {"FAKTORY_PASSWORD", "s3cret"}});
  EXPECT_EQ(r.exit_code, 0) << Diagnose(r);
  // The URL's password wins over FAKTORY_PASSWORD.
  r = Werkctl({"info"}, {{"FAKTORY_URL", Url(port, "s3cret")}, {"FAKTORY_PASSWORD", "nope"}});
  EXPECT_EQ(r.exit_code, 0) << Diagnose(r);
  // FAKTORY_PROVIDER names the variable holding the URL.
  r = Werkctl({"info"}, {{"FAKTORY_PROVIDER", "MY_FAKTORY"}, {"MY_FAKTORY", Url(port, "s3cret")}});
  EXPECT_EQ(r.exit_code, 0) << Diagnose(r);
}

TEST(Werkctl, PasswordWithReservedCharactersIsPercentDecoded) {
  WerkdProcess server({.env = {{"FAKTORY_PASSWORD", "p@ss:w/rd %"}}});
  const ProcessResult r =
      Werkctl({"info"}, {{"FAKTORY_URL", Url(server.port(), "p%40ss%3Aw%2Frd%20%25")}});
  EXPECT_EQ(r.exit_code, 0) << Diagnose(r);
}

TEST(Werkctl, WrongOrMissingPasswordExitsOneNamingTheAddress) {
  WerkdProcess server({.env = {{"FAKTORY_PASSWORD", "s3cret"}}});
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  ProcessResult r = Werkctl({"info"}, {{"FAKTORY_URL", Url(server.port(), "wrong")}});
  EXPECT_EQ(r.exit_code, 1) << Diagnose(r);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err, "werkctl: " + address +
                       " (from FAKTORY_URL): wrong password (the server answered: ERR Invalid "
                       "password)\n");
  r = Werkctl({"info"}, {{"FAKTORY_URL", Url(server.port())}});
  EXPECT_EQ(r.exit_code, 1) << Diagnose(r);
  EXPECT_NE(r.err.find(address), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the server requires a password"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Werkctl, NothingListeningExitsOneNamingTheAddress) {
  const int port = FreePort();
  const ProcessResult r = Werkctl({"--url", Url(port), "info"});
  EXPECT_EQ(r.exit_code, 1) << Diagnose(r);
  EXPECT_EQ(r.err, "werkctl: 127.0.0.1:" + std::to_string(port) +
                       " (from --url): cannot connect: Connection refused\n");
}

TEST(Werkctl, MalformedUrlAndBadUsageExitTwo) {
  for (const std::string& url :
       {std::string("http://127.0.0.1:7419"), std::string("tcp://127.0.0.1:99999"),
        std::string("tcp://127.0.0.1:7419/queue"), std::string("127.0.0.1:7419"),
        std::string("tcp+tls://127.0.0.1:7419/x")}) {
    ProcessResult r = Werkctl({"info"}, {{"FAKTORY_URL", url}});
    EXPECT_EQ(r.exit_code, 2) << url << "\n" << Diagnose(r);
    EXPECT_NE(r.err.find("bad URL in FAKTORY_URL"), std::string::npos) << r.err;
    r = Werkctl({"--url", url, "info"});
    EXPECT_EQ(r.exit_code, 2) << url << "\n" << Diagnose(r);
  }
  // The password of a malformed URL is not echoed.
  ProcessResult r = Werkctl({"--url", "tcp://:hunter2@127.0.0.1:port", "info"});
  EXPECT_EQ(r.exit_code, 2) << Diagnose(r);
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  // FAKTORY_PROVIDER holding a URL instead of a variable's name.
  r = Werkctl({"info"}, {{"FAKTORY_PROVIDER", "tcp://127.0.0.1:7419"}});
  EXPECT_EQ(r.exit_code, 2) << Diagnose(r);
  // No subcommand, an unknown one, an unknown flag.
  EXPECT_EQ(Werkctl({}).exit_code, 2);
  EXPECT_EQ(Werkctl({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Werkctl({"info", "--yaml"}).exit_code, 2);
  EXPECT_EQ(Werkctl({"--help"}).exit_code, 0);
}

TEST(Werkctl, PromotePrintsTheServersErrorAndExitsOne) {
  WerkdProcess server({.env = {{"FAKTORY_PASSWORD", "s3cret"}}});
  const ProcessResult r = Werkctl({"promote"}, {{"FAKTORY_URL", Url(server.port(), "s3cret")}});
  EXPECT_EQ(r.exit_code, 1) << Diagnose(r);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err, "werkctl: 127.0.0.1:" + std::to_string(server.port()) +
                       ": the server refused PROMOTE: ERR werk is already the primary "
                       "(epoch 1)\n");
}

// A server that accepts and never answers: werkctl gives up after --timeout.
TEST(Werkctl, SilentServerTimesOut) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r =
      Werkctl({"--timeout", "0.5", "--url", Url(ntohs(a.sin_port)), "info"});
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1) << Diagnose(r);
  EXPECT_NE(r.err.find("no greeting from the server: no reply within 500 ms"), std::string::npos)
      << r.err;
  EXPECT_LT(took, std::chrono::seconds(5));
}

// tcp+tls:// (as Faktory's clients): the server's certificate checked
// against the trusted CAs (here the test's, through SSL_CERT_FILE) and the
// name or address dialled.
TEST(Werkctl, SpeaksTlsToATlsServer) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess w({.env = {{"FAKTORY_PASSWORD", "s3cret"}},
                  .config_files = {{"../private.key.pem", certs.server_key},
                                   {"../public.cert.pem", certs.server_cert}}});
  const std::string ca = w.dir() + "/ca.pem";
  std::ofstream(ca) << certs.ca_cert;
  const std::string other = w.dir() + "/other.pem";
  std::ofstream(other) << certs.other_ca_cert;
  const std::string port = std::to_string(w.port());
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    const ProcessResult r = Werkctl({"--url", "tcp+tls://:s3cret@" + host + ":" + port, "queues"},
                                    {{"SSL_CERT_FILE", ca}});
    EXPECT_EQ(r.exit_code, 0) << host << ": " << r.err;
  }
  const ProcessResult json = Werkctl({"info", "--json"}, {{"SSL_CERT_FILE", ca},
                                                         {"FAKTORY_URL", "tcp+tls://localhost:" + port},
                                                         {"FAKTORY_PASSWORD", "s3cret"}});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"faktory\""), std::string::npos) << json.out;
  // Another CA: refused, and said why.
  const ProcessResult wrong = Werkctl({"--url", "tcp+tls://:s3cret@localhost:" + port, "info"},
                                      {{"SSL_CERT_FILE", other}});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("not trusted"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace werk::testing
