// The replication link over a real socket pair on one io_uring: messages of
// every size cross whole and in order both ways, however the kernel splits
// them; a bad message or an owner's error ends the link with an ERROR the
// peer can read; the peer closing ends it; the window opens again.

#include "net/replication_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/reactor.h"

namespace werk::net {
namespace {

struct End {
  std::vector<wal::Message> got;
  std::vector<std::string> owned;  // the messages' bytes outlive the recv buffer
  absl::Status closed_with = absl::OkStatus();
  bool closed = false;
  int writable = 0;
  absl::Status reply = absl::OkStatus();  // what on_message returns
  std::unique_ptr<ReplicationSocket> link;
};

class ReplicationSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a_.link = Make(a_, fds[0]);
    raw_peer_ = fds[1];
  }
  void TearDown() override {
    if (raw_peer_ >= 0) ::close(raw_peer_);
    if (a_.link && !a_.link->closed()) {
      a_.link->Close(absl::OkStatus());
      Run([&] { return a_.closed; });
    }
  }
  std::unique_ptr<ReplicationSocket> Make(End& e, int fd) {
    ReplicationSocket::Handler h;
    h.on_message = [&e](const wal::Message& m) {
      if (const auto* r = std::get_if<wal::Records>(&m.body)) {
        e.owned.emplace_back(r->frames);
      }
      e.got.push_back(m);
      return e.reply;
    };
    h.on_writable = [&e] { ++e.writable; };
    h.on_closed = [&e](const absl::Status& st) {
      e.closed = true;
      e.closed_with = st;
    };
    return std::make_unique<ReplicationSocket>(&reactor_, fd, std::move(h), core::Epoch(1));
  }
  template <typename Done>
  void Run(Done done) {
    for (int i = 0; i < 2000 && !done(); ++i) reactor_.Poll(1'000'000);
  }
  // Everything the raw peer can read now (non-blocking).
  std::string Drain() {
    std::string out;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(raw_peer_, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      out.append(buf, size_t(n));
    }
    return out;
  }

  core::Reactor reactor_;
  End a_;
  int raw_peer_ = -1;
};

TEST_F(ReplicationSocketTest, MessagesArriveWholeHoweverTheBytesAreSplit) {
  a_.link->Start();
  std::string bytes;
  for (uint64_t i = 1; i <= 50; ++i)
    wal::AppendMessage(bytes, core::Epoch(1), wal::Ack{core::Lsn(i), core::Lsn(i)});
  // A heartbeat sent a byte at a time, then the rest in one go.
  std::string hb;
  wal::AppendMessage(hb, core::Epoch(1), wal::Heartbeat{5, core::Lsn(7), core::Lsn(8)});
  for (char c : hb) {
    ASSERT_EQ(::send(raw_peer_, &c, 1, 0), 1);
    reactor_.Poll(0);
  }
  ASSERT_EQ(::send(raw_peer_, bytes.data(), bytes.size(), 0), ssize_t(bytes.size()));
  Run([&] { return a_.got.size() == 51; });
  ASSERT_EQ(a_.got.size(), 51u);
  EXPECT_TRUE(std::holds_alternative<wal::Heartbeat>(a_.got[0].body));
  for (uint64_t i = 1; i <= 50; ++i)
    EXPECT_EQ(std::get<wal::Ack>(a_.got[i].body).synced_lsn, core::Lsn(i));
  EXPECT_FALSE(a_.closed);
}

TEST_F(ReplicationSocketTest, AMessageLargerThanTheReceiveBufferArrivesWhole) {
  a_.link->Start();
  std::string bytes;
  const std::string big(3u << 20, 'x');
  wal::AppendMessage(bytes, core::Epoch(1), wal::Error{wal::ErrorCode::kUnavailable, "bye"});
  wal::AppendMessage(bytes, core::Epoch(1), wal::CheckpointChunk{0, "abc", false});
  // Several chunks of 1 MiB in one stream of 3 MiB and more.
  for (int i = 0; i < 3; ++i)
    wal::AppendMessage(bytes, core::Epoch(1),
                       wal::CheckpointChunk{uint64_t(i) << 20,
                                            std::string_view(big).substr(0, 1u << 20), i == 2});
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(raw_peer_, bytes.data() + off, bytes.size() - off, MSG_DONTWAIT);
    if (n > 0) off += size_t(n);
    reactor_.Poll(0);
  }
  Run([&] { return a_.got.size() == 5; });
  ASSERT_EQ(a_.got.size(), 5u);
  EXPECT_TRUE(std::get<wal::CheckpointChunk>(a_.got[4].body).last);
}

