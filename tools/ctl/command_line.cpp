// vmroamctl's argument parser and help texts (see command_line.hpp for the grammar; the table
// of commands is in command_table.cpp).
#include "tools/ctl/command_line.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace vmroam::ctl {

namespace {

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

namespace {

// ---- global options: a table, one row per option ---------------------------------------------

// What the global options gather before the command is known.
struct GlobalState {
  std::optional<std::string> token_file;
  bool help = false;
  bool version = false;
};

struct GlobalOption {
  std::string_view name;
  std::string_view short_name;  // "" or "-h"
  bool takes_value = false;
  // Stores the value (empty for a flag); an error names the option.
  Result<void> (*apply)(GlobalOptions& g, GlobalState& st, const std::string& value) = nullptr;
};

Result<void> set_timeout(GlobalOptions& g, GlobalState&, const std::string& v) {
  auto t = parse_timeout(v);
  if (!t) return fail(t.error());
  g.timeout = *t;
  return {};
}

const GlobalOption kGlobalOptions[] = {
    {"--help", "-h", false,
     [](GlobalOptions&, GlobalState& st, const std::string&) -> Result<void> {
       st.help = true;
       return {};
     }},
    {"--version", "-V", false,
     [](GlobalOptions&, GlobalState& st, const std::string&) -> Result<void> {
       st.version = true;
       return {};
     }},
    {"--json", "-j", false,
     [](GlobalOptions& g, GlobalState&, const std::string&) -> Result<void> {
       g.json = true;
       return {};
     }},
    {"--api", "", true,
     [](GlobalOptions& g, GlobalState&, const std::string& v) -> Result<void> {
       g.api = v;
       return {};
     }},
    {"--token", "", true,
     [](GlobalOptions& g, GlobalState&, const std::string& v) -> Result<void> {
       g.token = v;
       return {};
     }},
    {"--token-file", "", true,
     [](GlobalOptions&, GlobalState& st, const std::string& v) -> Result<void> {
       st.token_file = v;
       return {};
     }},
    {"--ca-file", "", true,
     [](GlobalOptions& g, GlobalState&, const std::string& v) -> Result<void> {
       g.ca_file = v;
       return {};
     }},
    {"--cert-file", "", true,
     [](GlobalOptions& g, GlobalState&, const std::string& v) -> Result<void> {
       g.cert_file = v;
       return {};
     }},
    {"--key-file", "", true,
     [](GlobalOptions& g, GlobalState&, const std::string& v) -> Result<void> {
       g.key_file = v;
       return {};
     }},
    {"--timeout", "", true, set_timeout},
};

// The row for `arg` ("--api", "--api=X", "-h"), or null.
const GlobalOption* find_global(std::string_view arg) {
  for (const auto& o : kGlobalOptions) {
    if (arg == o.name || (!o.short_name.empty() && arg == o.short_name)) return &o;
    if (o.takes_value && arg.starts_with(o.name) && arg.size() > o.name.size() && arg[o.name.size()] == '=')
      return &o;
  }
  return nullptr;
}

// A command flag: --home-address X / --home-address=X → "home_address=X".
Result<std::string> command_flag(std::span<const std::string> args, std::size_t& i) {
  const std::string& a = args[i];
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
  return name + "=" + value;
}

// Takes the global options out of args (they may stand anywhere) and returns the other words.
Result<std::vector<std::string>> take_globals(std::span<const std::string> args, GlobalOptions& g,
                                              GlobalState& st) {
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (const GlobalOption* o = find_global(a)) {
      std::string value;
      if (o->takes_value && a.size() > o->name.size() && a[o->name.size()] == '=')
        value = a.substr(o->name.size() + 1);
      else if (o->takes_value && i + 1 >= args.size())
        return usage(std::string(o->name) + " needs a value");
      else if (o->takes_value)
        value = args[++i];
      if (auto r = o->apply(g, st, value); !r) return fail(r.error());
      if (st.version) return words;  // --version wins over everything after it
    } else if (a.starts_with("--")) {
      auto w = command_flag(args, i);
      if (!w) return fail(w.error());
      words.push_back(std::move(*w));
    } else {
      words.push_back(a);
    }
  }
  return words;
}

Result<void> check_globals(GlobalOptions& g, const GlobalState& st, const FileReader& read_file) {
  if (g.token && st.token_file) return usage("give --token or --token-file, not both");
  if (g.cert_file.empty() != g.key_file.empty()) return usage("--cert-file and --key-file go together");
  if (st.token_file) {
    auto t = read_file(*st.token_file);
    if (!t) return usage("--token-file: cannot read " + *st.token_file + ": " + t.error().to_string());
    g.token = trim(*t);
  }
  return {};
}

// ---- the command: OBJECT [VERB], then its arguments -------------------------------------------

Invocation help_with(Invocation inv, std::string text) {
  inv.action = Invocation::Action::help;
  inv.help_text = std::move(text);
  return inv;
}

// Finds the command the words name; sets `next` to the first word after it. A help request
// that stops short of a whole command returns the help for what was named (in `help`).
Result<const CommandSpec*> resolve_command(const std::vector<std::string>& words, bool help,
                                           std::size_t& next, std::string& help_text) {
  if (words.empty()) {
    if (!help) return usage("no command given (try vmroamctl --help)");
    help_text = general_help();
    return nullptr;
  }
  if (!is_object_name(words[0])) return usage("unknown command '" + words[0] + "' (try vmroamctl --help)");
  next = 1;
  if (const CommandSpec* spec = find_command(words[0], "")) return spec;
  if (words.size() < 2) {
    if (!help) return usage("'" + words[0] + "' needs a verb:\n" + object_help(words[0]));
    help_text = object_help(words[0]);
    return nullptr;
  }
  const CommandSpec* spec = find_command(words[0], words[1]);
  if (!spec)
    return usage("unknown verb '" + words[1] + "' for '" + words[0] + "':\n" + object_help(words[0]));
  next = 2;
  return spec;
}

// One key=value word (or the positional) of command `name` into inv.
Result<void> take_argument(Invocation& inv, const std::string& name, const std::string& w,
                           const FileReader& read_file) {
  const CommandSpec& spec = *inv.command;
  const auto eq = w.find('=');
  if (eq == std::string::npos) {
    if (spec.positional.empty() || !inv.positional.empty())
      return usage(name + ": unexpected argument '" + w + "' (arguments are key=value)");
    inv.positional = w;
    return {};
  }
  const std::string key = w.substr(0, eq);
  auto p =
      std::find_if(spec.params.begin(), spec.params.end(), [&](const ParamSpec& s) { return s.name == key; });
  if (p == spec.params.end()) {
    std::string known;
    for (const auto& s : spec.params) known += (known.empty() ? "" : ", ") + std::string(s.name);
    return usage(name + ": unknown argument '" + key + "'" +
                 (known.empty() ? " (it takes none)" : " (known: " + known + ")"));
  }
  if (inv.values.contains(key)) return usage(name + ": " + key + " given twice");
  auto v = convert(*p, w.substr(eq + 1), read_file);
  if (!v) return usage(name + ": " + v.error().context);
  inv.values.emplace(key, std::move(*v));
  return {};
}

Result<void> take_arguments(Invocation& inv, std::span<const std::string> words,
                            const FileReader& read_file) {
  const CommandSpec& spec = *inv.command;
  const std::string name = std::string(spec.object) + (spec.verb.empty() ? "" : " " + std::string(spec.verb));
  for (const auto& w : words)
    if (auto r = take_argument(inv, name, w, read_file); !r) return r;
  if (!spec.positional.empty() && inv.positional.empty())
    return usage(name + ": " + std::string(spec.positional) + " is required\nusage: " + usage_line(spec));
  for (const auto& p : spec.params)
    if (p.required && !inv.values.contains(p.name))
      return usage(name + ": " + std::string(p.name) + " is required\nusage: " + usage_line(spec));
  return {};
}

}  // namespace

