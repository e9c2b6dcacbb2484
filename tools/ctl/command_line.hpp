// vmroamctl's command line: the subcommand table, and argv → the API calls to make.
//
// Grammar (ip/wg-like; docs/operations.md "vmroamctl"):
//
//   vmroamctl [GLOBAL…] OBJECT VERB [POSITIONAL] [key=value | --key value | --key=value]…
//
// Global options (--api, --token, --token-file, --ca-file, --cert-file, --key-file, --json,
// --timeout, --help, --version) may
// appear anywhere. `--home-address X` is the same as `home_address=X`. Which agent a command
// talks to by default follows its object: `visitor` and `move` go to the foreign agent
// (/run/vmroam/fa.sock), everything else to the home agent (/run/vmroam/ha.sock).
//
// Pure: parse_command_line() reads no files itself (key=@FILE and --token-file go through the
// FileReader seam) and opens no sockets; it returns the plan of API calls, which main runs.
// The table itself (commands() and the planners) is command_table.cpp.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/message.hpp"
#include "common/core/result.hpp"

namespace vmroam::ctl {

using api::Json;

inline constexpr std::string_view kDefaultHaSocket = "/run/vmroam/ha.sock";
inline constexpr std::string_view kDefaultFaSocket = "/run/vmroam/fa.sock";
inline constexpr std::chrono::milliseconds kDefaultTimeout{10'000};

// Exit codes (documented in --help and docs/operations.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitApiError = 1;     // the agent answered 4xx/5xx (or a move failed)
inline constexpr int kExitUsage = 2;        // bad command line; nothing was sent
inline constexpr int kExitUnreachable = 3;  // could not connect, timed out, or no valid answer

enum class ParamType {
  string,        // sent as a JSON string
  uint,          // a JSON number (decimal digits only)
  address_list,  // "a,b,c" → ["a","b","c"]; "" → [] (IPv4 or IPv6 addresses, checked by the agent)
  key,           // hex key material; "@FILE" reads it from FILE (whitespace trimmed)
};

struct ParamSpec {
  std::string_view name;
  ParamType type = ParamType::string;
  bool required = false;
  bool query = false;  // a query parameter rather than a body field
  std::string_view help;
};

enum class Agent { home, foreign };

// How a successful response is shown to people (--json prints the API's JSON instead).
enum class View {
  fields,    // one "key: value" line per (flattened) field
  vm_table,  // {"vms":[…]} as aligned columns
  binding_table,
  visitor_table,
  text,    // the body as is (metrics)
  status,  // health fields, then a cluster's members as a table
};

// `status` against a home agent in a cluster (its health has a "cluster" object): main then
// also asks for the cluster and shows it under "cluster" (docs/operations.md "vmroamctl").
inline constexpr std::string_view kClusterTarget = "/v1/cluster";

struct ApiCall {
  api::Method method = api::Method::get;
  std::string target;  // path and query, percent-encoded
  std::optional<Json> body;
  // Added to --timeout for this call (a long-poll's wait).
  std::chrono::milliseconds extra_timeout{0};
};

struct Invocation;
// Builds the calls from the parsed positional and key=value arguments.
using Planner = std::vector<ApiCall> (*)(const Invocation& inv);

struct CommandSpec {
  std::string_view object;      // "vm"
  std::string_view verb;        // "add"
  std::string_view alias;       // "" or a short form ("ls", "rm")
  std::string_view positional;  // "" or its name in help ("ID", "HOME_ADDRESS")
  std::vector<ParamSpec> params;
  Agent agent = Agent::home;
  View view = View::fields;
  std::string_view help;
  Planner plan = nullptr;
};

// The subcommand table: the single source of commands, help texts and parsing.
[[nodiscard]] const std::vector<CommandSpec>& commands();

struct GlobalOptions {
  std::optional<std::string> api;    // --api
  std::optional<std::string> token;  // --token (or read from --token-file)
  std::string ca_file;               // --ca-file: CAs for an https:// agent (default: the system's)
  std::string cert_file;             // --cert-file, --key-file: our certificate for mutual TLS
  std::string key_file;
  bool json = false;  // --json
  std::chrono::milliseconds timeout = kDefaultTimeout;
};

struct Invocation {
  enum class Action { run, help, version };
  Action action = Action::run;
  std::string help_text;  // for Action::help
  GlobalOptions global;
  const CommandSpec* command = nullptr;
  std::string positional;
  // Body/query values already converted to JSON, in spec order by name.
  std::map<std::string, Json, std::less<>> values;
  std::string endpoint;  // --api, or the default socket of the command's agent
  std::vector<ApiCall> calls;
};

// Reads a small file (key, token); errors are reported as usage errors naming the file.
using FileReader = std::function<Result<std::string>(const std::string& path)>;

// argv without the program name. Errors: code "usage", context says what is wrong and names
// the argument or key.
[[nodiscard]] Result<Invocation> parse_command_line(std::span<const std::string> args,
                                                    const FileReader& read_file);

[[nodiscard]] std::string general_help();
[[nodiscard]] std::string object_help(std::string_view object);
[[nodiscard]] std::string command_help(const CommandSpec& spec);

// "/v1/vms/" + percent-encoded segment (anything outside [A-Za-z0-9._~-] is escaped).
[[nodiscard]] std::string encode_segment(std::string_view s);

}  // namespace vmroam::ctl
