// Structured logging: one line per event, "level=info event=binding_added hoa=10.1.0.10 …",
// to stderr so journald picks it up. Daemons log; pure protocol code never does.
//
//   log_info("registration_accepted", {{"hoa", hoa.to_string()}, {"coa", coa.to_string()}});
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace vmroam {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

using LogField = std::pair<std::string_view, std::string>;

// Global threshold (set once at start-up from --verbose / config).
void set_log_level(LogLevel level);
[[nodiscard]] LogLevel log_level();
[[nodiscard]] bool parse_log_level(std::string_view s, LogLevel& out);

// Where lines go; tests may capture them. Default: stderr.
using LogSink = void (*)(std::string_view line);
void set_log_sink(LogSink sink);

void log_event(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
inline void log_debug(std::string_view e, std::initializer_list<LogField> f = {}) {
  log_event(LogLevel::debug, e, f);
}
inline void log_info(std::string_view e, std::initializer_list<LogField> f = {}) {
  log_event(LogLevel::info, e, f);
}
inline void log_warn(std::string_view e, std::initializer_list<LogField> f = {}) {
  log_event(LogLevel::warn, e, f);
}
inline void log_error(std::string_view e, std::initializer_list<LogField> f = {}) {
  log_event(LogLevel::error, e, f);
}

// Formats one line (exposed for tests): values with spaces, quotes or '=' are quoted.
[[nodiscard]] std::string format_log_line(LogLevel level, std::string_view event,
                                          std::initializer_list<LogField> fields);

}  // namespace vmroam
