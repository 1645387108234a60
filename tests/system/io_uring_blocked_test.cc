// werkd cannot run without io_uring, and the default seccomp profile of
// recent container runtimes refuses its system calls with EPERM. Started
// under such a filter, werkd must exit non-zero and say why, naming
// io_uring and seccomp (docs/running.md, "Containers and Kubernetes").

#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace werk::testing {
namespace {

namespace fs = std::filesystem;

#if defined(__x86_64__)

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif

// The child's exit status when it could not install the filter (the
// sandbox the tests run in forbids it): the test is skipped, not failed.
constexpr int kNoSeccomp = 125;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs werkd with io_uring_setup refused (EPERM, as Docker's and
// containerd's default profiles do) and returns its wait status, or -1 if
// it started serving or did not exit within the timeout (it was then
// killed).
int RunWerkdWithoutIoUring(const std::string& root, const std::string& log_path) {
  std::vector<std::string> args = {WERKD_PATH, "-b", "127.0.0.1:0", "-w", "127.0.0.1:0",
                                   "-d",       root + "/data",  "-c", root + "/config",
                                   "-l",       "info"};
  if (const char* shards = std::getenv("WERK_TEST_SHARDS")) {
    args.push_back("--shards");
    args.push_back(shards);
  }
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view kv(*e);
    if (kv.starts_with("FAKTORY_PASSWORD=") || kv.starts_with("FAKTORY_ENV=")) continue;
    env.emplace_back(kv);
  }
  env.push_back("FAKTORY_ENV=development");
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  // Arch first: on any other ABI the syscall numbers mean something else,
  // so everything is allowed; on x86_64, io_uring_setup fails with EPERM.
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{.len = static_cast<unsigned short>(sizeof filter / sizeof filter[0]),
                  .filter = filter};

  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      static const char msg[] = "cannot install the seccomp filter\n";
      (void)!::write(2, msg, sizeof msg - 1);
      ::_exit(kNoSeccomp);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid < 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    if (ReadFile(log_path).find("werk listening") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  int status;
  ::waitpid(pid, &status, 0);
  return -1;
}

TEST(IoUringBlocked, StartFailsNamingIoUringAndSeccomp) {
  char tmpl[] = "/tmp/werk-nouring-XXXXXX";
  const std::string root = ::mkdtemp(tmpl);
  fs::create_directories(root + "/config/conf.d");
  const std::string log_path = root + "/werkd.log";

  const int status = RunWerkdWithoutIoUring(root, log_path);
  const std::string log = ReadFile(log_path);
  fs::remove_all(root);

  if (WIFEXITED(status) && WEXITSTATUS(status) == kNoSeccomp &&
      log.find("cannot install the seccomp filter") != std::string::npos)
    GTEST_SKIP() << "seccomp filters cannot be installed here";
  ASSERT_NE(status, -1) << "werkd did not stop at start without io_uring:\n" << log;
  ASSERT_TRUE(WIFEXITED(status)) << "werkd died of a signal (status " << status << "):\n" << log;
  EXPECT_NE(WEXITSTATUS(status), 0) << log;
  EXPECT_EQ(log.find("listening"), std::string::npos) << log;
  EXPECT_NE(log.find("io_uring"), std::string::npos) << log;
  EXPECT_NE(log.find("seccomp"), std::string::npos) << log;
  EXPECT_NE(log.find(std::strerror(EPERM)), std::string::npos) << log;
}

#else

TEST(IoUringBlocked, StartFailsNamingIoUringAndSeccomp) {
  GTEST_SKIP() << "the seccomp filter of this test is written for x86_64";
}

#endif

}  // namespace
}  // namespace werk::testing
