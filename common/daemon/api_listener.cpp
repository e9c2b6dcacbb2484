#include "common/daemon/api_listener.hpp"

#include <filesystem>

#include "common/config/json_reader.hpp"
#include "common/core/address.hpp"

namespace vmroam::daemon {

namespace {

api::TlsServerFiles server_files(const config::ApiTlsFiles& f) {
  return api::TlsServerFiles{f.cert_file, f.key_file, f.client_ca_file};
}

}  // namespace

Result<std::shared_ptr<api::TlsContext>> reload_api_tls(const config::ApiSection& next) {
  if (!next.tcp || !next.tls) return std::shared_ptr<api::TlsContext>();
  return api::make_server_tls(server_files(*next.tls));
}

Result<api::HttpServerOptions> api_listener_options(const config::ApiSection& section) {
  const std::string& unix_socket = section.unix_socket;
  const std::optional<std::string>& tcp = section.tcp;
  const std::optional<std::string>& token_file = section.token_file;
  api::HttpServerOptions o;
  o.unix_path = unix_socket;
  if (!unix_socket.empty()) {
    const auto dir = std::filesystem::path(unix_socket).parent_path();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) return fail("mkdir_failed", dir.string() + ": " + ec.message());
  }
  if (tcp) {
    const auto colon = tcp->rfind(':');
    auto addr =
        colon == std::string::npos ? Result<Ipv4>(fail("bad_ipv4")) : Ipv4::parse(tcp->substr(0, colon));
    int port = 0;
    if (colon != std::string::npos) {
      for (char c : tcp->substr(colon + 1))
        port = (c >= '0' && c <= '9' && port < 65536) ? port * 10 + (c - '0') : 70000;
    }
    if (!addr || port <= 0 || port > 65535)
      return fail("bad_field", "api.tcp: expected address:port, got \"" + *tcp + "\"");
    o.tcp_address = addr->to_string();
    o.tcp_port = static_cast<std::uint16_t>(port);
    if (!token_file) return fail("missing_field", "api.token_file: required with api.tcp");
    auto token = config::read_text_file(*token_file);
    if (!token) return fail(token.error());
    std::string t = *token;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    if (t.size() < 16) return fail("io_error", *token_file + ": the token must be at least 16 characters");
    o.token = std::move(t);
    if (section.tls) {
      VMROAM_TRY(o.tls, api::make_server_tls(server_files(*section.tls)));
    }
  }
  return o;
}

}  // namespace vmroam::daemon
