// vmroamctl's subcommand table and argument parser (see command_line.hpp for the grammar).
#include "tools/ctl/command_line.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace vmroam::ctl {

namespace {

using api::Method;

// ---- planners: one per command, pure --------------------------------------------------------

Json body_of(const Invocation& inv, std::string_view id_field = {}) {
  Json body = Json::object();
  if (!id_field.empty()) body[std::string(id_field)] = inv.positional;
  for (const auto& p : inv.command->params)
    if (!p.query)
      if (auto it = inv.values.find(p.name); it != inv.values.end()) body[std::string(p.name)] = it->second;
  return body;
}

std::string query_of(const Invocation& inv) {
  std::string q;
  for (const auto& p : inv.command->params) {
    if (!p.query) continue;
    auto it = inv.values.find(p.name);
    if (it == inv.values.end()) continue;
    q += q.empty() ? "?" : "&";
    q += std::string(p.name) + "=" +
         encode_segment(it->second.is_string() ? it->second.get<std::string>() : it->second.dump());
  }
  return q;
}

std::vector<ApiCall> plan_get(std::string target) {
  return {ApiCall{Method::get, std::move(target), {}, {}}};
}

std::vector<ApiCall> plan_vm_add(const Invocation& inv) {
  return {ApiCall{Method::post, "/v1/vms", body_of(inv, "id"), {}}};
}
std::vector<ApiCall> plan_vm_set(const Invocation& inv) {
  return {ApiCall{Method::put, "/v1/vms/" + encode_segment(inv.positional), body_of(inv), {}}};
}
std::vector<ApiCall> plan_vm_remove(const Invocation& inv) {
  return {ApiCall{Method::delete_, "/v1/vms/" + encode_segment(inv.positional), {}, {}}};
}
std::vector<ApiCall> plan_vm_list(const Invocation&) { return plan_get("/v1/vms"); }
std::vector<ApiCall> plan_vm_show(const Invocation& inv) {
  return plan_get("/v1/vms/" + encode_segment(inv.positional));
}
std::vector<ApiCall> plan_binding_list(const Invocation&) { return plan_get("/v1/bindings"); }
std::vector<ApiCall> plan_binding_show(const Invocation& inv) {
  return plan_get("/v1/bindings/" + encode_segment(inv.positional));
}
std::vector<ApiCall> plan_visitor_list(const Invocation&) { return plan_get("/v1/visitors"); }

std::chrono::milliseconds wait_of(const Invocation& inv) {
  auto it = inv.values.find("wait_ms");
  return it == inv.values.end() ? std::chrono::milliseconds{0}
                                : std::chrono::milliseconds{it->second.get<std::uint64_t>()};
}

std::vector<ApiCall> plan_visitor_show(const Invocation& inv) {
  return {ApiCall{
      Method::get, "/v1/visitors/" + encode_segment(inv.positional) + query_of(inv), {}, wait_of(inv)}};
}
std::vector<ApiCall> plan_move_prepare(const Invocation& inv) {
  return {ApiCall{Method::post, "/v1/visitors", body_of(inv, "id"), {}}};
}
// activate answers 202 at once; with wait_ms we then long-poll the visitor for the outcome.
std::vector<ApiCall> plan_move_activate(const Invocation& inv) {
  const std::string path = "/v1/visitors/" + encode_segment(inv.positional);
  std::vector<ApiCall> calls{ApiCall{Method::post, path + "/activate", Json::object(), {}}};
  if (inv.values.contains("wait_ms"))
    calls.push_back(ApiCall{Method::get, path + query_of(inv), {}, wait_of(inv)});
  return calls;
}
template <const char* kAction>
std::vector<ApiCall> plan_visitor_action(const Invocation& inv) {
  return {ApiCall{
      Method::post, "/v1/visitors/" + encode_segment(inv.positional) + "/" + kAction, Json::object(), {}}};
}
constexpr char kAbort[] = "abort";
constexpr char kResumed[] = "resumed";
constexpr char kDepart[] = "depart";

std::vector<ApiCall> plan_status(const Invocation&) { return plan_get("/v1/health"); }
std::vector<ApiCall> plan_metrics(const Invocation&) { return plan_get("/metrics"); }

// ---- the table ------------------------------------------------------------------------------

const ParamSpec kKeyParams[] = {
    {"spi", ParamType::uint, false, false, "security parameter index (256 or more)"},
    {"algorithm", ParamType::string, false, false, "hmac-sha256 (default) or hmac-md5"},
    {"key", ParamType::key, false, false, "hex key, at least 32 digits; @FILE reads it from FILE"},
};

std::vector<ParamSpec> vm_params() {
  std::vector<ParamSpec> p{
      {"home_address", ParamType::string, true, false, "the VM's IPv4 address in the home prefix"},
      {"mac", ParamType::string, true, false, "the VM's MAC address"},
      {"allowed_fas", ParamType::address_list, false, false,
       "comma-separated foreign agents it may register through"},
      {"home_addresses_v6", ParamType::address_list, false, false,
       "comma-separated IPv6 home addresses (/128s in the home IPv6 prefix)"},
  };
  p.insert(p.end(), std::begin(kKeyParams), std::end(kKeyParams));
  return p;
}

std::vector<ParamSpec> prepare_params() {
  std::vector<ParamSpec> p{
      {"home_address", ParamType::string, true, false, "the VM's home IPv4 address"},
      {"mac", ParamType::string, true, false, "the VM's MAC address"},
      {"home_gateway", ParamType::string, true, false, "the VM's default gateway at home"},
      {"home_gateway_mac", ParamType::string, true, false, "that gateway's MAC address"},
      {"home_agent", ParamType::string, true, false, "the home agent's address"},
  };
  p.insert(p.end(), std::begin(kKeyParams), std::end(kKeyParams));
  p.push_back({"lifetime", ParamType::uint, false, false, "registration lifetime in seconds"});
  p.push_back({"encapsulation", ParamType::string, false, false, "ipip (default) or udp (RFC 3519)"});
  p.push_back({"home_addresses_v6", ParamType::address_list, false, false,
               "comma-separated IPv6 home addresses to register (RFC 5454)"});
  p.push_back({"home_gateway_v6", ParamType::string, false, false,
               "the VM's IPv6 gateway at home (required with home_addresses_v6)"});
  return p;
}

const ParamSpec kWaitParam{"wait_ms", ParamType::uint, false, true,
                           "wait up to this many ms for the registration outcome"};

std::vector<CommandSpec> build_commands() {
  return {
      {"vm", "add", "", "ID", vm_params(), Agent::home, View::fields, "register a VM with the home agent",
       plan_vm_add},
      {"vm", "set", "", "ID", vm_params(), Agent::home, View::fields,
       "replace a VM's settings (give all of them)", plan_vm_set},
      {"vm",
       "remove",
       "rm",
       "ID",
       {},
       Agent::home,
       View::fields,
       "remove a VM and its binding",
       plan_vm_remove},
      {"vm", "list", "ls", "", {}, Agent::home, View::vm_table, "list VMs", plan_vm_list},
      {"vm", "show", "", "ID", {}, Agent::home, View::fields, "show a VM and its binding", plan_vm_show},
      {"binding",
       "list",
       "ls",
       "",
       {},
       Agent::home,
       View::binding_table,
       "list bindings (VMs away from home)",
       plan_binding_list},
      {"binding",
       "show",
       "",
       "HOME_ADDRESS",
       {},
       Agent::home,
       View::fields,
       "show one binding",
       plan_binding_show},
      {"visitor",
       "list",
       "ls",
       "",
       {},
       Agent::foreign,
       View::visitor_table,
       "list visitors at this foreign agent",
       plan_visitor_list},
      {"visitor",
       "show",
       "",
       "ID",
       {kWaitParam},
       Agent::foreign,
       View::fields,
       "show a visitor (wait_ms=N long-polls for the registration outcome)",
       plan_visitor_show},
      {"move", "prepare", "", "ID", prepare_params(), Agent::foreign, View::fields,
       "prepare a VM's arrival: install delivery state and start buffering", plan_move_prepare},
      {"move",
       "activate",
       "",
       "ID",
       {kWaitParam},
       Agent::foreign,
       View::fields,
       "send the proxy registration; wait_ms=N waits for the outcome (exit 1 if it failed)",
       plan_move_activate},
      {"move",
       "abort",
       "",
       "ID",
       {},
       Agent::foreign,
       View::fields,
       "undo a prepare (before activation succeeded)",
       plan_visitor_action<kAbort>},
      {"move",
       "resumed",
       "",
       "ID",
       {},
       Agent::foreign,
       View::fields,
       "the VM runs here now: flush its buffered packets",
       plan_visitor_action<kResumed>},
      {"move",
       "depart",
       "",
       "ID",
       {},
       Agent::foreign,
       View::fields,
       "deregister a visitor that left",
       plan_visitor_action<kDepart>},
      {"status",
       "",
       "",
       "",
       {},
       Agent::home,
       View::fields,
       "the agent's health (role, version, uptime, counts)",
       plan_status},
      {"metrics", "", "", "", {}, Agent::home, View::text, "the agent's Prometheus metrics", plan_metrics},
  };
}

// ---- parsing helpers ------------------------------------------------------------------------

Unexpected usage(std::string message) { return fail("usage", std::move(message)); }

bool is_object_name(std::string_view s) {
  return std::any_of(commands().begin(), commands().end(),
                     [&](const CommandSpec& c) { return c.object == s; });
}

const CommandSpec* find_command(std::string_view object, std::string_view verb) {
  for (const auto& c : commands())
    if (c.object == object && (c.verb == verb || (!c.alias.empty() && c.alias == verb))) return &c;
  return nullptr;
}

std::string trim(std::string s) {
  const auto ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  const auto end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

Result<std::uint64_t> parse_uint(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return fail("bad_number", std::string(s));
  return v;
}

// --timeout: seconds, decimals allowed ("2.5"), or with an "ms" suffix.
Result<std::chrono::milliseconds> parse_timeout(std::string_view s) {
  if (s.ends_with("ms")) {
    auto v = parse_uint(s.substr(0, s.size() - 2));
    if (!v || *v == 0) return usage("--timeout: not a duration: " + std::string(s));
    return std::chrono::milliseconds(*v);
  }
  const auto dot = s.find('.');
  auto whole = parse_uint(s.substr(0, dot));
  std::uint64_t ms = whole ? *whole * 1000 : 0;
  bool ok = whole.has_value();
  if (ok && dot != std::string_view::npos) {
    std::string frac(s.substr(dot + 1));
    if (frac.empty() || frac.size() > 3 || !parse_uint(frac))
      ok = false;
    else
      ms += *parse_uint(frac + std::string(3 - frac.size(), '0'));
  }
  if (!ok || ms == 0) return usage("--timeout: not a duration in seconds: " + std::string(s));
  return std::chrono::milliseconds(ms);
}

Result<Json> convert(const ParamSpec& p, const std::string& value, const FileReader& read_file) {
  switch (p.type) {
    case ParamType::string:
      return Json(value);
    case ParamType::uint: {
      auto v = parse_uint(value);
      if (!v) return usage(std::string(p.name) + ": not a non-negative integer: " + value);
      return Json(*v);
    }
    case ParamType::address_list: {
      Json list = Json::array();
      std::string_view rest = value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        const auto item = rest.substr(0, comma);
        if (item.empty()) return usage(std::string(p.name) + ": empty item in list: " + value);
        list.push_back(std::string(item));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (comma != std::string_view::npos && rest.empty())
          return usage(std::string(p.name) + ": empty item in list: " + value);
      }
      return list;
    }
    case ParamType::key: {
      if (!value.starts_with("@")) return Json(value);
      auto text = read_file(value.substr(1));
      // Never echo key material; naming the file is enough.
      if (!text)
        return usage(std::string(p.name) + ": cannot read " + value.substr(1) + ": " +
                     text.error().to_string());
      return Json(trim(*text));
    }
  }
  std::abort();
}

}  // namespace

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> kCommands = build_commands();
  return kCommands;
}

