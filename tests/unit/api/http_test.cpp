// HttpServer and HttpClient over a temp-dir Unix socket and 127.0.0.1 with an ephemeral port.
//
// The server runs on its own io_context in a background thread (as the daemon's loop would);
// the test thread is the client, using blocking HttpClient calls or a raw socket. Anything
// that touches the server or a Responder is posted to the loop (on_loop). Waits poll a
// condition with a deadline; there are no bare sleeps.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/api/http_client.hpp"
#include "common/api/http_server.hpp"
#include "common/core/asio.hpp"
#include "common/core/log.hpp"

namespace vmroam::api {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// Far more than a Unix socket's buffers hold (≈ 200 KiB each way): a client that does not read
// stalls the server's write of it.
constexpr std::size_t kBigBody = 8 * 1024 * 1024;

template <class F>
bool poll_until(F cond, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);  // polling interval, not a wait for an event
  }
  return true;
}

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vmroam-api-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    sock_ = dir_ + "/api.sock";
    router_.add(Method::get, "/v1/health", [this](const Request& r, const PathParams&) -> Reply {
      ++served_;
      return Response::make_json(200, {{"status", "ok"}, {"remote", r.remote}});
    });
    router_.add(Method::post, "/v1/echo", [](const Request& r, const PathParams&) -> Reply {
      return Response::make_json(200, {{"size", r.body.size()}, {"content_type", r.content_type}});
    });
    router_.add(Method::get, "/metrics", [](const Request&, const PathParams&) -> Reply {
      return Response::make_text(200, "# TYPE x counter\nx 1\n", kPrometheusType);
    });
    router_.add(Method::get, "/v1/big", [](const Request&, const PathParams&) -> Reply {
      return Response::make_text(200, std::string(kBigBody, 'x'), "text/plain");
    });
    router_.add(Method::get, "/v1/visitors/{id}", [this](const Request&, const PathParams& p) -> Reply {
      auto [deferred, responder] = make_deferred();
      responder.on_cancel([this] { ++cancelled_; });
      pending_ = responder;
      pending_id_ = p.at("id");
      return deferred;
    });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      on_loop([this] { server_.reset(); });
      io_.stop();
      thread_.join();
    }
    std::filesystem::remove_all(dir_);
  }

  HttpServerOptions unix_options() {
    HttpServerOptions o;
    o.unix_path = sock_;
    return o;
  }

  void start(HttpServerOptions o) {
    server_ = std::make_unique<HttpServer>(io_, std::move(o),
                                           [this](const Request& r) { return router_.dispatch(r); });
    auto r = server_->start();
    ASSERT_TRUE(r) << r.error().to_string();
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
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

  std::size_t connections() {
    std::size_t n = 0;
    on_loop([&] { n = server_ ? server_->connection_count() : 0; });
    return n;
  }

  HttpClient unix_client() { return HttpClient(*Endpoint::parse(sock_)); }

  // Raw request/response exchange on an already connected socket.
  static std::string exchange(int fd, const std::string& request) {
    EXPECT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string got;
    char buf[4096];
    // Read until one full response (headers + Content-Length body) arrived.
    while (true) {
      auto end = got.find("\r\n\r\n");
      if (end != std::string::npos) {
        auto cl = got.find("Content-Length: ");
        std::size_t len = cl == std::string::npos ? 0 : std::stoul(got.substr(cl + 16));
        if (got.size() >= end + 4 + len) return got;
      }
      auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return got;
      got.append(buf, static_cast<std::size_t>(n));
    }
  }

  int connect_unix() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    return fd;
  }

  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard_;
  std::thread thread_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::string dir_, sock_;
  int served_ = 0;
  int cancelled_ = 0;
  std::optional<Responder> pending_;
  std::string pending_id_;
};

TEST_F(HttpTest, UnixGetJsonAndText) {
  start(unix_options());
  auto r = unix_client().request(Method::get, "/v1/health");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->json["status"], "ok");
  EXPECT_EQ(r->json["remote"], false);
  auto m = unix_client().request(Method::get, "/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->content_type, kPrometheusType);
  EXPECT_EQ(m->text, "# TYPE x counter\nx 1\n");
  EXPECT_TRUE(m->json.is_null());
  auto nf = unix_client().request(Method::get, "/nope");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_EQ(describe_error(*nf), "not_found: no such path: /nope");
}

