// vmroamctl: parse the command line (command_line.hpp), make the planned API calls in order,
// print the last answer (view.hpp), and map the outcome to an exit code (kExit*).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/api/http_client.hpp"
#include "tools/ctl/command_line.hpp"
#include "tools/ctl/view.hpp"

namespace {

using namespace vmroam;

Result<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("open_failed", std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > 64 * 1024) return fail("too_large", "over 64 KiB");
  return ss.str();
}

int run(const ctl::Invocation& inv) {
  const std::string name = std::string(inv.command->object) +
                           (inv.command->verb.empty() ? "" : " " + std::string(inv.command->verb));
  auto endpoint = api::Endpoint::parse(inv.endpoint);
  if (!endpoint) {
    std::fprintf(stderr, "vmroamctl: --api: %s\n", endpoint.error().to_string().c_str());
    return ctl::kExitUsage;
  }
  if (!endpoint->tls && !(inv.global.ca_file + inv.global.cert_file).empty())
    std::fprintf(stderr, "vmroamctl: warning: --ca-file/--cert-file/--key-file are for https://, not %s\n",
                 endpoint->to_string().c_str());
  api::HttpClient client(*endpoint, inv.global.token.value_or(""),
                         {inv.global.ca_file, inv.global.cert_file, inv.global.key_file});
  api::ClientResponse last;
  for (const auto& call : inv.calls) {
    auto r = client.request(call.method, call.target, call.body, inv.global.timeout + call.extra_timeout);
    if (!r) {
      std::fprintf(stderr, "vmroamctl: %s: cannot reach the agent at %s: %s\n", name.c_str(),
                   endpoint->to_string().c_str(), r.error().to_string().c_str());
      return ctl::kExitUnreachable;
    }
    if (r->status >= 400) {
      if (inv.global.json && r->json.is_object()) std::printf("%s\n", r->json.dump(2).c_str());
      std::fprintf(stderr, "vmroamctl: %s: %s\n", name.c_str(), api::describe_error(*r).c_str());
      return ctl::kExitApiError;
    }
    last = std::move(*r);
  }
  if (inv.command->view == ctl::View::status && last.json.is_object() && last.json.contains("cluster") &&
      last.json["cluster"].is_object()) {
    auto r =
        client.request(api::Method::get, std::string(ctl::kClusterTarget), std::nullopt, inv.global.timeout);
    if (r && r->status == 200)
      last.json["cluster"] = std::move(r->json);
    else  // the health still says what this HA is; say why the rest is missing
      last.json["cluster"]["error"] = r ? api::describe_error(*r) : r.error().to_string();
  }
  if (inv.global.json) {
    const ctl::Json out = inv.command->view == ctl::View::text ? ctl::metrics_to_json(last.text) : last.json;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::fputs(ctl::render(inv.command->view, last.json, last.text).c_str(), stdout);
  }
  if (inv.command->object == "move" && inv.command->verb == "activate" && inv.calls.size() > 1) {
    if (auto why = ctl::move_failure(last.json); !why.empty()) {
      std::fprintf(stderr, "vmroamctl: %s: %s\n", name.c_str(), why.c_str());
      return ctl::kExitApiError;
    }
  }
  return ctl::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto inv = ctl::parse_command_line(args, read_small_file);
  if (!inv) {
    std::fprintf(stderr, "vmroamctl: %s\n", inv.error().context.c_str());
    return ctl::kExitUsage;
  }
  switch (inv->action) {
    case ctl::Invocation::Action::version:
      std::printf("vmroamctl %s\n", VMROAM_VERSION);
      return ctl::kExitOk;
    case ctl::Invocation::Action::help:
      std::fputs(inv->help_text.c_str(), stdout);
      return ctl::kExitOk;
    case ctl::Invocation::Action::run:
      break;
  }
  return run(*inv);
}