std::string encode_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '~' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

std::string usage_line(const CommandSpec& c) {
  std::string s = "vmroamctl " + std::string(c.object);
  if (!c.verb.empty()) s += " " + std::string(c.verb);
  if (!c.positional.empty()) s += " " + std::string(c.positional);
  for (const auto& p : c.params) {
    s += " ";
    if (!p.required) s += "[";
    s += std::string(p.name) + "=";
    switch (p.type) {
      case ParamType::string:
        s += "VALUE";
        break;
      case ParamType::uint:
        s += "N";
        break;
      case ParamType::address_list:
        s += "A,B,…";
        break;
      case ParamType::key:
        s += "HEX|@FILE";
        break;
    }
    if (!p.required) s += "]";
  }
  return s;
}

constexpr const char* kGlobalHelp = R"(Global options (anywhere on the line):
  --api ENDPOINT      the agent's API: a Unix socket path, https://HOST:PORT, or
                      http://HOST:PORT for an agent configured "insecure"
                      (default: /run/vmroam/fa.sock for visitor and move commands,
                      /run/vmroam/ha.sock for everything else)
  --token TOKEN       bearer token for a TCP endpoint
  --token-file FILE   read the token from FILE
  --ca-file FILE      CA certificates (PEM) for an https:// agent (default: the system's)
  --cert-file FILE    our certificate (PEM), for an agent that requires client certificates
  --key-file FILE     its private key (PEM)
  --json              print the API's JSON instead of tables
  --timeout SECONDS   give up after this long (default 10; "500ms" also works)
  -h, --help          help (also: vmroamctl help OBJECT [VERB])
  -V, --version       print the version