TEST_F(HttpTest, SocketFileIsMode0660AndRemovedOnStop) {
  start(unix_options());
  struct stat st {};
  ASSERT_EQ(::lstat(sock_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  std::atomic<bool> stopped = false;
  on_loop([&] { server_->stop([&] { stopped = true; }); });
  ASSERT_TRUE(poll_until([&] { return stopped.load(); }));
  EXPECT_NE(::lstat(sock_.c_str(), &st), 0);
}

TEST_F(HttpTest, StaleSocketReplacedLiveOneAndNonSocketRefused) {
  {  // A socket file nobody listens on any more, as a crashed daemon leaves it.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ::close(fd);
  }
  start(unix_options());
  ASSERT_EQ(unix_client().request(Method::get, "/v1/health")->status, 200);

  Result<void> second = ok();
  on_loop([&] {
    HttpServer other(io_, unix_options(), [](const Request&) -> Reply { return not_found("x"); });
    second = other.start();
  });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, "socket_in_use");
  // The refused server must not have removed the live socket.
  EXPECT_EQ(unix_client().request(Method::get, "/v1/health")->status, 200);

  std::string file = dir_ + "/plain";
  std::fclose(std::fopen(file.c_str(), "w"));
  HttpServerOptions o;
  o.unix_path = file;
  on_loop([&] {
    HttpServer other(io_, o, [](const Request&) -> Reply { return not_found("x"); });
    second = other.start();
  });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, "not_a_socket");
  EXPECT_TRUE(std::filesystem::exists(file));
}

