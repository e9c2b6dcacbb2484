// A scripted QEMU monitor for unit tests: the server end of a socketpair on the test's
// io_context. It records every command it receives (name, arguments, id, a passed fd,
// arrival time) and answers through a per-test hook; helpers send returns, errors and
// events exactly as QEMU 7.2 writes them (CRLF-terminated JSON, docs/migration.md).
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/core/asio.hpp"
#include "migration/qmp_client.hpp"
#include "migration/qmp_codec.hpp"

namespace vmroam::qmp::testing {

class FakeQemu {
 public:
  struct Received {
    std::string name;
    Json args;
    Json id;
    int fd = -1;  // an fd that arrived with this command (SCM_RIGHTS), owned by the fake
    std::chrono::steady_clock::time_point at;
  };

  FakeQemu(boost::asio::io_context& io, std::string name) : io_(io), name_(std::move(name)), peer_(io) {}
  ~FakeQemu() {
    for (auto& r : received)
      if (r.fd >= 0) ::close(r.fd);
  }

  // The client's end; call once. Starts reading and (unless disabled) greets.
  std::unique_ptr<QmpTransport> client_transport(bool greet = true) {
    boost::asio::local::stream_protocol::socket client(io_);
    boost::asio::local::connect_pair(client, peer_);
    wait_read();
    if (greet) send_line(kGreeting);
    return std::make_unique<UnixSocketTransport>(std::move(client));
  }

  // Default behaviour: reply {} to everything. Tests replace it.
  std::function<void(const Received&)> on_command = [this](const Received& r) {
    reply(r.id, Json::object());
  };

  void send_line(const std::string& line) { write_all(line + "\r\n"); }
  void send_raw(const std::string& bytes) { write_all(bytes); }
  void reply(const Json& id, const Json& value) { send_line(Json{{"return", value}, {"id", id}}.dump()); }
  void error(const Json& id, const std::string& cls, const std::string& desc) {
    Json e{{"error", {{"class", cls}, {"desc", desc}}}};
    if (!id.is_null()) e["id"] = id;
    send_line(e.dump());
  }
  void event(const std::string& name, const Json& data = Json()) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    Json e{{"timestamp", {{"seconds", us / 1000000}, {"microseconds", us % 1000000}}}, {"event", name}};
    if (!data.is_null()) e["data"] = data;
    send_line(e.dump());
  }
  void event_at(const std::string& name, const Json& data, std::int64_t seconds, std::int64_t micros) {
    Json e{{"timestamp", {{"seconds", seconds}, {"microseconds", micros}}}, {"event", name}};
    if (!data.is_null()) e["data"] = data;
    send_line(e.dump());
  }
  void close() {
    boost::system::error_code ec;
    peer_.close(ec);
  }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& r : received) n.push_back(r.name);
    return n;
  }
  [[nodiscard]] const Received* find(const std::string& name) const {
    for (const auto& r : received)
      if (r.name == name) return &r;
    return nullptr;
  }
  [[nodiscard]] const std::string& name() const { return name_; }

  std::vector<Received> received;

  static constexpr const char* kGreeting =
      R"({"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}})";

 private:
  void wait_read() {
    peer_.async_wait(boost::asio::local::stream_protocol::socket::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec) return;
                       if (read_some()) wait_read();
                     });
  }
  // recvmsg by hand to catch SCM_RIGHTS. Returns false at EOF.
  bool read_some() {
    char buf[8192];
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(peer_.native_handle(), &msg, MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    if (n == 0) return false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        std::memcpy(&pending_fd_, CMSG_DATA(c), sizeof(int));
    }
    framer_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    while (true) {
      auto line = framer_.next();
      if (!line || !*line) break;
      Json cmd = Json::parse(**line, nullptr, false);
      Received r;
      if (cmd.is_object()) {
        r.name = cmd.value("execute", "");
        r.args = cmd.contains("arguments") ? cmd["arguments"] : Json::object();
        r.id = cmd.contains("id") ? cmd["id"] : Json();
      }
      r.fd = pending_fd_;
      pending_fd_ = -1;
      r.at = std::chrono::steady_clock::now();
      received.push_back(r);
      on_command(received.back());
    }
    return true;
  }
  void write_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(peer_.native_handle(), s.data() + off, s.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        pollfd p{peer_.native_handle(), POLLOUT, 0};
        ::poll(&p, 1, 1000);
        continue;
      }
      if (n <= 0) return;  // peer gone: tests notice through the client
      off += static_cast<std::size_t>(n);
    }
  }

  boost::asio::io_context& io_;
  std::string name_;
  boost::asio::local::stream_protocol::socket peer_;
  LineFramer framer_;
  int pending_fd_ = -1;
};

// Runs the io_context until `done()` or the deadline; true if done. Tests never sleep bare.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds deadline = std::chrono::milliseconds(5000)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  io.restart();
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(5));
    io.restart();
  }
  return done();
}

}  // namespace vmroam::qmp::testing
