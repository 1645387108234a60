// Fencing's pure parts and the notifier's message flow
// (docs/replication.md "Fencing"): the backoff between attempts, the
// epoch question a primary asks first of a standby, the holder's address,
// the DEPOSED marker, and a notice delivered to a real acceptor (the old
// primary's replication port) over loopback.

#include "net/epoch_notifier.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "net/deposition_marker.h"
#include "net/replication_acceptor.h"
#include "net/replication_primary.h"
#include "tests/support/temp_dir.h"

namespace werk::net {
namespace {

TEST(NotifierBackoff, DoublesFromTheFirstDelayUpToTheBound) {
  const NotifierBackoff b{250, 5'000};
  EXPECT_EQ(b.DelayMs(0), 0);  // the first attempt at once
  EXPECT_EQ(b.DelayMs(1), 250);
  EXPECT_EQ(b.DelayMs(2), 500);
  EXPECT_EQ(b.DelayMs(3), 1'000);
  EXPECT_EQ(b.DelayMs(5), 4'000);
  EXPECT_EQ(b.DelayMs(6), 5'000);
  EXPECT_EQ(b.DelayMs(1'000'000), 5'000);  // an old primary cut off for days
}

TEST(DecideEpoch, OnlyANewerEpochDeposesThePrimary) {
  const StandbyPosition same{core::Lsn(9), core::Epoch(3), core::Epoch(3)};
  EXPECT_FALSE(DecideEpoch(core::Epoch(3), same, "").has_value());
  const StandbyPosition older{core::Lsn(9), core::Epoch(2), core::Epoch(2)};
  EXPECT_FALSE(DecideEpoch(core::Epoch(3), older, "").has_value());
  const StandbyPosition newer{core::Lsn(0), core::Epoch(0), core::Epoch(4)};
  const std::optional<WelcomeDecision> d = DecideEpoch(core::Epoch(3), newer, "10.0.0.2:7500");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->decision, wal::WelcomeDecision::kRefused);
  EXPECT_NE(d->text.find("epoch 4, newer than this primary's 3"), std::string::npos) << d->text;
  EXPECT_NE(d->text.find("the primary is 10.0.0.2:7500"), std::string::npos) << d->text;
}

TEST(HolderAddress, AWildcardHostIsTheHostTheNoticeCameFrom) {
  EXPECT_EQ(HolderAddress("10.0.0.2:7500", "10.0.0.9:41234"), "10.0.0.2:7500");
  EXPECT_EQ(HolderAddress("0.0.0.0:7500", "10.0.0.9:41234"), "10.0.0.9:7500");
  EXPECT_EQ(HolderAddress(":7500", "10.0.0.9:41234"), "10.0.0.9:7500");
  EXPECT_EQ(HolderAddress("[::]:7500", "10.0.0.9:41234"), "10.0.0.9:7500");
  EXPECT_EQ(HolderAddress("", "10.0.0.9:41234"), "");
}

TEST(DeposedMarker, RoundTripsAndRefusesAStartAsPrimary) {
  const DeposedMarker m{7, "10.0.0.2:7500", "2026-12-03T09:00:00Z"};
  EXPECT_EQ(ParseDeposedMarker(FormatDeposedMarker(m)), m);
  EXPECT_FALSE(ParseDeposedMarker("epoch 7\nprimary x\n").has_value());  // no when
  EXPECT_FALSE(ParseDeposedMarker("epoch x\nprimary x\nwhen y\n").has_value());
  EXPECT_FALSE(ParseDeposedMarker("epoch 7\nprimary x\nwhen y").has_value());  // cut
  werk::testing::TempDir dir;
  ASSERT_FALSE(ReadDeposedMarker(dir.path())->has_value());
  ASSERT_TRUE(WriteDeposedMarker(dir.path(), m).ok());
  auto read = ReadDeposedMarker(dir.path());
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ(**read, m);
  const std::string why = DeposedStartRefusal(dir.path(), m);
  EXPECT_NE(why.find("deposed by epoch 7"), std::string::npos) << why;
  EXPECT_NE(why.find("restart it with --replica-of 10.0.0.2:7500"), std::string::npos) << why;
  ASSERT_TRUE(RemoveDeposedMarker(dir.path()).ok());
  EXPECT_FALSE(ReadDeposedMarker(dir.path())->has_value());
  EXPECT_TRUE(RemoveDeposedMarker(dir.path()).ok());  // none: nothing to do
}

// A listening socket on 127.0.0.1 and its port.
int ListenLoopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// The old primary's port: proven links are refused at once, as a deposed
// shard does, and the epochs they knew are counted.
struct OldPrimaryPort {
  explicit OldPrimaryPort(std::string password, uint64_t epoch) {
    const int fd = ListenLoopback(&port);
    acceptor = std::make_unique<ReplicationAcceptor>(
        fd, ReplicationAcceptor::Settings{std::move(password), "c1", 2},
        [epoch] { return core::Epoch(epoch); },
        [this](ProvenStandby link) {
          heard_epoch = link.handshake->standby().highest_epoch.value();
          holder = link.handshake->epoch_holder();
          std::string out;
          link.handshake->Welcome({wal::WelcomeDecision::kRefused, core::Lsn(0), 0, "deposed"},
                                  out);
          (void)!::send(link.fd.get(), out.data(), out.size(), MSG_NOSIGNAL);
        });
    acceptor->Start();
  }
  int port = 0;
  std::unique_ptr<ReplicationAcceptor> acceptor;
  std::atomic<uint64_t> heard_epoch{0};
  std::string holder;  // read once the acceptor's thread is joined
};

NoticeSettings Notice(int port, std::string password) {
  return NoticeSettings{"127.0.0.1:" + std::to_string(port), std::move(password), "c1", 2,
                        core::Epoch(4), "10.0.0.2:7500", 5'000};
}

TEST(DeliverEpochNotice, TheOldPrimaryHearsTheEpochAndItsHolderAndAnswersWithItsProof) {
  OldPrimaryPort old("pw", 3);
  core::Epoch peer(0);
  absl::StatusOr<NoticeOutcome> r = DeliverEpochNotice(Notice(old.port, "pw"), &peer);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, NoticeOutcome::kDelivered);
  EXPECT_EQ(peer, core::Epoch(3));
  old.acceptor->Stop();
  EXPECT_EQ(old.heard_epoch.load(), 4u);
  EXPECT_EQ(old.holder, "10.0.0.2:7500");
}

TEST(DeliverEpochNotice, APeerThatIsNotOlderHearsNothing) {
  OldPrimaryPort same("pw", 4);
  core::Epoch peer(0);
  absl::StatusOr<NoticeOutcome> r = DeliverEpochNotice(Notice(same.port, "pw"), &peer);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, NoticeOutcome::kPeerNotOlder);
  same.acceptor->Stop();
  EXPECT_EQ(same.heard_epoch.load(), 0u);  // no proven link reached a shard
}

TEST(DeliverEpochNotice, AWrongPasswordDeliversNothing) {
  OldPrimaryPort old("pw", 3);
  core::Epoch peer(0);
  absl::StatusOr<NoticeOutcome> r = DeliverEpochNotice(Notice(old.port, "not-it"), &peer);
  EXPECT_TRUE(absl::IsUnauthenticated(r.status())) << r.status();
  old.acceptor->Stop();
  EXPECT_EQ(old.heard_epoch.load(), 0u);
}

TEST(DeliverEpochNotice, NobodyListeningIsAnErrorToRetry) {
  int port = 0;
  ::close(ListenLoopback(&port));  // a port nobody listens on now
  core::Epoch peer(0);
  absl::StatusOr<NoticeOutcome> r = DeliverEpochNotice(Notice(port, "pw"), &peer);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace werk::net
