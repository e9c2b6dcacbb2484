// The HA's JSON API as a HomeAgentControl. See http_home_agent.hpp.
#include "migration/http_home_agent.hpp"

#include "migration/http_foreign_agent.hpp"

namespace vmroam::migration {

namespace {
// The stop call is on the path that decides whether packets are lost: it must be quick or
// not at all (the HA's hold timeout covers a call that never arrives).
constexpr std::chrono::milliseconds kCallTimeout{5'000};
}  // namespace

HttpHomeAgent::HttpHomeAgent(boost::asio::io_context& io, api::Endpoint endpoint, std::string token,
                             api::TlsClientFiles tls)
    : io_(io), client_(std::move(endpoint), std::move(token), std::move(tls)) {}

std::string HttpHomeAgent::describe() const { return "http " + client_.endpoint().to_string(); }

void HttpHomeAgent::handover(const std::string& vm_id, Phase phase, std::optional<WallTime> stopped_at,
                             Done<nlohmann::json> done) {
  nlohmann::json body{{"phase", to_string(phase)}};
  if (stopped_at)
    body["stopped_at_us"] =
        std::chrono::duration_cast<std::chrono::microseconds>(stopped_at->time_since_epoch()).count();
  std::string target = "/v1/vms/" + encode_path_segment(vm_id) + "/handover";
  client_.async_request(io_, api::Method::post, target, std::move(body), kCallTimeout,
                        [done = std::move(done), target](Result<api::ClientResponse> r) {
                          if (!r) return done(fail(r.error()));
                          if (r->status / 100 != 2)
                            return done(fail("ha_refused", target + ": " + api::describe_error(*r)));
                          done(r->json);
                        });
}

}  // namespace vmroam::migration
