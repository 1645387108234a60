#pragma once
// A circular doubly-linked intrusive list. Hooks are base classes of the
// objects they link (jobs, timers, waiters), so linking and unlinking never
// allocate and removal from the middle is O(1). One object can sit on several
// lists at once by deriving from ListHook<Tag> once per tag.

#include <cstddef>

#include "core/check.h"

namespace werk::core {

struct ListNode {
  ListNode* prev = nullptr;
  ListNode* next = nullptr;
  bool linked() const { return next != nullptr; }
  void Unlink() {
    WERK_DCHECK(linked());
    prev->next = next;
    next->prev = prev;
    prev = next = nullptr;
  }
};

template <typename Tag>
struct ListHook : ListNode {
  bool in_list() const { return linked(); }
};

// The list does not own its elements. `T` must derive from ListHook<Tag>.
template <typename T, typename Tag>
class IntrusiveList {
  using Hook = ListHook<Tag>;

 public:
  IntrusiveList() { head_.prev = head_.next = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_.next == &head_; }
  size_t size() const { return size_; }

  void PushBack(T* t) { InsertBefore(&head_, static_cast<Hook*>(t)); }
  void PushFront(T* t) { InsertBefore(head_.next, static_cast<Hook*>(t)); }
  T* Front() const { return empty() ? nullptr : Owner(head_.next); }
  T* Back() const { return empty() ? nullptr : Owner(head_.prev); }
  T* PopFront() {
    if (empty()) return nullptr;
    T* t = Owner(head_.next);
    Remove(t);
    return t;
  }
  void Remove(T* t) {
    WERK_DCHECK(size_ > 0);
    static_cast<Hook*>(t)->Unlink();
    --size_;
  }
  // Iteration: Next(nullptr) is the first element; nullptr marks the end.
  T* Next(const T* t) const {
    const ListNode* n = t ? static_cast<const Hook*>(t)->next : head_.next;
    return n == &head_ ? nullptr : Owner(n);
  }
  // Empties the list in O(1) without unlinking its elements: for a flush,
  // whose elements are freed as they are (their hooks never read again).
  void Forget() {
    head_.prev = head_.next = &head_;
    size_ = 0;
  }
  // Moves every element of `other` to the back of this list.
  void Splice(IntrusiveList& other) {
    if (other.empty()) return;
    ListNode* first = other.head_.next;
    ListNode* last = other.head_.prev;
    first->prev = head_.prev;
    head_.prev->next = first;
    last->next = &head_;
    head_.prev = last;
    size_ += other.size_;
    other.head_.prev = other.head_.next = &other.head_;
    other.size_ = 0;
  }

 private:
  static T* Owner(const ListNode* n) {
    return static_cast<T*>(static_cast<Hook*>(const_cast<ListNode*>(n)));
  }
  void InsertBefore(ListNode* pos, ListNode* n) {
    WERK_DCHECK(!n->linked());
    n->prev = pos->prev;
    n->next = pos;
    pos->prev->next = n;
    pos->prev = n;
    ++size_;
  }

  ListNode head_;
  size_t size_ = 0;
};

}  // namespace werk::core
