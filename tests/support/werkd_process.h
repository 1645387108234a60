#pragma once
// Starts the real werkd binary on a free loopback port with a fresh data
// directory, for system tests; stops it by its PID.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace werk::testing {

class WerkdProcess {
 public:
  struct Options {
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    std::string config_toml;  // written to conf.d/werk.toml when non-empty
    // More conf.d files: (name, text), e.g. {"cron.toml", "[[cron]]\n..."}.
    std::vector<std::pair<std::string, std::string>> config_files;
    std::string data_dir;     // reuse this data directory (kept afterwards)
    std::string binding;      // host:port; empty = a free loopback port
  };

  explicit WerkdProcess(Options o = {}) : opts_(std::move(o)) {
    char tmpl[] = "/tmp/werk-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    Start();
  }
  ~WerkdProcess() {
    Kill();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  int port() const { return port_; }
  // The web UI's port, from the log (0: none reported).
  int web_port() const {
    const std::regex re("\\(web port ([0-9]+)\\)");
    std::smatch m;
    const std::string text = log();
    return std::regex_search(text, m, re) ? std::stoi(m[1]) : 0;
  }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  const std::string& data_dir() const { return data_dir_; }
  // SIGKILL, no chance to clean up: a crash.
  void KillNine() { Kill(); }
  std::string log() const {
    std::ifstream in(dir_ + "/werkd.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // SIGTERM and wait; returns the exit status (or -1).
  int Stop(int timeout_ms = 10000) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    return Wait(timeout_ms);
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    Wait(10000);
  }
  bool Alive() {
    if (pid_ <= 0) return false;
    int status;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return false;
    }
    return true;
  }
  int exit_status() const { return exit_status_; }

 private:
  void Start() {
    std::filesystem::create_directories(dir_ + "/config/conf.d");
    if (!opts_.config_toml.empty()) {
      std::ofstream(dir_ + "/config/conf.d/werk.toml") << opts_.config_toml;
    }
    for (const auto& [name, text] : opts_.config_files)
      std::ofstream(dir_ + "/config/conf.d/" + name) << text;
    data_dir_ = opts_.data_dir.empty() ? dir_ + "/data" : opts_.data_dir;
    const std::string binding = opts_.binding.empty() ? "127.0.0.1:0" : opts_.binding;
    std::vector<std::string> argv = {WERKD_PATH, "-b", binding, "-d", data_dir_,
                                     "-c", dir_ + "/config", "-l", "info"};
    // The web UI on a free port too (its default, 7420, would be shared by
    // every server of a suite), unless the test chose one.
    if (std::find(opts_.args.begin(), opts_.args.end(), "-w") == opts_.args.end())
      argv.insert(argv.end(), {"-w", "127.0.0.1:0"});
    argv.insert(argv.end(), opts_.args.begin(), opts_.args.end());
    // WERK_TEST_SHARDS runs every server of a suite with that many shards,
    // unless the test chose its own.
    if (const char* shards = std::getenv("WERK_TEST_SHARDS");
        shards && std::find(opts_.args.begin(), opts_.args.end(), "--shards") == opts_.args.end()) {
      argv.push_back("--shards");
      argv.push_back(shards);
    }
    const std::string log_path = dir_ + "/werkd.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("FAKTORY_ENV", "development", 1);
      ::unsetenv("FAKTORY_PASSWORD");
      for (auto& [k, v] : opts_.env) ::setenv(k.c_str(), v.c_str(), 1);
      FILE* f = std::fopen(log_path.c_str(), "w");
      ::dup2(fileno(f), 2);
      ::dup2(fileno(f), 1);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      std::_Exit(127);
    }
    const std::regex port_re("\\(port ([0-9]+)\\)");
    // A bound on a hang, not a timing: a restart that replays tens of
    // thousands of records under ThreadSanitizer on two busy cores took
    // over 20 s.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      const std::string text = log();
      if (std::regex_search(text, m, port_re)) {
        port_ = std::stoi(m[1]);
        return;
      }
      if (!Alive())
        throw std::runtime_error("werkd exited at start (exit status " +
                                 std::to_string(WEXITSTATUS(exit_status_)) + "):\n" + log());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("werkd did not report its port:\n" + log());
  }

  int Wait(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int status;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        exit_status_ = status;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  Options opts_;
  std::string dir_;
  std::string data_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
};

}  // namespace werk::testing
