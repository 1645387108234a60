#include "tools/werkctl/faktory_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <absl/status/status.h>
#include <simdjson.h>

#include "core/json_writer.h"
#include "net/password.h"

namespace werk::ctl {

namespace {

using Clock = std::chrono::steady_clock;

// Faktory picks 4000 … 8095 (reference §1.6); far more would only make a
// broken or hostile server burn the operator's CPU.
constexpr int64_t kIterationsMax = 1'000'000;

// Server text quoted in a message: cut, so a server answering garbage
// cannot flood the terminal.
std::string Quote(std::string_view text) {
  constexpr size_t kShown = 200;
  std::string out = "\"";
  out.append(text.substr(0, kShown));
  if (text.size() > kShown) out.append("…");
  return out + "\"";
}

std::string Seconds(std::chrono::milliseconds d) {
  const long long ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : int(std::min<long long>(left.count(), 1 << 30));
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Waits for `events` on `fd` until `deadline`: 1 ready, 0 timed out, -1 error (errno).
int PollUntil(int fd, short events, Clock::time_point deadline) {
  while (true) {
    const int left = RemainingMs(deadline);
    if (left == 0) return 0;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r != 0) return r < 0 ? -1 : 1;
  }
}

}  // namespace

ParseOutcome ParseReply(std::string_view buf, size_t* consumed, Reply* reply) {
  const size_t eol = buf.find('\n');
  if (eol == std::string_view::npos) {
    if (buf.size() <= kReplyBytesMax) return ParseOutcome::kIncomplete;
    reply->text = "a line longer than " + std::to_string(kReplyBytesMax) + " bytes";
    return ParseOutcome::kMalformed;
  }
  std::string_view line = buf.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    reply->text = "an empty line";
    return ParseOutcome::kMalformed;
  }
  const std::string_view body = line.substr(1);
  *consumed = eol + 1;
  switch (line[0]) {
    case '+':
      *reply = {Reply::Type::kSimple, std::string(body)};
      return ParseOutcome::kReply;
    case '-':
      *reply = {Reply::Type::kError, std::string(body)};
      return ParseOutcome::kReply;
    case ':':
      *reply = {Reply::Type::kInteger, std::string(body)};
      return ParseOutcome::kReply;
    case '$':
      break;
    default:
      reply->text = "unexpected reply " + Quote(line);
      return ParseOutcome::kMalformed;
  }
  if (body == "-1") {
    *reply = {Reply::Type::kNull, {}};
    return ParseOutcome::kReply;
  }
  size_t length = 0;
  const bool digits = !body.empty() && body.size() <= 10 &&
                      body.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits) length = std::stoull(std::string(body));
  if (!digits || length > kReplyBytesMax) {
    reply->text = "bad bulk length " + Quote(body);
    return ParseOutcome::kMalformed;
  }
  // The payload, then CRLF (or LF).
  const size_t end = eol + 1 + length;
  if (buf.size() < end + 1) return ParseOutcome::kIncomplete;
  size_t newline = end;
  if (buf[newline] == '\r') {
    if (buf.size() < end + 2) return ParseOutcome::kIncomplete;
    ++newline;
  }
  if (buf[newline] != '\n') {
    reply->text = "a bulk reply longer than its length " + std::to_string(length);
    return ParseOutcome::kMalformed;
  }
  *consumed = newline + 1;
  *reply = {Reply::Type::kBulk, std::string(buf.substr(eol + 1, length))};
  return ParseOutcome::kReply;
}

