// The OpenSSL context behind api::TlsContext, for the HTTP transport's .cpp files only (it
// pulls in Asio's SSL headers, which users of tls.hpp need not compile).
#pragma once

#include <string>

#include "common/api/tls.hpp"

#include <boost/asio/ssl.hpp>

namespace vmroam::api {

class TlsContext {
 public:
  explicit TlsContext(boost::asio::ssl::context::method method) : ssl(method) {}
  boost::asio::ssl::context ssl;
};

// Why a handshake (or a read after it) failed, for logs and error messages: the OpenSSL
// reason, and the certificate check's verdict when that is what failed
// ("certificate verify failed: certificate has expired").
[[nodiscard]] std::string tls_failure(const boost::system::error_code& ec, SSL* ssl);

}  // namespace vmroam::api
