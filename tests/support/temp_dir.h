#pragma once
// A fresh directory under /tmp for one test, removed with everything in it
// when the test is done.

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace werk::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "werk-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace werk::testing