absl::StatusOr<FaktoryClient> FaktoryClient::Connect(const ServerUrl& url,
                                                     std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(url.port);
  if (const int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &addresses); rc != 0)
    return absl::UnavailableError("cannot resolve " + url.host + ": " + ::gai_strerror(rc));
  // Every address in turn, as "localhost" may resolve to ::1 first while the
  // server listens on 127.0.0.1 only.
  int fd = -1;
  bool timed_out = false;
  std::string last_error = "no address";
  for (addrinfo* a = addresses; a != nullptr && fd < 0 && !timed_out; a = a->ai_next) {
    const int s = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                           a->ai_protocol);
    if (s < 0) {
      last_error = ErrnoText(errno);
      continue;
    }
    int err = ::connect(s, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      const int ready = PollUntil(s, POLLOUT, deadline);
      socklen_t len = sizeof err;
      if (ready == 0) timed_out = true;
      else if (ready < 0) err = errno;
      else if (::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err == 0 && !timed_out) {
      fd = s;
    } else {
      if (err != 0) last_error = ErrnoText(err);
      ::close(s);
    }
  }
  ::freeaddrinfo(addresses);
  if (fd < 0 && timed_out)
    return absl::DeadlineExceededError("cannot connect: no answer within " + Seconds(timeout));
  if (fd < 0) return absl::UnavailableError("cannot connect: " + last_error);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  FaktoryClient client(fd, timeout);
  if (url.tls) {
    absl::StatusOr<std::unique_ptr<ClientTls>> tls = ClientTls::Handshake(fd, url.host, deadline);
    if (!tls.ok()) return tls.status();
    client.tls_ = std::move(*tls);
  }
  if (absl::Status st = client.Handshake(url); !st.ok()) return st;
  return client;
}

FaktoryClient::FaktoryClient(FaktoryClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      tls_(std::move(other.tls_)),
      timeout_(other.timeout_),
      buf_(std::move(other.buf_)) {}

FaktoryClient& FaktoryClient::operator=(FaktoryClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    tls_ = std::move(other.tls_);
    timeout_ = other.timeout_;
    buf_ = std::move(other.buf_);
  }
  return *this;
}

FaktoryClient::~FaktoryClient() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status FaktoryClient::Handshake(const ServerUrl& url) {
  auto hi = ReadReply();
  if (!hi.ok())
    return absl::Status(hi.status().code(),
                        "no greeting from the server: " + std::string(hi.status().message()));
  constexpr std::string_view kHi = "HI ";
  if (hi->type == Reply::Type::kError)
    return absl::UnavailableError("the server refused the connection: " + hi->text);
  if (hi->type != Reply::Type::kSimple || hi->text.compare(0, kHi.size(), kHi) != 0)
    return absl::UnavailableError("unexpected greeting " + Quote(hi->text) +
                                  " (is it a Faktory server?)");
  simdjson::dom::parser parser;
  simdjson::dom::element greeting;
  int64_t iterations = 0;
  std::string_view salt;
  bool ok = !parser.parse(hi->text.substr(kHi.size())).get(greeting) && greeting.is_object();
  if (ok && greeting["i"].error() == simdjson::SUCCESS) {
    ok = !greeting["i"].get_int64().get(iterations) && iterations > 0 &&
         iterations <= kIterationsMax && !greeting["s"].get_string().get(salt);
  }
  if (!ok) return absl::UnavailableError("unexpected greeting " + Quote(hi->text));

  // A producer's HELLO: no wid, so the server tracks no worker process.
  std::string hello = "HELLO {\"v\":2";
  if (iterations > 0) {
    if (url.password.empty())
      return absl::PermissionDeniedError(
          "the server requires a password: give it in the URL (tcp://:PASSWORD@host:port) or "
          "in FAKTORY_PASSWORD");
    hello += ",\"pwdhash\":\"" + net::PasswordHash(url.password, salt, int(iterations)) + "\"";
  }
  if (!url.username.empty()) {
    hello += ",\"username\":";
    core::AppendJsonString(hello, url.username);
  }
  hello += "}\r\n";
  if (absl::Status st = Send(hello); !st.ok()) return st;
  auto reply = ReadReply();
  if (!reply.ok())
    return absl::Status(reply.status().code(),
                        "no answer to HELLO: " + std::string(reply.status().message()));
  if (reply->type == Reply::Type::kError) {
    if (reply->text.find("Invalid password") != std::string::npos)
      return absl::PermissionDeniedError("wrong password (the server answered: " + reply->text +
                                         ")");
    return absl::UnavailableError("the server refused HELLO: " + reply->text);
  }
  if (reply->type != Reply::Type::kSimple || reply->text != "OK")
    return absl::UnavailableError("unexpected answer to HELLO " + Quote(reply->text));
  return absl::OkStatus();
}

