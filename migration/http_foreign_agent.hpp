// ForeignAgentControl over the FA's JSON API (docs/api.md "Foreign agent"), using the shared
// HTTP client (common/api/http_client.hpp) on the driver's io_context. HTTP statuses map to
// named errors: a 4xx/5xx becomes "fa_refused" with the API's error body in the context;
// transport failures keep the client's codes (connect_failed, timeout, bad_response).
#pragma once

#include <string>

#include "common/api/http_client.hpp"
#include "common/core/asio.hpp"
#include "migration/foreign_agent_control.hpp"

namespace vmroam::migration {

class HttpForeignAgent final : public ForeignAgentControl {
 public:
  HttpForeignAgent(boost::asio::io_context& io, api::Endpoint endpoint, std::string token = {},
                   api::TlsClientFiles tls = {});
  void prepare(const Json& visitor, Done<Json> done) override;
  void activate(const std::string& id, Done<Json> done) override;
  void wait_registered(const std::string& id, std::chrono::milliseconds timeout,
                       Done<RegistrationOutcome> done) override;
  void resumed(const std::string& id, Done<Json> done) override;
  void abort(const std::string& id, Done<Json> done) override;
  void depart(const std::string& id, Done<Json> done) override;
  [[nodiscard]] std::string describe() const override;

 private:
  void post(std::string target, std::optional<Json> body, Done<Json> done);
  boost::asio::io_context& io_;
  api::HttpClient client_;
};

// `id` with every byte outside RFC 3986 unreserved percent-encoded (one path segment).
[[nodiscard]] std::string encode_path_segment(const std::string& id);
// "/v1/visitors/" + the encoded id.
[[nodiscard]] std::string visitor_path(const std::string& id);

}  // namespace vmroam::migration
