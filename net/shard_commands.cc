// Command dispatch and the job commands: PUSH, PUSHB, FETCH, ACK, FAIL.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/job_json.h"
#include "core/json_writer.h"
#include "core/limits.h"
#include "net/command_decoders.h"
#include "net/resp.h"
#include "net/shard_calls.h"

namespace werk::net {

namespace {

// The verb as it may be echoed in an error: bounded and printable.
std::string PrintableVerb(std::string_view verb) {
  constexpr size_t kMax = 64;
  std::string out;
  for (size_t i = 0; i < verb.size() && i < kMax; ++i) {
    const auto ch = static_cast<unsigned char>(verb[i]);
    out.push_back(ch >= 0x20 && ch < 0x7f ? char(ch) : '?');
  }
  if (verb.size() > kMax) out += "...";
  return out;
}

// Faktory cuts `len(VERB)+1` bytes off the line; a bare verb leaves nothing.
std::string_view ArgumentOf(std::string_view line, std::string_view verb) {
  return line.size() > verb.size() ? line.substr(verb.size() + 1) : std::string_view();
}

}  // namespace

// The commands, the busiest first (the lookup is a scan). Adding one is an
// entry here and its handler; what it does to jobs is core::JobService's.
const Shard::Command Shard::kCommands[] = {
    {"PUSH", &Shard::CmdPush, Command::Arg::kAfterSpace, CommandKind::kPush},
    {"FETCH", &Shard::CmdFetch, Command::Arg::kRest, CommandKind::kFetch},
    {"ACK", &Shard::CmdAck, Command::Arg::kAfterSpace, CommandKind::kAck},
    {"FAIL", &Shard::CmdFail, Command::Arg::kAfterSpace, CommandKind::kFail},
    {"BEAT", &Shard::CmdBeat, Command::Arg::kAfterSpace, CommandKind::kBeat},
    {"PUSHB", &Shard::CmdPushBulk, Command::Arg::kAfterSpace, CommandKind::kPushBulk},
    {"INFO", &Shard::CmdInfo, Command::Arg::kAfterSpace, CommandKind::kInfo},
    {"END", &Shard::CmdEnd, Command::Arg::kAfterSpace, CommandKind::kOther},
    {"FLUSH", &Shard::CmdFlush, Command::Arg::kAfterSpace, CommandKind::kOther},
    {"MUTATE", &Shard::CmdMutate, Command::Arg::kAfterSpace, CommandKind::kMutate},
    {"QUEUE", &Shard::CmdQueue, Command::Arg::kRest, CommandKind::kQueue},
    // werk's own (docs/compatibility.md).
    {"PROMOTE", &Shard::CmdPromote, Command::Arg::kAfterSpace, CommandKind::kOther},
    {"WERK", &Shard::CmdWerk, Command::Arg::kAfterSpace, CommandKind::kOther},
    // Faktory Enterprise's: known, refused with a clear error.
    {"BATCH", nullptr, Command::Arg::kAfterSpace, CommandKind::kOther},
    {"TRACK", nullptr, Command::Arg::kAfterSpace, CommandKind::kOther},
};

void Shard::Dispatch(Connection* c, std::string_view line) {
  c->last_command_ms_ = mono_ms();  // the idle timeout's clock (OnIdleTimer)
  // Its latency runs from the wake-up of this iteration (the loop's clock,
  // no clock read per command) until its reply is ready (Release).
  c->command_read_ns_ = runtime_.mono_ns();
  c->command_ = CommandKind::kOther;  // until the verb is known
  const size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  if (shutting_down_) {
    ReplyError(c, "shutdown in progress");
    CloseAfterFlush(c);
    return;
  }
  for (const Command& cmd : kCommands) {
    if (cmd.verb != verb) continue;
    ++stats_.commands;
    c->command_ = cmd.kind;
    if (!cmd.run) {
      return ReplyError(c, std::string(verb) +
                               " is not supported yet by werk (a Faktory Enterprise feature)");
    }
    // kRest: everything after the verb, separator included (" q1 q2").
    const std::string_view arg =
        cmd.arg == Command::Arg::kRest ? line.substr(verb.size()) : ArgumentOf(line, verb);
    return (this->*cmd.run)(c, arg);
  }
  ReplyError(c, "unknown command " + PrintableVerb(verb));
}

void Shard::CmdEnd(Connection* c, std::string_view) { CloseAfterFlush(c); }

// --- PUSH / PUSHB ----------------------------------------------------------------------

void Shard::CmdPush(Connection* c, std::string_view arg) {
  core::JobSpec job;
  if (core::OpStatus s = decoder_.DecodeOne(arg, &job, &field_uses_); !s.ok())
    return ReplyStatus(c, s);
  if (field_uses_.seen != fields_warned_) WarnEnterpriseFields();
  // Validated here by the service; stored by the shard that owns the jid.
  Answer(c, service_.Push(std::move(job)));
}

namespace {

// PUSHB's reply: jid -> error, keys sorted as Go's encoding/json sorts them.
std::string PushBulkReply(core::JobService::Refusals& failures) {
  std::string out = "{";
  std::stable_sort(failures.begin(), failures.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < failures.size(); ++i) {
    if (i + 1 < failures.size() && failures[i + 1].first == failures[i].first) continue;
    if (out.size() > 1) out.push_back(',');
    core::AppendJsonString(out, failures[i].first);
    out.push_back(':');
    core::AppendJsonString(out, failures[i].second);
  }
  out.push_back('}');
  std::string reply;
  AppendBulk(reply, out);
  return reply;
}

}  // namespace

void Shard::CmdPushBulk(Connection* c, std::string_view arg) {
  if (arg.size() > core::kPushBulkDecodeAtOnceBytes) {
    // A long line is decoded a slice at a time too (net/job_decoder.h).
    auto d = std::make_shared<BulkDecode>();
    d->now = now();
    // The line is decoded where it was received when the connection can
    // hand its buffer over (no recv writing into it); otherwise copied.
    size_t offset = 0, capacity = 0;
    MallocBytes block;
    if (!c->recv_inflight_)
      block = c->in_.TakeLineBlock(arg, JobBatchDecoder::kPaddingBytes, &offset, &capacity);
    const core::OpStatus s = block
                                 ? d->decoder.Start(std::move(block), offset, arg.size(), capacity)
                                 : d->decoder.Start(arg);
    if (!s.ok()) return ReplyStatus(c, s);
    return DecodeBulkSlice(c, std::move(d));
  }
  std::vector<core::JobSpec> jobs;
  if (core::OpStatus s = decoder_.DecodeMany(arg, &jobs, &field_uses_); !s.ok())
    return ReplyStatus(c, s);
  if (field_uses_.seen != fields_warned_) WarnEnterpriseFields();
  std::vector<std::vector<core::JobSpec>> chunks;
  chunks.push_back(std::move(jobs));
  StoreBulk(c, std::move(chunks), now());
}

void Shard::StoreBulk(Connection* c, std::vector<std::vector<core::JobSpec>> jobs,
                      core::UnixNanos now) {
  using Stored = core::OpResult<core::JobService::Refusals>;
  AnswerInOrder<Stored>(c, service_.PushBatch(std::move(jobs), now), [this, c](Stored stored) {
    if (!stored.ok()) return ReplyStatus(c, stored.status());
    Reply(c, PushBulkReply(*stored));
  });
}

void Shard::Defer(Connection* c, std::function<void()> fn) {
  // The connection reads nothing further meanwhile, and outlives the wait.
  ++c->inflight_;
  c->awaiting_remote_ = true;
  runtime_.Defer([this, c, fn = std::move(fn)] {
    --c->inflight_;
    c->awaiting_remote_ = false;
    if (c->closing()) return MaybeFinishClose(c);  // its client is gone
    fn();
    if (!c->awaiting_remote_) ProcessInput(c);
  });
}

void Shard::DecodeBulkSlice(Connection* c, std::shared_ptr<BulkDecode> d) {
  const int64_t deadline = clock_.MonotonicNow() + core::kSliceNanos;
  while (!d->decoder.done() && clock_.MonotonicNow() < deadline) {
    // Chunks that never grow past their reserve: no job is moved again.
    if (d->jobs.empty() || d->jobs.back().size() == kBulkChunkJobs) {
      d->jobs.emplace_back();
      d->jobs.back().reserve(kBulkChunkJobs);
    }
    const size_t room = kBulkChunkJobs - d->jobs.back().size();
    const core::OpStatus s = d->decoder.Next(std::min<size_t>(64, room), &d->jobs.back());
    if (!s.ok()) return ReplyStatus(c, s);
  }
  if (!d->decoder.done()) return Defer(c, [this, c, d] { DecodeBulkSlice(c, d); });
  field_uses_.Add(d->decoder.field_uses());
  if (field_uses_.seen != fields_warned_) WarnEnterpriseFields();
  StoreBulk(c, std::move(d->jobs), d->now);
}

void Shard::WarnEnterpriseFields() {
  WarnEnterpriseFieldsOnce(field_uses_.seen & ~fields_warned_);
  fields_warned_ = field_uses_.seen;
}

// --- ACK / FAIL ----------------------------------------------------------------------------

void Shard::CmdAck(Connection* c, std::string_view arg) {
  std::string jid;
  if (core::OpStatus s = DecodeAck(decoder_, arg, &jid); !s.ok()) return ReplyStatus(c, s);
  Answer(c, service_.Ack(std::move(jid)));
}

void Shard::CmdFail(Connection* c, std::string_view arg) {
  FailArgs fail;
  if (core::OpStatus s = DecodeFail(decoder_, arg, &fail); !s.ok()) return ReplyStatus(c, s);
  Answer(c, service_.Fail(std::move(fail)));
}

}  // namespace werk::net