absl::StatusOr<Reply> FaktoryClient::Call(std::string_view command) {
  std::string line(command);
  line += "\r\n";
  if (absl::Status st = Send(line); !st.ok()) return st;
  return ReadReply();
}

void FaktoryClient::End() {
  if (fd_ < 0) return;
  (void)Send("END\r\n");
  if (tls_) tls_->Shutdown();
  tls_.reset();
  ::close(fd_);
  fd_ = -1;
}

absl::Status FaktoryClient::Send(std::string_view bytes) {
  const auto deadline = Clock::now() + timeout_;
  while (!bytes.empty()) {
    if (tls_) {
      short wait = 0;
      std::string error;
      const ssize_t n = tls_->Write(bytes.data(), bytes.size(), &wait, &error);
      if (n > 0) {
        bytes.remove_prefix(size_t(n));
        continue;
      }
      if (wait == 0) return absl::UnavailableError("cannot send: " + (n == 0 ? "closed" : error));
      const int ready = PollUntil(fd_, wait, deadline);
      if (ready == 0)
        return absl::DeadlineExceededError("cannot send within " + Seconds(timeout_));
      if (ready < 0) return absl::UnavailableError("cannot send: " + ErrnoText(errno));
      continue;
    }
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      return absl::UnavailableError("cannot send: " + ErrnoText(errno));
    const int ready = PollUntil(fd_, POLLOUT, deadline);
    if (ready == 0)
      return absl::DeadlineExceededError("cannot send within " + Seconds(timeout_));
    if (ready < 0) return absl::UnavailableError("cannot send: " + ErrnoText(errno));
  }
  return absl::OkStatus();
}

absl::StatusOr<Reply> FaktoryClient::ReadReply() {
  const auto deadline = Clock::now() + timeout_;
  while (true) {
    Reply reply;
    size_t consumed = 0;
    switch (ParseReply(buf_, &consumed, &reply)) {
      case ParseOutcome::kReply:
        buf_.erase(0, consumed);
        return reply;
      case ParseOutcome::kMalformed:
        return absl::UnavailableError("malformed reply from the server: " + reply.text);
      case ParseOutcome::kIncomplete:
        break;
    }
    char chunk[65536];
    ssize_t n;
    if (tls_) {
      // OpenSSL may hold decrypted bytes already: read first, wait after.
      short wait = 0;
      std::string error;
      n = tls_->Read(chunk, sizeof chunk, &wait, &error);
      if (n < 0 && wait == 0) return absl::UnavailableError("cannot read: " + error);
      if (n < 0) {
        const int ready = PollUntil(fd_, wait, deadline);
        if (ready == 0) return absl::DeadlineExceededError("no reply within " + Seconds(timeout_));
        if (ready < 0) return absl::UnavailableError("cannot read: " + ErrnoText(errno));
        continue;
      }
    } else {
      const int ready = PollUntil(fd_, POLLIN, deadline);
      if (ready == 0) return absl::DeadlineExceededError("no reply within " + Seconds(timeout_));
      if (ready < 0) return absl::UnavailableError("cannot read: " + ErrnoText(errno));
      n = ::recv(fd_, chunk, sizeof chunk, 0);
    }
    if (n == 0)
      return absl::UnavailableError(buf_.empty()
                                        ? "the server closed the connection"
                                        : "the server closed the connection in the middle of a reply");
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return absl::UnavailableError("cannot read: " + ErrnoText(errno));
    }
    buf_.append(chunk, size_t(n));
  }
}

}  // namespace werk::ctl
