// QMP client and its Unix-socket transport. See qmp_client.hpp.
#include "migration/qmp_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/core/log.hpp"

namespace vmroam::qmp {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

// ---- UnixSocketTransport -------------------------------------------------------------

struct UnixSocketTransport::State {
  std::string data;
  std::size_t off = 0;
  int fd = -1;
  std::function<void(Result<void>)> handler;
};

UnixSocketTransport::UnixSocketTransport(stream::socket socket) : socket_(std::move(socket)) {
  socket_.non_blocking(true);
}

UnixSocketTransport::~UnixSocketTransport() {
  *alive_ = false;
  boost::system::error_code ec;
  socket_.close(ec);
}

void UnixSocketTransport::close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

void UnixSocketTransport::async_read_some(std::function<void(Result<std::string>)> handler) {
  auto buf = std::make_shared<std::array<char, 16384>>();
  socket_.async_read_some(asio::buffer(*buf), [buf, handler = std::move(handler), alive = alive_](
                                                  const boost::system::error_code& ec, std::size_t n) {
    if (!*alive) return;
    if (ec == asio::error::eof) return handler(fail("qmp_closed", "end of stream"));
    if (ec) return handler(fail("qmp_closed", ec.message()));
    handler(std::string(buf->data(), n));
  });
}

void UnixSocketTransport::async_write(std::string data, int fd, std::function<void(Result<void>)> handler) {
  auto st = std::make_shared<State>();
  st->data = std::move(data);
  st->fd = fd;
  st->handler = std::move(handler);
  write_more(std::move(st));
}

// sendmsg by hand (not asio::async_write) so that an fd can ride along with the first byte.
void UnixSocketTransport::write_more(std::shared_ptr<State> st) {
  while (st->off < st->data.size()) {
    iovec iov{st->data.data() + st->off, st->data.size() - st->off};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (st->fd >= 0) {
      std::memset(control, 0, sizeof control);
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &st->fd, sizeof(int));
    }
    ssize_t n = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      socket_.async_wait(stream::socket::wait_write,
                         [this, st, alive = alive_](const boost::system::error_code& ec) {
                           if (!*alive) return;
                           if (ec) return st->handler(fail("qmp_closed", ec.message()));
                           write_more(st);
                         });
      return;
    }
    if (n < 0) {
      auto h = std::move(st->handler);
      auto err = std::string(std::strerror(errno));
      asio::post(socket_.get_executor(), [h, err] { h(fail("qmp_closed", err)); });
      return;
    }
    st->off += static_cast<std::size_t>(n);
    st->fd = -1;  // passed with the first chunk
  }
  // Complete asynchronously so the caller's state is never re-entered from inside write().
  asio::post(socket_.get_executor(), [h = std::move(st->handler), alive = alive_] {
    if (*alive) h(ok());
  });
}

Result<std::unique_ptr<QmpTransport>> connect_unix(asio::io_context& io, const std::string& path) {
  stream::socket s(io);
  boost::system::error_code ec;
  s.connect(stream::endpoint(path), ec);
  if (ec) return fail("qmp_connect", path + ": " + ec.message());
  return std::unique_ptr<QmpTransport>(std::make_unique<UnixSocketTransport>(std::move(s)));
}

// ---- QmpClient ------------------------------------------------------------------------

QmpClient::QmpClient(std::unique_ptr<QmpTransport> transport, std::string name)
    : transport_(std::move(transport)), name_(std::move(name)) {}

QmpClient::~QmpClient() {
  *alive_ = false;
  if (transport_) transport_->close();
}

void QmpClient::start(std::function<void(Result<Greeting>)> done) {
  on_greeting_ = std::move(done);
  read_more();
}

void QmpClient::read_more() {
  transport_->async_read_some([this, alive = alive_](Result<std::string> r) {
    if (!*alive || closed_) return;
    if (!r) return shut(r.error());
    on_bytes(*r);
    if (!closed_) read_more();
  });
}

void QmpClient::on_bytes(const std::string& bytes) {
  framer_.feed(bytes);
  while (!closed_) {
    auto line = framer_.next();
    if (!line) return shut(line.error());
    if (!*line) return;
    auto msg = decode(**line);
    if (!msg) {
      // A line we cannot classify is not fatal (the spec lets QEMU add message kinds); it
      // is logged and skipped.
      log_warn("qmp_bad_message", {{"qemu", name_}, {"error", msg.error().to_string()}});
      continue;
    }
    on_message(std::move(*msg));
  }
}

void QmpClient::on_message(Message m) {
  if (auto* g = std::get_if<Greeting>(&m)) {
    if (!on_greeting_) return;  // a second greeting is not for us
    auto greeting = *g;
    execute("qmp_capabilities", Json(), [this, greeting](Result<Json> r) {
      auto done = std::move(on_greeting_);
      on_greeting_ = nullptr;
      if (!r) return done(fail(r.error()));
      ready_ = true;
      done(greeting);
    });
    return;
  }
  if (on_greeting_ && !ready_ && pending_.empty()) {
    // QEMU always speaks first with the greeting.
    auto done = std::move(on_greeting_);
    on_greeting_ = nullptr;
    done(fail("bad_greeting", name_ + ": first message is not a greeting"));
    return;
  }
  if (auto* r = std::get_if<Return>(&m)) return complete(r->id, std::move(r->value));
  if (auto* e = std::get_if<ErrorReply>(&m)) {
    return complete(e->id, fail("qmp_error", e->error_class + ": " + e->desc));
  }
  if (auto* ev = std::get_if<Event>(&m)) {
    if (on_event_) on_event_(*ev);
  }
}

void QmpClient::complete(std::optional<std::uint64_t> id, Result<Json> r) {
  auto it = id ? pending_.find(*id) : pending_.begin();
  if (it == pending_.end()) {
    log_warn("qmp_unmatched_reply", {{"qemu", name_}, {"id", id ? std::to_string(*id) : "none"}});
    return;
  }
  auto handler = std::move(it->second);
  pending_.erase(it);
  handler(std::move(r));
}

void QmpClient::execute(const std::string& name, const Json& args, ReplyHandler done, int fd) {
  if (closed_) {
    asio::post(transport_->get_executor(),
               [done = std::move(done), n = name_] { done(fail("qmp_closed", n + ": connection closed")); });
    return;
  }
  auto id = next_id_++;
  pending_.emplace(id, std::move(done));
  log_debug("qmp_execute", {{"qemu", name_}, {"command", name}, {"id", std::to_string(id)}});
  send(encode_command(id, name, args), fd);
}

void QmpClient::send(std::string bytes, int fd) {
  out_.push_back({std::move(bytes), fd});
  if (!writing_) write_next();
}

void QmpClient::write_next() {
  if (out_.empty() || closed_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  auto o = std::move(out_.front());
  out_.pop_front();
  transport_->async_write(std::move(o.bytes), o.fd, [this, alive = alive_](Result<void> r) {
    if (!*alive || closed_) return;
    if (!r) return shut(r.error());
    write_next();
  });
}

void QmpClient::close() {
  if (closed_) return;
  shut(make_error("qmp_closed", name_ + ": closed by us"));
}

void QmpClient::shut(const Error& why) {
  if (closed_) return;
  closed_ = true;
  ready_ = false;
  transport_->close();
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, h] : pending) h(fail("qmp_closed", name_ + ": " + why.to_string()));
  if (on_greeting_) {
    auto done = std::move(on_greeting_);
    on_greeting_ = nullptr;
    done(fail("qmp_closed", name_ + ": " + why.to_string()));
  }
  if (on_closed_) on_closed_(why);
}

}  // namespace vmroam::qmp
