// OpenSSL contexts for the API; see tls.hpp.
//
// Files are read here first (so that "cannot read" names the file), then handed to OpenSSL
// as memory buffers; each OpenSSL failure is reported with the file it came from.
#include "common/api/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

namespace vmroam::api {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

Result<std::string> read_pem(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("tls_config", path + ": cannot read the " + std::string(what));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail("tls_config", path + ": cannot read the " + std::string(what));
  return ss.str();
}

std::string asn1_time(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return "?";
  std::string out = "?";
  if (ASN1_TIME_print(bio, t) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(bio);
  return out;
}

// TLS 1.2 or later only (RFC 8996), no compression (CRIME).
void restrict_protocols(TlsContext& t) {
  t.ssl.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(t.ssl.native_handle(), TLS1_2_VERSION);
}

// Our certificate chain and key; the key must match. A server's certificate must also be
// valid now, so that a bad file is refused when the config is loaded, not at the first
// handshake; a client's is left to the agent to judge (it answers "certificate expired").
Result<void> load_identity(TlsContext& t, const std::string& cert_file, const std::string& key_file,
                           bool check_validity) {
  auto cert = read_pem(cert_file, "certificate");
  if (!cert) return fail(cert.error());
  auto key = read_pem(key_file, "private key");
  if (!key) return fail(key.error());
  // The key first: OpenSSL checks a key against a certificate already loaded, and drops a
  // mismatched key when the certificate comes second, which check_private_key reports.
  error_code ec;
  t.ssl.use_private_key(boost::asio::buffer(*key), ssl::context::pem, ec);
  if (ec) return fail("tls_config", key_file + ": not a PEM private key (" + ec.message() + ")");
  t.ssl.use_certificate_chain(boost::asio::buffer(*cert), ec);
  if (ec) return fail("tls_config", cert_file + ": not a PEM certificate chain (" + ec.message() + ")");
  if (SSL_CTX_check_private_key(t.ssl.native_handle()) != 1) {
    ERR_clear_error();
    return fail("tls_config", key_file + ": the key does not match the certificate in " + cert_file);
  }
  if (!check_validity) return ok();
  X509* leaf = SSL_CTX_get0_certificate(t.ssl.native_handle());
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
    return fail("tls_config",
                cert_file + ": the certificate expired on " + asn1_time(X509_get0_notAfter(leaf)));
  if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0)
    return fail("tls_config",
                cert_file + ": the certificate is not valid before " + asn1_time(X509_get0_notBefore(leaf)));
  return ok();
}

Result<void> load_trust(TlsContext& t, const std::string& ca_file) {
  if (auto pem = read_pem(ca_file, "CA certificates"); !pem) return fail(pem.error());
  error_code ec;
  t.ssl.load_verify_file(ca_file, ec);
  if (ec) return fail("tls_config", ca_file + ": no PEM CA certificate in it (" + ec.message() + ")");
  return ok();
}

}  // namespace

Result<std::shared_ptr<TlsContext>> make_server_tls(const TlsServerFiles& files) {
  auto t = std::make_shared<TlsContext>(ssl::context::tls_server);
  restrict_protocols(*t);
  VMROAM_TRY_VOID(load_identity(*t, files.cert_file, files.key_file, true));
  if (!files.client_ca_file.empty()) {
    VMROAM_TRY_VOID(load_trust(*t, files.client_ca_file));
    // Tell clients which CAs we accept, so one with several certificates picks the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str()))
      SSL_CTX_set_client_CA_list(t->ssl.native_handle(), names);
    t->ssl.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return t;
}

Result<std::shared_ptr<TlsContext>> make_client_tls(const TlsClientFiles& files) {
  if (files.cert_file.empty() != files.key_file.empty())
    return fail("tls_config", "a client certificate and its key go together (got only the " +
                                  std::string(files.cert_file.empty() ? "key" : "certificate") + ")");
  auto t = std::make_shared<TlsContext>(ssl::context::tls_client);
  restrict_protocols(*t);
  if (files.ca_file.empty()) {
    error_code ec;
    t->ssl.set_default_verify_paths(ec);
    if (ec) return fail("tls_config", "the system's CA certificates: " + ec.message());
  } else {
    VMROAM_TRY_VOID(load_trust(*t, files.ca_file));
  }
  if (!files.cert_file.empty()) VMROAM_TRY_VOID(load_identity(*t, files.cert_file, files.key_file, false));
  t->ssl.set_verify_mode(ssl::verify_peer);
  return t;
}

std::string tls_failure(const error_code& ec, SSL* ssl) {
  std::string out = ec.message();
  if (ssl && ec.category() == boost::asio::error::get_ssl_category()) {
    long verdict = SSL_get_verify_result(ssl);
    if (verdict != X509_V_OK) out += ": " + std::string(X509_verify_cert_error_string(verdict));
  }
  return out;
}

}  // namespace vmroam::api
