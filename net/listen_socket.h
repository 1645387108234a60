#pragma once
// The command port's and the replication port's listening sockets.

#include <string>

#include "core/op_status.h"

namespace werk::net {

// A listening socket's fd for `binding` ("host:port"); `port` receives the
// port it is bound to. One socket for every shard, without SO_REUSEPORT: a
// port any process of the same user could join (and take half the
// connections of) is not ours alone. A port still held by a werkd killed a
// moment ago is retried for a few seconds.
core::OpResult<int> Listen(const std::string& binding, int* port);

}  // namespace werk::net
