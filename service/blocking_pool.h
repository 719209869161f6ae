// A fixed pool of threads for calls that block (engine writes wait for their
// WAL fsync). gRPC's callback threads are few (about one per core); running
// a write inline holds one of them for a whole fsync, which caps concurrent
// writers at the number of cores and so defeats RocksDB's group commit.
// Handing writes to this pool lets many of them wait on one shared fsync.
//
// Thread-safety: Run may be called from any thread. The destructor runs the
// tasks already queued, then joins.
#ifndef PA_MATCH_SERVICE_BLOCKING_POOL_H_
#define PA_MATCH_SERVICE_BLOCKING_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pamatch {

class BlockingPool {
 public:
  explicit BlockingPool(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }
  ~BlockingPool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    ready_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void Run(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    ready_.notify_one();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // stopping, nothing left
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mu_)
  bool stop_ = false;                        // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_BLOCKING_POOL_H_