Result<Invocation> parse_command_line(std::span<const std::string> args, const FileReader& read_file) {
  Invocation inv;
  GlobalState st;
  auto words = take_globals(args, inv.global, st);
  if (!words) return fail(words.error());
  if (st.version) {
    inv.action = Invocation::Action::version;
    return inv;
  }
  if (auto r = check_globals(inv.global, st, read_file); !r) return fail(r.error());

  // "help OBJECT [VERB]" is "OBJECT [VERB] --help".
  if (!words->empty() && words->front() == "help") {
    st.help = true;
    words->erase(words->begin());
  }
  std::size_t next = 0;
  std::string help_text;
  auto spec = resolve_command(*words, st.help, next, help_text);
  if (!spec) return fail(spec.error());
  if (!*spec) return help_with(std::move(inv), std::move(help_text));
  if (st.help) return help_with(std::move(inv), command_help(**spec));

  inv.command = *spec;
  if (auto r = take_arguments(inv, std::span(*words).subspan(next), read_file); !r) return fail(r.error());
  inv.endpoint = inv.global.api
                     ? *inv.global.api
                     : std::string((*spec)->agent == Agent::foreign ? kDefaultFaSocket : kDefaultHaSocket);
  inv.calls = (*spec)->plan(inv);
  return inv;
}

}  // namespace vmroam::ctl