Arguments: key=value, --key value or --key=value (--home-address = home_address).

Exit status: 0 ok, 1 the agent answered with an error (or a waited-for move failed),
2 bad command line (nothing was sent), 3 the agent could not be reached or gave no valid answer.
)";

}  // namespace

std::string general_help() {
  std::string s =
      "usage: vmroamctl [OPTIONS] OBJECT VERB [ARGS]\n\n"
      "Controls a vmroam home agent or foreign agent over its JSON API.\n\nCommands:\n";
  std::size_t width = 0;
  for (const auto& c : commands())
    width =
        std::max(width, c.object.size() + (c.verb.empty() ? 0 : c.verb.size() + 1) + c.positional.size() + 1);
  for (const auto& c : commands()) {
    std::string name = std::string(c.object) + (c.verb.empty() ? "" : " " + std::string(c.verb));
    if (!c.positional.empty()) name += " " + std::string(c.positional);
    s += "  " + name + std::string(width + 2 - name.size(), ' ') + std::string(c.help) + "\n";
  }
  s += "\n";
  s += kGlobalHelp;
  s += "\nPer-command help: vmroamctl OBJECT VERB --help\n";
  return s;
}

std::string object_help(std::string_view object) {
  std::string s;
  for (const auto& c : commands())
    if (c.object == object) s += usage_line(c) + "\n    " + std::string(c.help) + "\n";
  return s;
}