TEST_F(HttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start(unix_options());
  int fd = connect_unix();
  for (int i = 0; i < 3; ++i) {
    std::string got = exchange(fd, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
    EXPECT_NE(got.find("\"status\":\"ok\""), std::string::npos) << got;
  }
  EXPECT_EQ(connections(), 1u);
  int served = 0;
  on_loop([&] { served = served_; });
  EXPECT_EQ(served, 3);
  // "Connection: close" is honoured: the server closes after the response.
  std::string got = exchange(fd, "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0);
  ::close(fd);
  EXPECT_TRUE(poll_until([&] { return connections() == 0; }));
}

TEST_F(HttpTest, OversizeBodyIs413AndLimitIsExact) {
  start(unix_options());
  Json big = {{"pad", std::string(70 * 1024, 'x')}};
  auto r = unix_client().request(Method::post, "/v1/echo", big);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->json["error"]["code"], "too_large");
  // Exactly 64 KiB of body is accepted.
  std::string pad(64 * 1024 - std::string(R"({"p":""})").size(), 'y');
  auto ok_r = unix_client().request(Method::post, "/v1/echo", Json{{"p", pad}});
  ASSERT_TRUE(ok_r) << ok_r.error().to_string();
  EXPECT_EQ(ok_r->status, 200);
  EXPECT_EQ(ok_r->json["size"], 64 * 1024);
  EXPECT_EQ(ok_r->json["content_type"], "application/json");
}

TEST_F(HttpTest, ExpectContinueAndOversizeHeader) {
  start(unix_options());
  int fd = connect_unix();
  std::string got =
      exchange(fd, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 100 Continue")) << got;
  got = exchange(fd, "{}");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200")) << got;
  ::close(fd);
  fd = connect_unix();
  got = exchange(fd, "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(9000, 'a') + "\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 431")) << got.substr(0, 200);
  EXPECT_NE(got.find("too_large"), std::string::npos);
  ::close(fd);
  fd = connect_unix();
  got = exchange(fd, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 400")) << got;
  ::close(fd);
}

TEST_F(HttpTest, TcpNeedsTheRightBearerToken) {
  HttpServerOptions o;
  o.tcp_address = "127.0.0.1";
  o.token = "s3cret-token";
  start(o);
  std::uint16_t port = 0;
  on_loop([&] { port = server_->tcp_port(); });
  ASSERT_NE(port, 0);
  Endpoint ep = *Endpoint::parse("http://127.0.0.1:" + std::to_string(port));
  struct Case {
    const char* description;
    std::string token;
    int status;
  };
  const Case cases[] = {
      {"no token", "", 401},
      {"wrong token", "s3cret-tokeX", 401},
      {"prefix of the token", "s3cret", 401},
      {"right token", "s3cret-token", 200},
  };
  for (const auto& c : cases) {
    auto r = HttpClient(ep, c.token).request(Method::get, "/v1/health");
    ASSERT_TRUE(r) << c.description << ": " << r.error().to_string();
    EXPECT_EQ(r->status, c.status) << c.description;
    if (c.status == 401) {
      EXPECT_EQ(r->json["error"]["code"], "unauthorized") << c.description;
    } else {
      EXPECT_EQ(r->json["remote"], true) << c.description;
    }
  }
  // An unauthenticated body is not read, yet the 401 still reaches the client.
  auto big = HttpClient(ep, "").request(Method::post, "/v1/echo", Json{{"p", std::string(32 * 1024, 'z')}});
  ASSERT_TRUE(big) << big.error().to_string();
  EXPECT_EQ(big->status, 401);
}

TEST_F(HttpTest, StartRefusesTcpWithoutToken) {
  HttpServerOptions o;
  o.tcp_address = "127.0.0.1";
  HttpServer s(io_, o, [](const Request&) -> Reply { return not_found("x"); });
  auto r = s.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "missing_token");
}

TEST_F(HttpTest, DeferredResponseCompletesLater) {
  start(unix_options());
  auto future = std::async(std::launch::async, [this] {
    return unix_client().request(Method::get, "/v1/visitors/vm%201?wait_ms=5000");
  });
  bool seen = false;
  ASSERT_TRUE(poll_until([&] {
    on_loop([&] { seen = pending_.has_value(); });
    return seen;
  }));
  on_loop([&] {
    EXPECT_EQ(pending_id_, "vm 1");
    EXPECT_TRUE(pending_->send(Response::make_json(200, {{"state", "active"}})));
  });
  auto r = future.get();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->json["state"], "active");
  int cancelled = -1;
  on_loop([&] { cancelled = cancelled_; });
  EXPECT_EQ(cancelled, 0);
}

TEST_F(HttpTest, ClientTimeoutCancelsTheDeferred) {
  start(unix_options());
  auto t0 = std::chrono::steady_clock::now();
  auto r = unix_client().request(Method::get, "/v1/visitors/x", std::nullopt, 200ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "timeout");
  EXPECT_GE(took, 200ms);
  // The server notices the client hung up and runs the handler's on_cancel.
  int cancelled = 0;
  ASSERT_TRUE(poll_until([&] {
    on_loop([&] { cancelled = cancelled_; });
    return cancelled == 1;
  }));
  on_loop([&] { EXPECT_FALSE(pending_->active()); });
  EXPECT_TRUE(poll_until([&] { return connections() == 0; }));
}

TEST_F(HttpTest, DeferredTimeoutAnswers503) {
  auto o = unix_options();
  o.deferred_timeout = 100ms;
  start(o);
  auto r = unix_client().request(Method::get, "/v1/visitors/x");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->json["error"]["code"], "unavailable");
  int cancelled = 0;
  on_loop([&] { cancelled = cancelled_; });
  EXPECT_EQ(cancelled, 1);
}

TEST_F(HttpTest, GracefulStopAnswersInFlightAndClosesIdle) {
  start(unix_options());
  int idle = connect_unix();
  ASSERT_TRUE(exchange(idle, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 200"));
  auto future =
      std::async(std::launch::async, [this] { return unix_client().request(Method::get, "/v1/visitors/x"); });
  bool seen = false;
  ASSERT_TRUE(poll_until([&] {
    on_loop([&] { seen = pending_.has_value(); });
    return seen;
  }));
  EXPECT_EQ(connections(), 2u);
  std::atomic<bool> stopped = false;
  on_loop([&] { server_->stop([&] { stopped = true; }); });
  auto r = future.get();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 503);
  char c;
  EXPECT_EQ(::read(idle, &c, 1), 0);  // the idle keep-alive connection was closed
  ::close(idle);
  ASSERT_TRUE(poll_until([&] { return stopped.load(); }));
  EXPECT_EQ(connections(), 0u);
  auto after = unix_client().request(Method::get, "/v1/health", std::nullopt, 500ms);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, "connect_failed");
}

// ---- Abuse: slow clients, connection floods --------------------------------------------------

// Whether the server closed `fd` without answering (EOF within the deadline).
bool closed_by_server(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return false;
  char c;
  return ::read(fd, &c, 1) == 0;
}

// Sends `bytes` one at a time, `gap` apart (a slowloris client), until the server answers or
// closes; returns what it answered. MSG_NOSIGNAL: writing after the server closed is EPIPE.
std::string trickle(int fd, const std::string& bytes, std::chrono::milliseconds gap,
                    std::chrono::milliseconds limit) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::size_t sent = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (sent < bytes.size() && ::send(fd, bytes.data() + sent, 1, MSG_NOSIGNAL) == 1) ++sent;
    std::this_thread::sleep_for(gap);  // the client's pace, not a wait for the server
    char buf[4096];
    auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return got;  // closed (or reset after closing)
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

TEST_F(HttpTest, SlowHeaderIsAnswered408AfterTheRequestTimeoutNotTheIdleOne) {
  auto o = unix_options();
  o.request_timeout = 300ms;
  o.idle_timeout = 30s;
  start(o);
  int fd = connect_unix();
  auto t0 = std::chrono::steady_clock::now();
  std::string got =
      trickle(fd, "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(1000, 'a'), 20ms, 10s);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(got.starts_with("HTTP/1.1 408")) << got;
  EXPECT_NE(got.find("request_timeout"), std::string::npos) << got;
  EXPECT_LT(took, 10s) << "closed by the request timeout, long before the idle timeout";
  ::close(fd);
  EXPECT_TRUE(poll_until([&] { return connections() == 0; }));
  EXPECT_EQ(served_, 0);
}

TEST_F(HttpTest, SlowBodyIsAnswered408) {
  auto o = unix_options();
  o.request_timeout = 300ms;
  start(o);
  int fd = connect_unix();
  const std::string header = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n";
  ASSERT_EQ(::send(fd, header.data(), header.size(), MSG_NOSIGNAL), static_cast<ssize_t>(header.size()));
  std::string got = trickle(fd, std::string(500, 'b'), 20ms, 10s);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 408")) << got;
  ::close(fd);
}

TEST_F(HttpTest, SilentConnectionIsClosedAfterTheIdleTimeoutWithoutAnAnswer) {
  auto o = unix_options();
  o.idle_timeout = 200ms;
  start(o);
  int fd = connect_unix();
  ASSERT_TRUE(poll_until([&] { return connections() == 1; }));
  EXPECT_TRUE(closed_by_server(fd)) << "closed without a response";
  ::close(fd);
  EXPECT_TRUE(poll_until([&] { return connections() == 0; }));
}

// A slow reader: the request arrives at once but the client never reads the answer, so the
// server's write stalls with the socket buffers full. The write is under the request timeout
// too: the connection (and its response buffer) goes, the loop is free for everyone else.
TEST_F(HttpTest, SlowReaderIsClosedAfterTheRequestTimeout) {
  auto o = unix_options();
  o.request_timeout = 300ms;
  o.idle_timeout = 30s;
  start(o);
  int fd = connect_unix();
  const std::string req = "GET /v1/big HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  ASSERT_TRUE(poll_until([&] { return connections() == 1; }));
  EXPECT_TRUE(poll_until([&] { return connections() == 0; }, 10s)) << "the stalled write was not cut off";
  // Others are served meanwhile and after.
  auto r = unix_client().request(Method::get, "/v1/health");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  // What the client can still read is the start of the answer, then the end of the stream.
  std::string got;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200")) << got.substr(0, 100);
  EXPECT_LT(got.size(), kBigBody) << "the whole body was written to a client that does not read";
  ::close(fd);
}

// A TCP connection from `source` (a loopback address) to the server; -1 on failure.
int connect_tcp(const char* source, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::vector<std::string>& captured_lines() {
  static std::vector<std::string> lines;
  return lines;
}
std::mutex captured_mutex;
void capture(std::string_view line) {
  std::lock_guard lock(captured_mutex);
  captured_lines().emplace_back(line);
}
std::size_t count_lines(std::string_view event) {
  std::lock_guard lock(captured_mutex);
  return static_cast<std::size_t>(
      std::count_if(captured_lines().begin(), captured_lines().end(),
                    [&](const std::string& l) { return l.find(event) != l.npos; }));
}

TEST_F(HttpTest, ConnectionLimitsPerPeerAndPerListenerAndTheirLogBudget) {
  HttpServerOptions o = unix_options();
  o.tcp_address = "127.0.0.1";
  o.token = "t";
  o.max_connections = 4;
  o.max_connections_per_peer = 2;
  start(o);
  on_loop([] { set_log_sink(capture); });  // the loop thread logs
  std::uint16_t port = 0;
  on_loop([&] { port = server_->tcp_port(); });
  std::vector<int> open;
  for (const char* peer : {"127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"}) {
    open.push_back(connect_tcp(peer, port));
    ASSERT_GE(open.back(), 0) << peer;
    ASSERT_TRUE(poll_until([&] { return connections() == open.size(); })) << peer;
  }
  int third = connect_tcp("127.0.0.2", port);
  EXPECT_TRUE(closed_by_server(third)) << "a third connection from one peer";
  ::close(third);
  int fifth = connect_tcp("127.0.0.4", port);
  EXPECT_TRUE(closed_by_server(fifth)) << "a fifth TCP connection";
  ::close(fifth);
  // Remote clients do not lock out the local socket.
  auto r = unix_client().request(Method::get, "/v1/health");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  // A flood of refused connections writes at most 10 log lines (10 at once, then one per 5 s).
  for (int i = 0; i < 40; ++i) {
    int fd = connect_tcp("127.0.0.2", port);
    EXPECT_TRUE(closed_by_server(fd));
    ::close(fd);
  }
  std::size_t logged = 0;
  on_loop([&] {
    logged = count_lines("api_connection_refused");
    set_log_sink(nullptr);
  });
  EXPECT_GE(logged, 2u);
  EXPECT_LE(logged, 10u);
  // A slot freed is a slot available again.
  ::close(open.front());
  ASSERT_TRUE(poll_until([&] { return connections() == 3; }));
  int again = connect_tcp("127.0.0.2", port);
  ASSERT_GE(again, 0);
  std::string got = exchange(again, "GET /v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200")) << got;
  ::close(again);
  for (std::size_t i = 1; i < open.size(); ++i) ::close(open[i]);
}

TEST(HttpClient, ConnectFailedAndTcpRefused) {
  auto r = HttpClient(*Endpoint::parse("/nonexistent/vmroam.sock")).request(Method::get, "/v1/health");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "connect_failed");
  // Port 1 on loopback: nothing listens (and we are not allowed to).
  auto t = HttpClient(*Endpoint::parse("http://127.0.0.1:1"))
               .request(Method::get, "/v1/health", std::nullopt, 2000ms);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, "connect_failed");
}

