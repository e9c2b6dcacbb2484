// The subject a certificate presents, in the form QEMU's tls-authz compares
// (migration/certificate_name.hpp).
#include "migration/certificate_name.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace vmroam::migration {
namespace {

// openssl req -x509 -newkey ec … -subj "/O=vmroam site/CN=src.example"
constexpr const char* kPem = R"(-----BEGIN CERTIFICATE-----
MIIBrTCCAVOgAwIBAgIUG5N78XoXs9WUzNuOiqNI3IMoktUwCgYIKoZIzj0EAwIw
LDEUMBIGA1UECgwLdm1yb2FtIHNpdGUxFDASBgNVBAMMC3NyYy5leGFtcGxlMB4X
DTI2MTIwNTA1MzU0MFoXDTM2MTIwMjA1MzU0MFowLDEUMBIGA1UECgwLdm1yb2Ft
IHNpdGUxFDASBgNVBAMMC3NyYy5leGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEYEh893zR3MmuEggNrSuCVvXUoTNE52jiry7F2Uf/e8tkWWMvgBlIi6k7
rE0m+08Gx9QDc0JezpCu7bVuYqXMd6NTMFEwHQYDVR0OBBYEFPw+A/H8I8RY2URr
Nv5KVV8IkVJ7MB8GA1UdIwQYMBaAFPw+A/H8I8RY2URrNv5KVV8IkVJ7MA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgcloyx2acwfY1vS1KEbFhDBPY
r+d3EwS7RMcoDP/UxrYCIQCVbmRzE97uXhpt5D9j8+jacorncs3dNWuih8Suw2IX
uw==
-----END CERTIFICATE-----
)";

TEST(CertificateName, SubjectMostSpecificFirst) {
  char path[] = "/tmp/vmroam-cert-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << kPem;
  auto dn = certificate_subject(path);
  std::remove(path);
  ASSERT_TRUE(dn) << dn.error().to_string();
  EXPECT_EQ(*dn, "CN=src.example,O=vmroam site");  // RFC 4514 order, as GnuTLS prints it
}

TEST(CertificateName, Unreadable) {
  EXPECT_EQ(certificate_subject("/nonexistent/client-cert.pem").error().code, "cert_unreadable");
  EXPECT_EQ(certificate_subject("/dev/null").error().code, "cert_unreadable");
}

}  // namespace
}  // namespace vmroam::migration
