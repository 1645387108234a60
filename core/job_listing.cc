#include "core/job_listing.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "core/job_json.h"
#include "core/mutate_filter.h"

namespace werk::core {

namespace {

SetTarget SetOf(ListTarget t) {
  switch (t) {
    case ListTarget::kScheduled: return SetTarget::kScheduled;
    case ListTarget::kDead: return SetTarget::kDead;
    default: return SetTarget::kRetries;
  }
}

// A glob matches each job's rendered JSON, ~3 us a job against ~70 ns for a
// jobtype or jid compare (bench/job_listing_bench.cc): with the default
// bound it looks at a tenth as many entries (~30 ms, not 300 ms, per shard
// per call). A bound set by the caller (tests) holds as given.
constexpr size_t kListGlobScanMax = kListScanMax / 10;

size_t ScanBound(const ListRequest& req) {
  if (req.scan_max != kListScanMax) return req.scan_max;
  const bool glob = req.filter && req.filter->jids.empty() && !req.filter->regexp.empty();
  return glob ? kListGlobScanMax : kListScanMax;
}

// Collects the entries of one shard in key order, starting after the
// cursor, until `limit` matched or the scan bound is reached.
class Collector {
 public:
  Collector(const ListRequest& req, ListPart* out)
      : req_(req), matcher_(req.filter), out_(out), scan_max_(ScanBound(req)) {}

  // False once the part is complete (limit reached or scan bound hit).
  bool Offer(const Job& job, const ListKey& key) {
    if (req_.filter && ++scanned_ > scan_max_) {
      out_->scanned_to = last_;
      return false;
    }
    last_ = key;
    if (!req_.filter || matcher_.Matches(job)) {
      ListedJob row;
      row.key = key;
      AppendJobJson(row.json, job);
      out_->rows.push_back(std::move(row));
    }
    return out_->rows.size() < req_.limit;
  }

 private:
  const ListRequest& req_;
  MutateMatcher matcher_;
  ListPart* out_;
  size_t scan_max_;
  size_t scanned_ = 0;
  ListKey last_;
};

void ListSet(const JobSet& set, uint32_t shard, const ListRequest& req, ListPart* out) {
  out->total = set.size();
  auto it = set.begin();
  if (req.after) {
    // The first entry whose (time, shard, seq) follows the cursor's.
    const ListKey& c = *req.after;
    if (shard > c.shard) {
      it = set.lower_bound(SetPosition{c.time, 0});
    } else if (shard < c.shard) {
      if (c.time == std::numeric_limits<UnixNanos>::max()) return;
      it = set.lower_bound(SetPosition{c.time + 1, 0});
    } else {
      it = set.upper_bound(SetPosition{c.time, c.seq});
    }
  }
  if (req.limit == 0) return;
  Collector collect(req, out);
  for (; it != set.end(); ++it) {
    const Job* j = *it;
    if (!collect.Offer(*j, ListKey{j->set_key, shard, j->seq()})) return;
  }
}

void ListQueue(const StateMachine& sm, uint32_t shard, const ListRequest& req, ListPart* out) {
  const Queue* q = sm.FindQueue(req.queue);
  if (!q || q->removed()) return;
  out->total = q->size();
  if (req.limit == 0) return;
  auto key_of = [shard](const Job* j) {
    return ListKey{j->enqueued_at, shard, uint64_t(j->set_key)};  // set_key: queue position
  };
  const Job* j = q->Front();
  // Past the cursor: a walk, the queue being a list (core/job_listing.h).
  if (req.after)
    while (j && key_of(j) <= *req.after) j = q->Next(j);
  Collector collect(req, out);
  for (; j; j = q->Next(j))
    if (!collect.Offer(*j, key_of(j))) return;
}

}  // namespace

std::string FormatCursor(const ListKey& k) {
  return std::to_string(k.time) + "." + std::to_string(k.shard) + "." + std::to_string(k.seq);
}

OpResult<ListKey> ParseCursor(std::string_view s) {
  const OpStatus bad = InvalidRequest("bad cursor: pass back the cursor of the previous page");
  ListKey k;
  const char* p = s.data();
  const char* end = s.data() + s.size();
  auto number = [&](auto& v, bool last) {
    auto [q, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || q == p) return false;
    p = q;
    if (last) return p == end;
    if (p == end || *p != '.') return false;
    ++p;
    return true;
  };
  if (s.empty() || s[0] == '-' || !number(k.time, false) || !number(k.shard, false) ||
      !number(k.seq, true))
    return bad;
  return k;
}

ListPart ListShard(const StateMachine& sm, uint32_t shard, const ListRequest& req) {
  ListPart out;
  if (req.target == ListTarget::kQueue) {
    ListQueue(sm, shard, req, &out);
  } else {
    ListSet(sm.Set(SetOf(req.target)), shard, req, &out);
  }
  return out;
}

JobPage MergeListParts(std::vector<ListPart> parts, size_t limit) {
  JobPage page;
  std::optional<ListKey> bound;  // the least point a shard's scan stopped at
  for (ListPart& part : parts) {
    page.total += part.total;
    if (part.scanned_to && (!bound || *part.scanned_to < *bound)) bound = part.scanned_to;
    for (ListedJob& row : part.rows) page.rows.push_back(std::move(row));
  }
  std::sort(page.rows.begin(), page.rows.end(),
            [](const ListedJob& a, const ListedJob& b) { return a.key < b.key; });
  // Past the bound, a shard that stopped scanning may hold entries not seen
  // yet: the page ends there.
  if (bound) {
    auto past = std::find_if(page.rows.begin(), page.rows.end(),
                             [&](const ListedJob& r) { return r.key > *bound; });
    page.rows.erase(past, page.rows.end());
  }
  if (page.rows.size() > limit) page.rows.resize(limit);
  if (limit > 0 && page.rows.size() == limit) {
    page.next = page.rows.back().key;
  } else if (bound) {
    page.next = bound;
  }
  return page;
}

}  // namespace werk::core
