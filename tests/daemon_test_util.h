// A real pa-matchd process for tests that run the binary (needs the
// PA_MATCHD_PATH compile definition: $<TARGET_FILE:pa-matchd>).
#ifndef PA_MATCH_TESTS_DAEMON_TEST_UTIL_H_
#define PA_MATCH_TESTS_DAEMON_TEST_UTIL_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include "gtest/gtest.h"
#include "tests/service_test_util.h"

extern char** environ;

namespace pamatch::testing {

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// One pa-matchd process with stdout and stderr captured in files. Killed
// with SIGKILL on destruction if still running.
class Daemon {
 public:
  Daemon(const std::string& work_dir, std::vector<std::string> args)
      : out_path_(work_dir + "/stdout." + std::to_string(++runs_)),
        err_path_(work_dir + "/stderr." + std::to_string(runs_)) {
    args.insert(args.begin(), PA_MATCHD_PATH);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, out_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&files, 2, err_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, PA_MATCHD_PATH, &files, nullptr, argv.data(),
                    environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&files);
  }
  ~Daemon() {
    if (running()) Signal(SIGKILL);
    Wait(std::chrono::seconds(30));
  }

  bool running() const { return pid_ > 0 && exit_status_ < 0; }
  // The process id (-1 if it could not be started).
  pid_t pid() const { return pid_; }
  std::string out() const { return ReadAll(out_path_); }
  std::string err() const { return ReadAll(err_path_); }
  void Signal(int signal) { ::kill(pid_, signal); }
  // host:port it listens on, once WaitServing has seen it ("" before).
  const std::string& address() const { return address_; }

  // Waits for the process to end; its waitpid status, or -1 on timeout.
  int Wait(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && exit_status_ < 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_status_ = status;
      } else if (std::chrono::steady_clock::now() > deadline) {
        return -1;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    return exit_status_;
  }

  // Waits until pa-matchd logs its port and reports SERVING; returns a
  // channel to it (made with `credentials` and `args`: plaintext by
  // default), or nullptr (with the log in the failure message).
  std::shared_ptr<grpc::Channel> WaitServing(
      std::shared_ptr<grpc::ChannelCredentials> credentials =
          grpc::InsecureChannelCredentials(),
      const grpc::ChannelArguments& args = {}) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::shared_ptr<grpc::Channel> channel;
    while (std::chrono::steady_clock::now() < deadline &&
           Wait(std::chrono::seconds(0)) < 0) {
      if (channel == nullptr) {
        const std::string log = err();
        // "... listening on 127.0.0.1:PORT (health ..."
        const std::string marker = "listening on ";
        const size_t at = log.find(marker);
        const size_t end = log.find(' ', at + marker.size());
        if (at != std::string::npos && end != std::string::npos) {
          address_ = log.substr(at + marker.size(), end - at - marker.size());
          channel = grpc::CreateCustomChannel(address_, credentials, args);
        }
      }
      if (channel != nullptr && CheckHealth(channel, "") == kHealthServing) {
        return channel;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "pa-matchd not serving; stderr:\n" << err();
    return nullptr;
  }

 private:
  static inline int runs_ = 0;
  const std::string out_path_, err_path_;
  std::string address_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

}  // namespace pamatch::testing

#endif  // PA_MATCH_TESTS_DAEMON_TEST_UTIL_H_
