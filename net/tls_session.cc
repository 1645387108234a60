#include "net/tls_session.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <climits>

#include "core/check.h"
#include "net/tls_context.h"

namespace werk::net {

TlsSession::TlsSession(SSL_CTX* ctx, Side side) {
  ssl_ = SSL_new(ctx);
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  WERK_CHECK_MSG(ssl_ && in_ && out_, "out of memory for a TLS session");
  // An empty memory BIO reads as "try again", not as end of file: the
  // socket's end is the shard's to report, and until then more may come.
  BIO_set_mem_eof_return(in_, -1);
  BIO_set_mem_eof_return(out_, -1);
  SSL_set_bio(ssl_, in_, out_);
  if (side == Side::kServer) SSL_set_accept_state(ssl_);
  else SSL_set_connect_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }  // frees both BIOs

char* TlsSession::recv_buffer() {
  if (!recv_buffer_) recv_buffer_.reset(new char[kRecvBytes]);
  return recv_buffer_.get();
}

void TlsSession::Feed(const char* data, size_t n) {
  if (n == 0) return;
  WERK_CHECK(n <= size_t(INT_MAX));
  // A memory BIO grows to take it all; only an allocation failure refuses.
  WERK_CHECK_MSG(BIO_write(in_, data, int(n)) == int(n), "out of memory for TLS input");
  starved_ = false;
}

TlsSession::Result TlsSession::Fail(int ret) {
  const int e = SSL_get_error(ssl_, ret);
  if (e == SSL_ERROR_WANT_READ) {
    starved_ = true;
    return Result::kWantInput;
  }
  if (e == SSL_ERROR_ZERO_RETURN) return Result::kClosed;
  failed_ = true;
  error_ = TakeOpenSslErrors(e == SSL_ERROR_SYSCALL ? "unexpected end of input" : "TLS error");
  // A client that refused the server's certificate says why.
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    error_ += " (certificate: ";
    error_ += X509_verify_cert_error_string(verify);
    error_ += ")";
  }
  return Result::kFailed;
}

TlsSession::Result TlsSession::Read(char* dst, size_t cap, size_t* n) {
  *n = 0;
  if (failed_) return Result::kFailed;
  WERK_DCHECK(cap > 0);
  ERR_clear_error();
  const int r = SSL_read(ssl_, dst, cap > size_t(INT_MAX) ? INT_MAX : int(cap));
  if (r > 0) {
    *n = size_t(r);
    return Result::kOk;
  }
  return Fail(r);
}

TlsSession::Result TlsSession::Handshake() {
  if (failed_) return Result::kFailed;
  if (SSL_is_init_finished(ssl_)) return Result::kOk;
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) return Result::kOk;
  return Fail(r);
}

bool TlsSession::handshake_done() const { return SSL_is_init_finished(ssl_); }

TlsSession::Result TlsSession::Write(std::string_view plain) {
  if (failed_) return Result::kFailed;
  if (!SSL_is_init_finished(ssl_)) {
    if (Result r = Handshake(); r != Result::kOk) return r;
  }
  if (plain.empty()) return Result::kOk;
  ERR_clear_error();
  size_t written = 0;
  // Without SSL_MODE_ENABLE_PARTIAL_WRITE, and into a memory BIO that
  // never refuses, a write takes everything or fails.
  if (SSL_write_ex(ssl_, plain.data(), plain.size(), &written) == 1) {
    WERK_DCHECK(written == plain.size());
    return Result::kOk;
  }
  return Fail(0);
}

size_t TlsSession::output_bytes() const { return BIO_ctrl_pending(out_); }

void TlsSession::TakeOutput(std::string* out) {
  const size_t n = BIO_ctrl_pending(out_);
  if (n == 0) return;
  const size_t old = out->size();
  out->resize(old + n);
  const int got = BIO_read(out_, out->data() + old, int(n));
  WERK_CHECK(got == int(n));
}

void TlsSession::Shutdown() {
  if (failed_ || shut_down_) return;
  shut_down_ = true;
  // During the handshake there is no session to close: the peer just sees
  // the connection end.
  if (!SSL_is_init_finished(ssl_)) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues close_notify; the peer's answer is not awaited
  ERR_clear_error();
}

}  // namespace werk::net