std::string command_help(const CommandSpec& c) {
  std::string s = "usage: " + usage_line(c) + "\n\n" + std::string(c.help) + ".\n";
  s += std::string("Talks to the ") + (c.agent == Agent::foreign ? "foreign" : "home") +
       " agent by default (" + std::string(c.agent == Agent::foreign ? kDefaultFaSocket : kDefaultHaSocket) +
       ").\n";
  if (!c.params.empty()) {
    s += "\nArguments:\n";
    std::size_t width = 0;
    for (const auto& p : c.params) width = std::max(width, p.name.size());
    for (const auto& p : c.params)
      s += "  " + std::string(p.name) + std::string(width + 2 - p.name.size(), ' ') +
           (p.required ? "(required) " : "") + std::string(p.help) + "\n";
  }
  return s;
}

Result<Invocation> parse_command_line(std::span<const std::string> args, const FileReader& read_file) {
  Invocation inv;
  std::vector<std::string> words;  // everything that is not a global option
  std::optional<std::string> token_file;
  bool help = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value_of = [&](std::string_view name) -> Result<std::string> {
      if (a.size() > name.size() && a[name.size()] == '=') return a.substr(name.size() + 1);
      if (i + 1 >= args.size()) return usage(std::string(name) + " needs a value");
      return args[++i];
    };
    auto is = [&](std::string_view name) {
      return a == name || (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=');
    };
    if (a == "-h" || a == "--help") {
      help = true;
    } else if (a == "-V" || a == "--version") {
      inv.action = Invocation::Action::version;
      return inv;
    } else if (a == "--json" || a == "-j") {
      inv.global.json = true;
    } else if (is("--api")) {
      auto v = value_of("--api");
      if (!v) return fail(v.error());
      inv.global.api = *v;
    } else if (is("--token")) {
      auto v = value_of("--token");
      if (!v) return fail(v.error());
      inv.global.token = *v;
    } else if (is("--token-file")) {
      auto v = value_of("--token-file");
      if (!v) return fail(v.error());
      token_file = *v;
    } else if (is("--ca-file") || is("--cert-file") || is("--key-file")) {
      const std::string_view name = is("--ca-file")     ? "--ca-file"
                                    : is("--cert-file") ? "--cert-file"
                                                        : "--key-file";
      auto v = value_of(name);
      if (!v) return fail(v.error());
      (name == "--ca-file"     ? inv.global.ca_file
       : name == "--cert-file" ? inv.global.cert_file
                               : inv.global.key_file) = *v;
    } else if (is("--timeout")) {
      auto v = value_of("--timeout");
      if (!v) return fail(v.error());
      auto t = parse_timeout(*v);
      if (!t) return fail(t.error());
      inv.global.timeout = *t;
    } else if (a.starts_with("--")) {
      // A command flag: --home-address X / --home-address=X → home_address=X.
      std::string name = a.substr(2);
      std::string value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return usage(a + " needs a value");
      }
      std::replace(name.begin(), name.end(), '-', '_');
      words.push_back(name + "=" + value);
    } else {
      words.push_back(a);
    }
  }
  if (inv.global.token && token_file) return usage("give --token or --token-file, not both");
  if (inv.global.cert_file.empty() != inv.global.key_file.empty())
    return usage("--cert-file and --key-file go together");
  if (token_file) {
    auto t = read_file(*token_file);
    if (!t) return usage("--token-file: cannot read " + *token_file + ": " + t.error().to_string());
    inv.global.token = trim(*t);
  }

  // "help OBJECT [VERB]" is "OBJECT [VERB] --help".
  if (!words.empty() && words[0] == "help") {
    help = true;
    words.erase(words.begin());
  }
  if (words.empty()) {
    if (!help) return usage("no command given (try vmroamctl --help)");
    inv.action = Invocation::Action::help;
    inv.help_text = general_help();
    return inv;
  }
  if (!is_object_name(words[0])) return usage("unknown command '" + words[0] + "' (try vmroamctl --help)");
  const CommandSpec* spec = find_command(words[0], "");
  std::size_t next = 1;
  if (!spec) {
    if (words.size() < 2) {
      if (!help) return usage("'" + words[0] + "' needs a verb:\n" + object_help(words[0]));
      inv.action = Invocation::Action::help;
      inv.help_text = object_help(words[0]);
      return inv;
    }
    spec = find_command(words[0], words[1]);
    if (!spec)
      return usage("unknown verb '" + words[1] + "' for '" + words[0] + "':\n" + object_help(words[0]));
    next = 2;
  }
  if (help) {
    inv.action = Invocation::Action::help;
    inv.help_text = command_help(*spec);
    return inv;
  }
  inv.command = spec;
  const std::string name =
      std::string(spec->object) + (spec->verb.empty() ? "" : " " + std::string(spec->verb));

  for (std::size_t i = next; i < words.size(); ++i) {
    const std::string& w = words[i];
    const auto eq = w.find('=');
    if (eq == std::string::npos) {
      if (spec->positional.empty() || !inv.positional.empty())
        return usage(name + ": unexpected argument '" + w + "' (arguments are key=value)");
      inv.positional = w;
      continue;
    }
    const std::string key = w.substr(0, eq);
    auto p = std::find_if(spec->params.begin(), spec->params.end(),
                          [&](const ParamSpec& s) { return s.name == key; });
    if (p == spec->params.end()) {
      std::string known;
      for (const auto& s : spec->params) known += (known.empty() ? "" : ", ") + std::string(s.name);
      return usage(name + ": unknown argument '" + key + "'" +
                   (known.empty() ? " (it takes none)" : " (known: " + known + ")"));
    }
    if (inv.values.contains(key)) return usage(name + ": " + key + " given twice");
    auto v = convert(*p, w.substr(eq + 1), read_file);
    if (!v) return usage(name + ": " + v.error().context);
    inv.values.emplace(key, std::move(*v));
  }
  if (!spec->positional.empty() && inv.positional.empty())
    return usage(name + ": " + std::string(spec->positional) + " is required\nusage: " + usage_line(*spec));
  for (const auto& p : spec->params)
    if (p.required && !inv.values.contains(p.name))
      return usage(name + ": " + std::string(p.name) + " is required\nusage: " + usage_line(*spec));

  inv.endpoint = inv.global.api
                     ? *inv.global.api
                     : std::string(spec->agent == Agent::foreign ? kDefaultFaSocket : kDefaultHaSocket);
  inv.calls = spec->plan(inv);
  return inv;
}

}  // namespace vmroam::ctl
