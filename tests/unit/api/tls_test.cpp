// TLS on the API's TCP listener: HttpServer with a TLS context and HttpClient over https://
// on 127.0.0.1 (ephemeral port), with credentials made by tls_test.sh with the openssl CLI
// (tests/lib/tls.sh) in the directory $VMROAM_TLS_DIR:
//
//   ca/ca-cert.pem           CA "A": signs the server and client certificates below
//   other-ca/ca-cert.pem     CA "B": signs other-*
//   server-*.pem             serverAuth, subjectAltName IP:127.0.0.1, from A
//   server-expired-*.pem     the same, expired
//   other-server-*.pem       serverAuth, IP:127.0.0.1, from B
//   client-*.pem             clientAuth, from A;  client-expired-*.pem expired;  other-client-*.pem from B
//
// Every refusal must come with an error that says what was wrong, on the side that refused.
// The server runs on its own io_context in a background thread (as the daemon's loop would).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "common/api/http_client.hpp"
#include "common/api/http_server.hpp"
#include "common/api/tls.hpp"
#include "common/core/asio.hpp"

namespace vmroam::api {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

const char* kToken = "0123456789abcdef0123";

std::string creds(const std::string& name) {
  const char* dir = std::getenv("VMROAM_TLS_DIR");
  return std::string(dir ? dir : "/nonexistent") + "/" + name;
}

TlsServerFiles server_files(const std::string& name, bool mutual) {
  return {creds(name + "-cert.pem"), creds(name + "-key.pem"), mutual ? creds("ca/ca-cert.pem") : ""};
}

TlsClientFiles client_files(const std::string& ca, const std::string& name = "") {
  if (name.empty()) return {creds(ca + "/ca-cert.pem"), "", ""};
  return {creds(ca + "/ca-cert.pem"), creds(name + "-cert.pem"), creds(name + "-key.pem")};
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("VMROAM_TLS_DIR")) GTEST_SKIP() << "run through tls_test.sh (VMROAM_TLS_DIR unset)";
    router_.add(Method::get, "/v1/health", [](const Request& r, const PathParams&) -> Reply {
      return Response::make_json(200, {{"status", "ok"}, {"remote", r.remote}});
    });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      on_loop([this] { server_.reset(); });
      io_.stop();
      thread_.join();
    }
  }

  // TCP on 127.0.0.1 with TLS from `tls` (plaintext when null).
  void start(std::shared_ptr<TlsContext> tls, std::chrono::milliseconds request_timeout = 10s) {
    HttpServerOptions o;
    o.tcp_address = "127.0.0.1";
    o.token = kToken;
    o.tls = std::move(tls);
    o.request_timeout = request_timeout;
    server_ = std::make_unique<HttpServer>(io_, std::move(o),
                                           [this](const Request& r) { return router_.dispatch(r); });
    auto r = server_->start();
    ASSERT_TRUE(r) << r.error().to_string();
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }

  void start_tls(const std::string& name, bool mutual, std::chrono::milliseconds request_timeout = 10s) {
    auto tls = make_server_tls(server_files(name, mutual));
    ASSERT_TRUE(tls) << tls.error().to_string();
    start(*tls, request_timeout);
  }

  std::size_t connections() {
    std::size_t n = 0;
    on_loop([&] { n = server_->connection_count(); });
    return n;
  }

  // A raw TCP connection to the server (no TLS on our side); -1 on failure.
  int connect_raw() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(server_->tcp_port());
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  template <class F>
  void on_loop(F f) {
    std::promise<void> done;
    net::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  Result<ClientResponse> get(const TlsClientFiles& files, const std::string& scheme = "https",
                             const std::string& host = "127.0.0.1") {
    auto ep = Endpoint::parse(scheme + "://" + host + ":" + std::to_string(server_->tcp_port()));
    EXPECT_TRUE(ep);
    return HttpClient(*ep, kToken, files).request(Method::get, "/v1/health", std::nullopt, 5000ms);
  }

  static void expect_refused(const Result<ClientResponse>& r, std::string_view code, std::string_view says) {
    ASSERT_FALSE(r) << "status " << r->status << ": " << r->text;
    EXPECT_EQ(r.error().code, code) << r.error().to_string();
    EXPECT_NE(r.error().context.find(says), std::string::npos) << r.error().to_string();
  }

  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard_;
  std::thread thread_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(TlsTest, MutualTlsRoundTrip) {
  start_tls("server", true);
  auto r = get(client_files("ca", "client"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->json["remote"], true);
  // Keep-alive is not used by the client; every request is a new handshake and still works.
  auto again = get(client_files("ca", "client"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->status, 200);
}

TEST_F(TlsTest, ServerOnlyTlsNeedsNoClientCertificate) {
  start_tls("server", false);
  auto r = get(client_files("ca"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
}

TEST_F(TlsTest, TokenStillRequiredUnderMutualTls) {
  start_tls("server", true);
  auto ep = Endpoint::parse("https://127.0.0.1:" + std::to_string(server_->tcp_port()));
  auto r = HttpClient(*ep, "", client_files("ca", "client")).request(Method::get, "/v1/health");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 401);
}

TEST_F(TlsTest, ServerFromAnotherCaIsRefusedByTheClient) {
  start_tls("other-server", false);
  expect_refused(get(client_files("ca")), "tls_failed", "unable to get local issuer certificate");
}

TEST_F(TlsTest, ServerCertificateMustNameTheHost) {
  start_tls("server", false);  // subjectAltName IP:127.0.0.1 only
  expect_refused(get(client_files("ca"), "https", "localhost"), "tls_failed", "certificate verify failed");
}

TEST_F(TlsTest, NoClientCertificateWhenRequired) {
  start_tls("server", true);
  expect_refused(get(client_files("ca")), "tls_failed", "certificate required");
}

TEST_F(TlsTest, ClientCertificateFromAnotherCa) {
  start_tls("server", true);
  expect_refused(get(client_files("ca", "other-client")), "tls_failed", "alert");
}

TEST_F(TlsTest, ExpiredClientCertificate) {
  start_tls("server", true);
  expect_refused(get(client_files("ca", "client-expired")), "tls_failed", "certificate expired");
}

TEST_F(TlsTest, PlaintextToTheTlsPortGetsAPlaintextAnswer) {
  start_tls("server", true);
  auto r = get({}, "http");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->json["error"]["code"], "tls_required") << r->text;
  EXPECT_EQ(describe_error(*r), "tls_required: this port speaks only TLS: use https://");
}

TEST_F(TlsTest, TlsToAPlaintextPort) {
  start(nullptr);
  expect_refused(get(client_files("ca")), "tls_failed", "TLS handshake with 127.0.0.1");
}

TEST_F(TlsTest, NewContextServesNewConnections) {
  start_tls("server", false);
  auto other = make_server_tls(server_files("other-server", false));
  ASSERT_TRUE(other) << other.error().to_string();
  on_loop([&] { server_->set_tls(*other); });
  auto r = get(client_files("other-ca"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  expect_refused(get(client_files("ca")), "tls_failed", "certificate verify failed");
}

// A client that connects and stalls before the handshake ends — silent, or a ClientHello cut
// after its record header — holds its slot only for the request timeout from the accept.
TEST_F(TlsTest, StalledHandshakeIsClosedAfterTheRequestTimeout) {
  start_tls("server", true, 1000ms);
  const int silent = connect_raw();
  const int stalled = connect_raw();
  ASSERT_GE(silent, 0);
  ASSERT_GE(stalled, 0);
  // A handshake record (type 22, TLS 1.0 record version, 512 bytes announced), then nothing.
  const unsigned char head[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  ASSERT_EQ(::send(stalled, head, sizeof head, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof head));
  // Both accepted, then both closed (polling, 10 ms apart, with a deadline).
  auto poll_until = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (connections() != n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);  // polling interval, not a wait for an event
    return connections() == n;
  };
  ASSERT_TRUE(poll_until(2)) << "both accepted";
  EXPECT_TRUE(poll_until(0)) << "a stalled handshake kept its connection";
  for (int fd : {silent, stalled}) {
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 5000), 1) << "the server closed it";
    char c;
    EXPECT_LE(::recv(fd, &c, 1, MSG_DONTWAIT), 0) << "closed, without an HTTP answer";
    ::close(fd);
  }
  // The listener still serves a real client.
  auto r = get(client_files("ca", "client"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
}

// ---- Loading: a bad file is refused when the config is loaded, naming it -----------------

TEST(TlsLoad, ExpiredServerCertificateIsRefused) {
  if (!std::getenv("VMROAM_TLS_DIR")) GTEST_SKIP() << "run through tls_test.sh (VMROAM_TLS_DIR unset)";
  auto r = make_server_tls(server_files("server-expired", false));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "tls_config");
  EXPECT_NE(r.error().context.find("server-expired-cert.pem: the certificate expired on"), std::string::npos)
      << r.error().to_string();
}

TEST(TlsLoad, BadFilesAreNamed) {
  if (!std::getenv("VMROAM_TLS_DIR")) GTEST_SKIP() << "run through tls_test.sh (VMROAM_TLS_DIR unset)";
  struct Case {
    TlsServerFiles files;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{creds("missing.pem"), creds("server-key.pem"), ""}, "missing.pem: cannot read the certificate"},
      {{creds("server-cert.pem"), creds("missing.pem"), ""}, "missing.pem: cannot read the private key"},
      {{creds("server-key.pem"), creds("server-key.pem"), ""}, "server-key.pem: not a PEM certificate chain"},
      {{creds("server-cert.pem"), creds("server-cert.pem"), ""}, "server-cert.pem: not a PEM private key"},
      {{creds("server-cert.pem"), creds("client-key.pem"), ""},
       "client-key.pem: the key does not match the certificate in"},
      {{creds("server-cert.pem"), creds("server-key.pem"), creds("server-key.pem")},
       "server-key.pem: no PEM CA certificate in it"},
  };
  for (const auto& c : cases) {
    auto r = make_server_tls(c.files);
    ASSERT_FALSE(r) << c.says;
    EXPECT_EQ(r.error().code, "tls_config");
    EXPECT_NE(r.error().context.find(c.says), std::string::npos) << r.error().to_string();
  }
  auto half = make_client_tls({creds("ca/ca-cert.pem"), creds("client-cert.pem"), ""});
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().context.find("go together"), std::string::npos) << half.error().to_string();
}

}  // namespace
}  // namespace vmroam::api
