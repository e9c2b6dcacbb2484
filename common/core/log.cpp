#include "common/core/log.hpp"

#include <cstdio>

namespace vmroam {
namespace {
LogLevel g_level = LogLevel::info;
void stderr_sink(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
}
LogSink g_sink = stderr_sink;

constexpr std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

void append_value(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || c == '\n' || c == '\t') quote = true;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }
void set_log_sink(LogSink sink) { g_sink = sink ? sink : stderr_sink; }

bool parse_log_level(std::string_view s, LogLevel& out) {
  for (auto l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    if (s == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

std::string format_log_line(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  std::string line = "level=";
  line += level_name(level);
  line += " event=";
  append_value(line, event);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    append_value(line, v);
  }
  return line;
}

void log_event(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (level < g_level) return;
  g_sink(format_log_line(level, event, fields));
}

}  // namespace vmroam
