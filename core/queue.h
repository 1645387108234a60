#pragma once
// One named queue: a FIFO of jobs. New and re-enqueued jobs join at the back,
// FETCH takes from the front (the oldest job first).

#include <string>

#include "core/intrusive_list.h"
#include "core/job.h"

namespace werk::core {

class Queue {
 public:
  explicit Queue(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  size_t size() const { return jobs_.size(); }
  bool empty() const { return jobs_.empty(); }
  bool paused() const { return paused_; }
  void set_paused(bool p) { paused_ = p; }
  // Removed by QUEUE REMOVE or FLUSH: its jobs are garbage (core/graveyard.h).
  bool removed() const { return removed_; }
  void MarkRemoved() { removed_ = true; }
  Job* Front() const { return jobs_.Front(); }
  Job* Back() const { return jobs_.Back(); }
  Job* Next(const Job* j) const { return jobs_.Next(j); }
  void PushBack(Job* j) { jobs_.PushBack(j); }
  void Remove(Job* j) { jobs_.Remove(j); }
  Job* PopFront() { return jobs_.PopFront(); }

 private:
  std::string name_;
  IntrusiveList<Job, QueueTag> jobs_;
  bool paused_ = false;
  bool removed_ = false;
};

}  // namespace werk::core
