// QMP codec: framing, classification, encoding. See qmp_codec.hpp.
#include "migration/qmp_codec.hpp"

#include <limits>
#include <type_traits>

namespace vmroam::qmp {

void LineFramer::feed(std::string_view bytes) {
  if (failed_) return;
  // Compact lazily so that many small messages do not cost a memmove each.
  if (start_ > 0 && start_ >= buf_.size() / 2) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<std::string>> LineFramer::next() {
  if (failed_) return fail("line_too_long", "framer failed earlier");
  while (true) {
    auto nl = buf_.find('\n', start_);
    if (nl == std::string::npos) {
      if (buf_.size() - start_ > kMaxLineBytes) {
        failed_ = true;
        return fail("line_too_long", std::to_string(buf_.size() - start_) + " bytes without a newline");
      }
      return std::optional<std::string>{};
    }
    std::size_t end = nl;
    if (end > start_ && buf_[end - 1] == '\r') --end;
    std::string line = buf_.substr(start_, end - start_);
    start_ = nl + 1;
    if (start_ == buf_.size()) {
      buf_.clear();
      start_ = 0;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    return std::optional<std::string>{std::move(line)};
  }
}

namespace {

std::optional<std::uint64_t> numeric_id(const Json& msg) {
  auto it = msg.find("id");
  if (it == msg.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  auto v = it->get<std::int64_t>();
  if (v < 0) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

std::string string_field(const Json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// A number that does not fit T is treated like a wrong-typed field (ignored): converting it
// would be undefined behaviour (a float out of range) or silently wrap (found by fuzz/qmp).
template <typename T>
T number_field(const Json& obj, const char* key, T dflt = T{}) {
  if (!obj.is_object()) return dflt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return dflt;
  if constexpr (std::is_integral_v<T>) {
    using Limits = std::numeric_limits<T>;
    if (it->is_number_float()) {
      const double d = it->get<double>();
      // max() as a double rounds up to 2^63 or 2^64, itself out of range: hence '<'.
      if (!(d >= static_cast<double>(Limits::min()) && d < static_cast<double>(Limits::max()))) return dflt;
      return static_cast<T>(d);
    }
    if (it->is_number_unsigned()) {
      if (it->get<std::uint64_t>() > static_cast<std::uint64_t>(Limits::max())) return dflt;
    } else {
      const auto v = it->get<std::int64_t>();
      if (v < 0 && (std::is_unsigned_v<T> || v < static_cast<std::int64_t>(Limits::min()))) return dflt;
      if (v > 0 && static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(Limits::max())) return dflt;
    }
  }
  return it->get<T>();
}

int int_field(const Json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return 0;
  return number_field<int>(obj, key);
}

// Host wall-clock seconds as QEMU stamps events. The clock counts nanoseconds in 64 bits, so
// beyond ±9·10^9 s (the year 2255) a timestamp would overflow it: not a time (found by
// fuzz/qmp; regression inputs fuzz/corpus/qmp/regression-timestamp-*).
constexpr std::int64_t kMaxTimestampSeconds = 9'000'000'000;

Result<Message> decode_greeting(const Json& g) {
  if (!g.is_object()) return fail("bad_greeting", "\"QMP\" is not an object");
  Greeting out;
  auto v = g.find("version");
  if (v == g.end() || !v->is_object()) return fail("bad_greeting", "no version");
  auto q = v->find("qemu");
  if (q == v->end() || !q->is_object()) return fail("bad_greeting", "no version.qemu");
  out.major = int_field(*q, "major");
  out.minor = int_field(*q, "minor");
  out.micro = int_field(*q, "micro");
  out.package = string_field(*v, "package");
  auto caps = g.find("capabilities");
  if (caps != g.end() && caps->is_array()) {
    for (const auto& c : *caps)
      if (c.is_string()) out.capabilities.push_back(c.get<std::string>());
  }
  return Message{std::move(out)};
}

}  // namespace

WallTime timestamp_to_wall(std::int64_t seconds, std::int64_t microseconds) {
  return WallTime{} + std::chrono::seconds(seconds) + std::chrono::microseconds(microseconds);
}

std::string Event::status() const { return string_field(data, "status"); }
std::int64_t Event::pass() const { return number_field<std::int64_t>(data, "pass"); }

Result<Message> decode(std::string_view line) {
  // allow_exceptions=false: a malformed line yields a "discarded" value instead of throwing.
  Json msg = Json::parse(line.begin(), line.end(), nullptr, false);
  if (msg.is_discarded()) {
    return fail("bad_json", std::string(line.substr(0, 80)));
  }
  if (!msg.is_object()) return fail("not_an_object", std::string(line.substr(0, 80)));

  if (auto it = msg.find("QMP"); it != msg.end()) return decode_greeting(*it);
  if (auto it = msg.find("return"); it != msg.end()) return Message{Return{numeric_id(msg), *it}};
  if (auto it = msg.find("error"); it != msg.end()) {
    if (!it->is_object()) return fail("bad_error", "\"error\" is not an object");
    ErrorReply e{numeric_id(msg), string_field(*it, "class"), string_field(*it, "desc")};
    if (e.error_class.empty()) return fail("bad_error", "no error class");
    return Message{std::move(e)};
  }
  if (auto it = msg.find("event"); it != msg.end()) {
    if (!it->is_string()) return fail("bad_event", "\"event\" is not a string");
    Event ev;
    ev.name = it->get<std::string>();
    if (auto d = msg.find("data"); d != msg.end()) ev.data = *d;
    auto ts = msg.find("timestamp");
    if (ts == msg.end() || !ts->is_object()) return fail("bad_event", ev.name + ": no timestamp");
    const auto seconds = number_field<std::int64_t>(*ts, "seconds");
    const auto microseconds = number_field<std::int64_t>(*ts, "microseconds");
    if (seconds > kMaxTimestampSeconds || seconds < -kMaxTimestampSeconds || microseconds > 1'000'000'000 ||
        microseconds < -1'000'000'000)
      return fail("bad_event", ev.name + ": timestamp out of range");
    ev.timestamp = timestamp_to_wall(seconds, microseconds);
    return Message{std::move(ev)};
  }
  return fail("unknown_message", std::string(line.substr(0, 80)));
}

std::string encode_command(std::uint64_t id, std::string_view name, const Json& arguments) {
  Json cmd = Json::object();
  cmd["execute"] = std::string(name);
  if (!arguments.is_null() && !(arguments.is_object() && arguments.empty())) cmd["arguments"] = arguments;
  cmd["id"] = id;
  // dump() with error_handler replace: arguments built from user strings never throw here.
  return cmd.dump(-1, ' ', false, Json::error_handler_t::replace) + "\r\n";
}

Result<MigrationInfo> parse_migration_info(const Json& reply) {
  if (!reply.is_object()) return fail("bad_migration_info", "query-migrate reply is not an object");
  MigrationInfo m;
  if (auto s = string_field(reply, "status"); !s.empty()) m.status = s;
  m.total_time_ms = number_field<std::int64_t>(reply, "total-time");
  m.setup_time_ms = number_field<std::int64_t>(reply, "setup-time");
  if (reply.contains("expected-downtime") && reply["expected-downtime"].is_number())
    m.expected_downtime_ms = number_field<std::int64_t>(reply, "expected-downtime");
  if (reply.contains("downtime") && reply["downtime"].is_number())
    m.downtime_ms = number_field<std::int64_t>(reply, "downtime");
  m.error_desc = string_field(reply, "error-desc");
  auto ram = reply.find("ram");
  if (ram != reply.end() && ram->is_object()) {
    m.ram_total = number_field<std::uint64_t>(*ram, "total");
    m.ram_transferred = number_field<std::uint64_t>(*ram, "transferred");
    m.ram_remaining = number_field<std::uint64_t>(*ram, "remaining");
    m.dirty_pages_rate = number_field<std::uint64_t>(*ram, "dirty-pages-rate");
    m.page_size = number_field<std::uint64_t>(*ram, "page-size", 4096);
    m.dirty_sync_count = number_field<std::uint64_t>(*ram, "dirty-sync-count");
    m.mbps = number_field<double>(*ram, "mbps");
    if (ram->contains("downtime-bytes") && (*ram)["downtime-bytes"].is_number())
      m.downtime_bytes = number_field<std::uint64_t>(*ram, "downtime-bytes");
  }
  return m;
}

}  // namespace vmroam::qmp
