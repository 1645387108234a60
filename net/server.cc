#include "net/server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "net/config.h"

namespace werk::net {

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() {
  storage_.checkpointer.reset();
  storage_.wal.reset();
  storage_.storage.reset();
  shard_.reset();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

namespace {

int Listen(const std::string& binding, int* port, std::string* error) {
  std::string host, port_str;
  if (!SplitHostPort(binding, &host, &port_str)) {
    *error = "invalid binding '" + binding + "' (expected host:port)";
    return -1;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "cannot resolve '" + binding + "': " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 4096) == 0) break;
    last_error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    *error = "cannot listen on " + binding + ": " + last_error;
    return -1;
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

}  // namespace

std::string Server::Start() {
  std::error_code ec;
  if (!options_.data_dir.empty()) {
    std::filesystem::create_directories(options_.data_dir, ec);
    if (ec) return "cannot create the data directory " + options_.data_dir + ": " + ec.message();
  }
  // Signals arrive through a signalfd the shard watches; SIGPIPE is ignored
  // (sends use MSG_NOSIGNAL anyway).
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = signalfd(-1, &mask, SFD_CLOEXEC);
  if (signal_fd_ < 0) return std::string("signalfd: ") + std::strerror(errno);

  std::string error;
  listen_fd_ = Listen(options_.binding, &port_, &error);
  if (listen_fd_ < 0) return error;

  try {
    shard_ = std::make_unique<Shard>(options_, core::SystemClock::Instance());
  } catch (const std::exception& e) {
    return e.what();
  }
  if (std::string err = Recover(); !err.empty()) return err;
  shard_->AddListener(listen_fd_);
  shard_->WatchStopFd(signal_fd_);
  return "";
}

std::string Server::Recover() {
  auto storage = OpenShardStorage(*shard_, options_, core::SystemClock::Instance());
  if (!storage.ok()) return std::string(storage.status().message());
  storage_ = std::move(*storage);
  const auto& r = storage_.recovery;
  for (const auto& note : r.notes) spdlog::warn("recovery: {}", note);
  if (storage_.divergent_records > 0) {
    spdlog::error("{} records did not apply on replay; the state may differ from before the "
                  "restart (please report this)",
                  storage_.divergent_records);
  }
  const auto& sm = shard_->state();
  spdlog::info(
      "recovered {} in {:.1f} ms: checkpoint at LSN {} ({} items), {} records replayed, next LSN "
      "{}; {} jobs ({} queued, {} scheduled, {} retries, {} dead, {} reserved)",
      ShardLogDir(options_.data_dir), storage_.recovery_ms, r.checkpoint_lsn, r.checkpoint_items,
      r.records_replayed, r.last_lsn + 1, sm.job_count(), sm.queued_total(), sm.scheduled_size(),
      sm.retries_size(), sm.dead_size(), sm.reserved_size());
  if (options_.unsafe_no_fsync) {
    spdlog::warn("--unsafe-no-fsync: the log is NOT synced; a power loss can lose acknowledged "
                 "jobs. Development and benchmarking only.");
  }
  return "";
}

int Server::Run() {
  spdlog::info("werk listening on {} (port {}), pid {}", options_.binding, port_, getpid());
  shard_->Run();
  if (shard_->journal_failed()) {
    spdlog::critical("werk stopped because its write-ahead log failed: {}",
                     storage_.wal ? storage_.wal->failure() : std::string("unknown"));
    return 1;
  }
  spdlog::info("werk stopped");
  return 0;
}

}  // namespace werk::net
