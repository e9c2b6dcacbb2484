// The QMP wire codec (QEMU Machine Protocol, qemu docs/interop/qmp-spec.rst; facts for 7.2
// in docs/migration.md). Pure: bytes in, typed messages out; no sockets, clocks or logging.
//
//   LineFramer   cuts the server's byte stream into messages (one JSON object per line,
//                CRLF-terminated; partial reads and several messages per read are normal).
//   decode()     classifies one line: greeting, return, error or event. Unknown keys are
//                ignored (the spec's compatibility rule); bad JSON is a named error.
//   encode_command()  {"execute":NAME,"arguments":{…},"id":N} + CRLF. Our ids are numbers.
//   MigrationInfo     the fields of a `query-migrate` reply the driver uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace vmroam::qmp {

using Json = nlohmann::json;

// A line longer than this is not QMP output we can use (query replies are a few KiB);
// the framer fails rather than buffering without bound.
inline constexpr std::size_t kMaxLineBytes = 1 << 20;

class LineFramer {
 public:
  // Appends received bytes.
  void feed(std::string_view bytes);
  // The next complete line without its terminator (CR LF or a bare LF); blank lines are
  // skipped. Empty when no complete line is buffered. Fails ("line_too_long") once the
  // unterminated tail exceeds kMaxLineBytes; the framer then stays failed.
  [[nodiscard]] Result<std::optional<std::string>> next();
  [[nodiscard]] std::size_t buffered() const { return buf_.size() - start_; }

 private:
  std::string buf_;
  std::size_t start_ = 0;
  bool failed_ = false;
};

struct Greeting {
  int major = 0;
  int minor = 0;
  int micro = 0;
  std::string package;
  std::vector<std::string> capabilities;
};

// {"return": VALUE, "id": N}. `id` is empty when absent or not one of our numeric ids.
struct Return {
  std::optional<std::uint64_t> id;
  Json value;
};

// {"error": {"class", "desc"}, "id"?}. Parse errors may come without an id.
struct ErrorReply {
  std::optional<std::uint64_t> id;
  std::string error_class;
  std::string desc;
};

// {"event", "data", "timestamp": {"seconds", "microseconds"}}; the timestamp is the host's
// wall clock, so source and destination events on one host can be compared directly.
struct Event {
  std::string name;
  Json data;
  WallTime timestamp;
  // data.status for MIGRATION, data.pass for MIGRATION_PASS; convenience accessors.
  [[nodiscard]] std::string status() const;
  [[nodiscard]] std::int64_t pass() const;
};

using Message = std::variant<Greeting, Return, ErrorReply, Event>;

// Classifies one line. Errors: "bad_json", "not_an_object", "unknown_message",
// "bad_greeting", "bad_error", "bad_event".
[[nodiscard]] Result<Message> decode(std::string_view line);

// One command, ready to write (ends with CRLF). `arguments` null or an empty object → omitted.
[[nodiscard]] std::string encode_command(std::uint64_t id, std::string_view name,
                                         const Json& arguments = Json());

// The parts of MigrationInfo (qapi/migration.json) the driver shows and records.
// Absent fields are 0 / empty; `status` is "none" when QEMU returned {}.
struct MigrationInfo {
  std::string status = "none";
  std::int64_t total_time_ms = 0;
  std::int64_t setup_time_ms = 0;
  std::optional<std::int64_t> expected_downtime_ms;  // only while active
  std::optional<std::int64_t> downtime_ms;           // only after completed
  std::uint64_t ram_total = 0;
  std::uint64_t ram_transferred = 0;
  std::uint64_t ram_remaining = 0;
  std::uint64_t dirty_pages_rate = 0;  // pages/s
  std::uint64_t page_size = 4096;
  std::uint64_t dirty_sync_count = 0;
  double mbps = 0;
  std::optional<std::uint64_t> downtime_bytes;  // 7.0+: RAM sent while the VM was stopped
  std::string error_desc;
};

// Fails ("bad_migration_info") only if the reply is not an object; wrong-typed fields are
// ignored like unknown ones.
[[nodiscard]] Result<MigrationInfo> parse_migration_info(const Json& reply);

// Wall time from a QMP timestamp (exposed for tests).
[[nodiscard]] WallTime timestamp_to_wall(std::int64_t seconds, std::int64_t microseconds);

}  // namespace vmroam::qmp