TEST(Endpoint, ParseTable) {
  struct Case {
    const char* text;
    bool ok;
    Endpoint::Kind kind;
    const char* where;  // path or host
    std::uint16_t port;
    const char* canonical;
  };
  const Case cases[] = {
      {"/run/vmroam/ha.sock", true, Endpoint::Kind::unix_socket, "/run/vmroam/ha.sock", 0,
       "/run/vmroam/ha.sock"},
      {"unix:/run/x.sock", true, Endpoint::Kind::unix_socket, "/run/x.sock", 0, "/run/x.sock"},
      {"./x.sock", true, Endpoint::Kind::unix_socket, "./x.sock", 0, "./x.sock"},
      {"http://10.0.0.2:8186", true, Endpoint::Kind::tcp, "10.0.0.2", 8186, "http://10.0.0.2:8186"},
      {"http://ha.example:8186/", true, Endpoint::Kind::tcp, "ha.example", 8186, "http://ha.example:8186"},
      {"http://[::1]:9", true, Endpoint::Kind::tcp, "::1", 9, "http://[::1]:9"},
      {"http://10.0.0.2", false, {}, "", 0, ""},
      {"http://10.0.0.2:0", false, {}, "", 0, ""},
      {"http://10.0.0.2:65536", false, {}, "", 0, ""},
      {"http://:80", false, {}, "", 0, ""},
      {"https://h:1", true, Endpoint::Kind::tcp, "h", 1, "https://h:1"},
      {"https://[::1]:8434/", true, Endpoint::Kind::tcp, "::1", 8434, "https://[::1]:8434"},
      {"https://h", false, {}, "", 0, ""},
      {"ftp://h:1", false, {}, "", 0, ""},
      {"ha.sock", false, {}, "", 0, ""},
  };
  for (const auto& c : cases) {
    auto ep = Endpoint::parse(c.text);
    ASSERT_EQ(static_cast<bool>(ep), c.ok) << c.text;
    if (!c.ok) {
      EXPECT_EQ(ep.error().code, "bad_endpoint") << c.text;
      continue;
    }
    EXPECT_EQ(ep->kind, c.kind) << c.text;
    EXPECT_EQ(ep->kind == Endpoint::Kind::tcp ? ep->host : ep->path, c.where) << c.text;
    EXPECT_EQ(ep->port, c.port) << c.text;
    EXPECT_EQ(ep->to_string(), c.canonical) << c.text;
    EXPECT_EQ(ep->tls, std::string_view(c.text).starts_with("https://")) << c.text;
  }
}

TEST(BearerToken, ParseAndCompare) {
  struct Case {
    const char* header;
    const char* token;
  };
  const Case cases[] = {
      {"Bearer abc", "abc"},
      {"bearer abc", "abc"},
      {"BEARER  abc ", "abc"},
      {"Basic abc", ""},
      {"Bearer", ""},
      {"Bearerabc", ""},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(bearer_token(c.header), c.token) << c.header;
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

}  // namespace
}  // namespace vmroam::api