TEST_F(ReplicationSocketTest, OutgoingMessagesLeaveInOrderAndTheWindowOpensAgain) {
  a_.link->Start();
  std::string expected;
  for (uint64_t i = 1; i <= 2000; ++i) {
    wal::AppendMessage(a_.link->outbox(), core::Epoch(1),
                       wal::Heartbeat{int64_t(i), core::Lsn(i), core::Lsn(i)});
    if (i % 100 == 0) a_.link->Flush();
  }
  for (uint64_t i = 1; i <= 2000; ++i)
    wal::AppendMessage(expected, core::Epoch(1),
                       wal::Heartbeat{int64_t(i), core::Lsn(i), core::Lsn(i)});
  std::string got;
  for (int i = 0; i < 2000 && got.size() < expected.size(); ++i) {
    reactor_.Poll(1'000'000);
    got += Drain();
  }
  EXPECT_EQ(got, expected);
  Run([&] { return a_.link->unsent_bytes() == 0 && a_.writable > 0; });
  EXPECT_EQ(a_.link->unsent_bytes(), 0u);
  EXPECT_GT(a_.writable, 0);
}

TEST_F(ReplicationSocketTest, ABadMessageEndsTheLinkWithAnErrorThePeerCanRead) {
  a_.link->Start();
  std::string bytes;
  wal::AppendMessage(bytes, core::Epoch(1), wal::Ack{core::Lsn(1), core::Lsn(1)});
  bytes[bytes.size() - 1] ^= 1;  // the hash
  ASSERT_EQ(::send(raw_peer_, bytes.data(), bytes.size(), 0), ssize_t(bytes.size()));
  Run([&] { return a_.closed; });
  ASSERT_TRUE(a_.closed);
  EXPECT_TRUE(absl::IsInvalidArgument(a_.closed_with)) << a_.closed_with;
  EXPECT_TRUE(a_.got.empty());
  const std::string reply = Drain();
  wal::DecodeResult r = wal::DecodeMessage(reply);
  ASSERT_EQ(r.outcome, wal::DecodeResult::Outcome::kMessage);
  const auto& err = std::get<wal::Error>(r.message.body);
  EXPECT_NE(err.text.find("bad message"), std::string_view::npos) << err.text;
}

TEST_F(ReplicationSocketTest, TheOwnersErrorEndsTheLinkAndLaterMessagesAreNotHandled) {
  a_.reply = absl::FailedPreconditionError("the logs disagree at LSN 4");
  a_.link->Start();
  std::string bytes;
  wal::AppendMessage(bytes, core::Epoch(1), wal::Ack{core::Lsn(1), core::Lsn(1)});
  wal::AppendMessage(bytes, core::Epoch(1), wal::Ack{core::Lsn(2), core::Lsn(2)});
  ASSERT_EQ(::send(raw_peer_, bytes.data(), bytes.size(), 0), ssize_t(bytes.size()));
  Run([&] { return a_.closed; });
  ASSERT_TRUE(a_.closed);
  EXPECT_EQ(a_.got.size(), 1u);
  EXPECT_EQ(a_.closed_with.message(), "the logs disagree at LSN 4");
  const std::string reply = Drain();  // the decoded message's views point into it
  wal::DecodeResult r = wal::DecodeMessage(reply);
  ASSERT_EQ(r.outcome, wal::DecodeResult::Outcome::kMessage);
  EXPECT_EQ(std::get<wal::Error>(r.message.body).text, "the logs disagree at LSN 4");
}

TEST_F(ReplicationSocketTest, ThePeerClosingEndsTheLink) {
  a_.link->Start();
  ::close(raw_peer_);
  raw_peer_ = -1;
  Run([&] { return a_.closed; });
  ASSERT_TRUE(a_.closed);
  EXPECT_TRUE(absl::IsUnavailable(a_.closed_with)) << a_.closed_with;
  a_.link.reset();  // no request of it is left in the ring
}

TEST_F(ReplicationSocketTest, MessagesReadBeforeTheLinkTookOverAreHandledFirst) {
  std::string early;
  wal::AppendMessage(early, core::Epoch(1), wal::Ack{core::Lsn(3), core::Lsn(3)});
  std::string partial;
  wal::AppendMessage(partial, core::Epoch(1), wal::Ack{core::Lsn(4), core::Lsn(4)});
  early += partial.substr(0, 5);
  a_.link->Start(early);
  ASSERT_EQ(a_.got.size(), 1u);
  ASSERT_EQ(::send(raw_peer_, partial.data() + 5, partial.size() - 5, 0),
            ssize_t(partial.size() - 5));
  Run([&] { return a_.got.size() == 2; });
  ASSERT_EQ(a_.got.size(), 2u);
  EXPECT_EQ(std::get<wal::Ack>(a_.got[1].body).synced_lsn, core::Lsn(4));
}

}  // namespace
}  // namespace werk::net
