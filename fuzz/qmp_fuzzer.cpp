// Fuzz target: everything vmroam-migrate reads from a QEMU monitor socket (migration/qmp_codec:
// the line framer, decode() of greetings, returns, errors and events, the query-migrate
// reader, migration/qemu_hazards' query-version and query-memory-size-summary readers) and the
// command encoder it writes with.
//
// The input is the byte stream of one QMP session. Its first byte chooses the size of the
// reads the framer is fed in (1..256 bytes), because real reads cut lines anywhere. Beyond "no
// crash, no undefined behaviour" it aborts unless
//   * every line the framer returns is non-blank and holds no '\n' (it cut at each newline);
//   * the framer never buffers more than kMaxLineBytes plus one read without failing;
//   * every decode error carries a code;
//   * a command encoded from any decoded event name and data is one CRLF-terminated line
//     that parses back to the same name, id and arguments (the driver echoes QEMU's strings
//     into commands, e.g. capability names).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "migration/qemu_hazards.hpp"
#include "migration/qmp_codec.hpp"

namespace {

namespace qmp = vmroam::qmp;

void require(bool condition) {
  if (!condition) std::abort();
}

void check_encoded(std::uint64_t id, const std::string& name, const qmp::Json& arguments) {
  const std::string line = qmp::encode_command(id, name, arguments);
  require(line.size() >= 2 && line.compare(line.size() - 2, 2, "\r\n") == 0);
  require(line.find('\n') == line.size() - 1);
  auto back = qmp::Json::parse(line, nullptr, false);
  require(back.is_object() && back.value("id", std::uint64_t{0}) == id);
  // The encoder replaces invalid UTF-8, so compare only names that survive unchanged.
  if (qmp::Json(name).dump(-1, ' ', false, qmp::Json::error_handler_t::ignore) ==
      qmp::Json(name).dump(-1, ' ', false, qmp::Json::error_handler_t::replace)) {
    require(back["execute"] == name);
  }
}

void handle(const std::string& line) {
  auto msg = qmp::decode(line);
  if (!msg) {
    require(!msg.error().code.empty());
    return;
  }
  std::visit(
      [](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, qmp::Return>) {
          auto info = qmp::parse_migration_info(m.value);
          require(info.has_value() == m.value.is_object());
          if (info) require(!info->status.empty());
          if (auto v = vmroam::migration::parse_qemu_version(m.value))
            require(v->major >= 0 && v->major <= 9999);
          if (auto ram = vmroam::migration::parse_guest_ram(m.value))
            (void)vmroam::migration::known_hazards("tcg", nullptr, &*ram);
        } else if constexpr (std::is_same_v<T, qmp::Event>) {
          (void)m.status();
          (void)m.pass();
          check_encoded(7, m.name, m.data.is_object() ? m.data : qmp::Json());
        } else if constexpr (std::is_same_v<T, qmp::ErrorReply>) {
          require(!m.error_class.empty());
        }
      },
      *msg);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = std::size_t{data[0]} + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  qmp::LineFramer framer;
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    framer.feed(stream.substr(at, chunk));
    while (true) {
      auto line = framer.next();
      if (!line) {
        require(line.error().code == "line_too_long");
        return 0;
      }
      if (!line->has_value()) break;
      const std::string& l = **line;
      require(!l.empty() && l.find('\n') == std::string::npos);
      handle(l);
    }
    require(framer.buffered() <= qmp::kMaxLineBytes + chunk);
  }
  return 0;
}
