#pragma once
// One connection's TLS, on memory BIOs: the socket I/O stays the shard's
// (recv and send through its io_uring), and this class only turns bytes
// into bytes. Ciphertext received is fed in (Feed), plaintext comes out
// (Read); plaintext to send goes in (Write), ciphertext to send comes out
// (TakeOutput). The handshake runs inside Read and Write, so the loop that
// moves the bytes drives it and nothing ever blocks.
//
//   socket --recv--> Feed --> [ in BIO ] --SSL_read--> Read --> plaintext
//   socket <--send-- TakeOutput <-- [ out BIO ] <--SSL_write-- Write <-- plaintext
//
// Owned by one connection, used on its shard's thread only. The server side
// (werkd) and the client side (tests) are the same class.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;          // <openssl/ssl.h>
typedef struct ssl_ctx_st SSL_CTX;  // kept out of this header
typedef struct bio_st BIO;

namespace werk::net {

class TlsSession {
 public:
  enum class Side : uint8_t { kServer, kClient };
  enum class Result : uint8_t {
    kOk,         // Read: bytes came out; Write: all of it is encrypted
    kWantInput,  // needs more ciphertext from the peer (a handshake reply may be in the output)
    kClosed,     // Read: the peer ended the session cleanly (close_notify)
    kFailed,     // protocol error or verification failure: error() says which; the
                 // output may hold an alert worth sending before closing
  };
  // Received ciphertext is read into recv_buffer(), this many bytes at a
  // time: one full TLS record's payload, so a big reply arrives in few reads.
  static constexpr size_t kRecvBytes = 16 << 10;

  // `ctx` must outlive the session. A client session that should check the
  // server's name is given it with SSL_set1_host on ssl() before the first
  // Read or Write.
  TlsSession(SSL_CTX* ctx, Side side);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  SSL* ssl() const { return ssl_; }

  // Where the next recv writes its ciphertext (kRecvBytes of it), and the
  // handing over of the `n` bytes it brought. Allocated on first use.
  char* recv_buffer();
  void Feed(size_t n) { Feed(recv_buffer(), n); }
  // Ciphertext from the peer, from anywhere.
  void Feed(const char* data, size_t n);

  // Advances the handshake, then decrypts up to `cap` (> 0) bytes into
  // `dst`; `*n` is how many (only with kOk, and then > 0).
  Result Read(char* dst, size_t cap, size_t* n);
  // The last Read ran out of ciphertext and nothing was fed since: a Read
  // now would give nothing. The shard reads the socket only then.
  bool starved() const { return starved_; }

  // Encrypts all of `plain`. Before the handshake is done nothing is taken
  // (kWantInput): the caller keeps the bytes and writes them again later.
  Result Write(std::string_view plain);
  // Advances the handshake without reading application data (a client
  // starting one, or a server that only has something to write).
  Result Handshake();
  bool handshake_done() const;

  // Ciphertext waiting to be sent (handshake records, alerts, data).
  size_t output_bytes() const;
  // Appends it to `out`; output_bytes() is 0 afterwards.
  void TakeOutput(std::string* out);

  // Queues a close_notify (once; not after a failure, which already
  // queued its alert): the peer then knows the data ended where it did.
  void Shutdown();

  const std::string& error() const { return error_; }
  bool failed() const { return failed_; }

 private:
  Result Fail(int ret);

  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
  std::unique_ptr<char[]> recv_buffer_;
  bool starved_ = true;  // nothing fed yet
  bool failed_ = false;
  bool shut_down_ = false;
  std::string error_;
};

}  // namespace werk::net
