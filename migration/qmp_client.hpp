// QMP client: one QEMU monitor connection on the caller's io_context (one thread, no locks).
//
//   start()    reads the greeting and negotiates (`qmp_capabilities`); events flow after that.
//   execute()  sends a command with a fresh numeric id; the handler runs when the `return` or
//              `error` with that id arrives. In-band replies come in order, so an error
//              without an id (a parse error) completes the oldest pending command.
//   events     are dispatched to the subscriber the moment they are decoded, including those
//              that arrive while commands are pending (MIGRATION completed can arrive before
//              the reply to migrate-continue: docs/migration.md) — none is dropped or deferred.
//
// The byte stream sits behind QmpTransport (a seam of three calls): the real one is a Unix
// stream socket (which can also pass an fd with SCM_RIGHTS, for `getfd`); unit tests drive the
// same socket class over a socketpair with a scripted QEMU on the other end.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/core/asio.hpp"
#include "common/core/result.hpp"
#include "migration/qmp_codec.hpp"

namespace vmroam::qmp {

class QmpTransport {
 public:
  virtual ~QmpTransport() = default;
  // Reads whatever is available (at least one byte) or fails ("qmp_closed" at EOF).
  // One read outstanding at a time.
  virtual void async_read_some(std::function<void(Result<std::string>)> handler) = 0;
  // Writes all of `data`; if `fd` >= 0 it travels with the first byte (SCM_RIGHTS).
  // One write outstanding at a time (QmpClient queues).
  virtual void async_write(std::string data, int fd, std::function<void(Result<void>)> handler) = 0;
  virtual void close() = 0;
  // The io_context's executor, for completions that must not run inside the caller.
  virtual boost::asio::any_io_executor get_executor() = 0;
};

// A connected AF_UNIX stream socket as a QmpTransport.
class UnixSocketTransport final : public QmpTransport {
 public:
  explicit UnixSocketTransport(boost::asio::local::stream_protocol::socket socket);
  ~UnixSocketTransport() override;
  void async_read_some(std::function<void(Result<std::string>)> handler) override;
  void async_write(std::string data, int fd, std::function<void(Result<void>)> handler) override;
  void close() override;
  boost::asio::any_io_executor get_executor() override { return socket_.get_executor(); }

 private:
  struct State;
  void write_more(std::shared_ptr<State> st);
  boost::asio::local::stream_protocol::socket socket_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Connects to QEMU's `-qmp unix:PATH,server=on` socket. Fails with "qmp_connect".
[[nodiscard]] Result<std::unique_ptr<QmpTransport>> connect_unix(boost::asio::io_context& io,
                                                                 const std::string& path);

class QmpClient {
 public:
  using EventHandler = std::function<void(const Event&)>;
  using ReplyHandler = std::function<void(Result<Json>)>;

  // `name` labels log lines and errors ("source", "destination").
  QmpClient(std::unique_ptr<QmpTransport> transport, std::string name);
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  void set_event_handler(EventHandler h) { on_event_ = std::move(h); }
  // Called once when the connection ends (EOF, I/O error, framing error) after start().
  void set_closed_handler(std::function<void(const Error&)> h) { on_closed_ = std::move(h); }

  // Greeting, then qmp_capabilities. Errors: "qmp_closed", "bad_greeting", "qmp_error".
  void start(std::function<void(Result<Greeting>)> done);
  // Sends {"execute":name,"arguments":args,"id":n}. Error replies become "qmp_error" with
  // context "CLASS: desc"; a connection that ends first completes every pending command
  // with "qmp_closed". `fd` >= 0 is passed with SCM_RIGHTS (for getfd); the caller keeps
  // ownership of its copy.
  void execute(const std::string& name, const Json& args, ReplyHandler done, int fd = -1);
  void close();

  [[nodiscard]] bool ready() const { return ready_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::size_t pending() const { return pending_.size(); }

 private:
  struct Outgoing {
    std::string bytes;
    int fd;
  };
  void read_more();
  void on_bytes(const std::string& bytes);
  void on_message(Message m);
  void complete(std::optional<std::uint64_t> id, Result<Json> r);
  void shut(const Error& why);
  void send(std::string bytes, int fd);
  void write_next();

  std::unique_ptr<QmpTransport> transport_;
  std::string name_;
  LineFramer framer_;
  EventHandler on_event_;
  std::function<void(const Error&)> on_closed_;
  std::function<void(Result<Greeting>)> on_greeting_;
  std::map<std::uint64_t, ReplyHandler> pending_;  // ordered: oldest id first
  std::deque<Outgoing> out_;
  bool writing_ = false;
  bool ready_ = false;
  bool closed_ = false;
  std::uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vmroam::qmp
