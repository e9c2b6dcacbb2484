#include "migration/certificate_name.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace vmroam::migration {

Result<std::string> certificate_subject(const std::string& pem_path) {
  std::unique_ptr<std::FILE, decltype(&std::fclose)> f(std::fopen(pem_path.c_str(), "r"), &std::fclose);
  if (!f) return fail("cert_unreadable", pem_path + ": cannot open");
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr),
                                                   &X509_free);
  if (!cert) return fail("cert_unreadable", pem_path + ": not a PEM certificate");
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  // RFC 2253/4514 order and escaping, UTF-8 kept as is: what GnuTLS's DN string (QEMU's
  // side of the comparison) looks like.
  const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (!out || X509_NAME_print_ex(out.get(), X509_get_subject_name(cert.get()), 0, flags) < 0)
    return fail("cert_unreadable", pem_path + ": no subject");
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace vmroam::migration
