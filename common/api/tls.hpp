// TLS for the management API over TCP (docs/security.md "The management API"): OpenSSL
// contexts built from PEM files, for the agents' listener and for the clients (vmroamctl,
// vmroam-migrate, vmroam-libvirt).
//
//   auto server = make_server_tls({"/etc/vmroam/api-cert.pem", "/etc/vmroam/api-key.pem",
//                                  "/etc/vmroam/api-clients-ca.pem"});   // mutual TLS
//   auto client = make_client_tls({"/etc/vmroam/api-ca.pem", "me-cert.pem", "me-key.pem"});
//
// Both ends speak TLS 1.2 or later only (RFC 8996 deprecates 1.0 and 1.1). A server context
// with a client CA asks every client for a certificate and refuses the handshake without one
// that chains to that CA; the bearer token is still required on top (defence in depth: a
// stolen token is useless without a key, and the reverse). A context is immutable once made:
// a reload makes a new one, and each connection keeps the one it was accepted with.
#pragma once

#include <memory>
#include <string>

#include "common/core/result.hpp"

namespace vmroam::api {

struct TlsServerFiles {
  std::string cert_file;       // our certificate, PEM, leaf first then intermediates
  std::string key_file;        // its private key, PEM, unencrypted
  std::string client_ca_file;  // non-empty: mutual TLS against the CA certificates in it
};

struct TlsClientFiles {
  std::string ca_file;    // CA certificates for the agent's certificate; empty: the system's
  std::string cert_file;  // our certificate for mutual TLS (with key_file); empty: none
  std::string key_file;
};

// An OpenSSL context (defined in common/api/tls_context.hpp, for the transport only).
class TlsContext;

// Errors: tls_config, naming the file and what is wrong with it (cannot read it, not PEM,
// key does not match the certificate, certificate expired or not yet valid).
[[nodiscard]] Result<std::shared_ptr<TlsContext>> make_server_tls(const TlsServerFiles& files);
// Errors: tls_config as above; cert_file and key_file must be given together.
[[nodiscard]] Result<std::shared_ptr<TlsContext>> make_client_tls(const TlsClientFiles& files);

}  // namespace vmroam::api
