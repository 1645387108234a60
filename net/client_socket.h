#pragma once
// Options every accepted client socket gets before its first byte is sent.

#include <string>

namespace werk::net {

// TCP_NODELAY (replies are small and must not wait for Nagle), and TCP
// keepalive with core::kKeepAlive* (first probe after 60 s of silence, then
// every 15 s, reset after 4 unanswered: a peer that vanished without a FIN —
// a crashed host, a dropped NAT entry — frees its slot within about two
// minutes instead of holding it forever). Returns false if the kernel refused
// one of them (the socket still works, only without that option).
bool ConfigureClientSocket(int fd);

// The peer's address as "host:port" ("[v6]:port"), for log lines; "?" when
// the kernel cannot tell (the peer is already gone).
std::string PeerAddress(int fd);

}  // namespace werk::net
