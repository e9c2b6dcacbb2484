// HomeAgentControl over the HA's JSON API, using the shared HTTP client on the driver's
// io_context. A 4xx/5xx becomes "ha_refused" with the API's error body in the context;
// transport failures keep the client's codes (connect_failed, timeout, bad_response).
#pragma once

#include <string>

#include "common/api/http_client.hpp"
#include "common/core/asio.hpp"
#include "migration/home_agent_control.hpp"

namespace vmroam::migration {

class HttpHomeAgent final : public HomeAgentControl {
 public:
  HttpHomeAgent(boost::asio::io_context& io, api::Endpoint endpoint, std::string token = {},
                api::TlsClientFiles tls = {});
  void handover(const std::string& vm_id, Phase phase, std::optional<WallTime> stopped_at,
                Done<nlohmann::json> done) override;
  [[nodiscard]] std::string describe() const override;

 private:
  boost::asio::io_context& io_;
  api::HttpClient client_;
};

}  // namespace vmroam::migration
