// The FA's JSON API as a ForeignAgentControl. See http_foreign_agent.hpp.
#include "migration/http_foreign_agent.hpp"

#include <cstdio>

namespace vmroam::migration {

namespace {
constexpr std::chrono::milliseconds kCallTimeout{5'000};
// The long poll may legitimately take wait_ms; allow that much plus this.
constexpr std::chrono::milliseconds kLongPollSlack{5'000};
}  // namespace

std::string encode_path_segment(const std::string& id) {
  std::string out;
  for (unsigned char c : id) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string visitor_path(const std::string& id) { return "/v1/visitors/" + encode_path_segment(id); }

HttpForeignAgent::HttpForeignAgent(boost::asio::io_context& io, api::Endpoint endpoint, std::string token,
                                   api::TlsClientFiles tls)
    : io_(io), client_(std::move(endpoint), std::move(token), std::move(tls)) {}

std::string HttpForeignAgent::describe() const { return "http " + client_.endpoint().to_string(); }

void HttpForeignAgent::post(std::string target, std::optional<Json> body, Done<Json> done) {
  client_.async_request(io_, api::Method::post, target, std::move(body), kCallTimeout,
                        [done = std::move(done), target](Result<api::ClientResponse> r) {
                          if (!r) return done(fail(r.error()));
                          if (r->status / 100 != 2)
                            return done(fail("fa_refused", target + ": " + api::describe_error(*r)));
                          done(r->json);
                        });
}

void HttpForeignAgent::prepare(const Json& visitor, Done<Json> done) {
  post("/v1/visitors", visitor, std::move(done));
}

void HttpForeignAgent::activate(const std::string& id, Done<Json> done) {
  post(visitor_path(id) + "/activate", Json::object(), std::move(done));
}

void HttpForeignAgent::resumed(const std::string& id, Done<Json> done) {
  post(visitor_path(id) + "/resumed", Json::object(), std::move(done));
}

void HttpForeignAgent::abort(const std::string& id, Done<Json> done) {
  post(visitor_path(id) + "/abort", Json::object(), std::move(done));
}

void HttpForeignAgent::depart(const std::string& id, Done<Json> done) {
  post(visitor_path(id) + "/depart", Json::object(), std::move(done));
}

void HttpForeignAgent::wait_registered(const std::string& id, std::chrono::milliseconds timeout,
                                       Done<RegistrationOutcome> done) {
  auto target = visitor_path(id) + "?wait_ms=" + std::to_string(timeout.count());
  client_.async_request(io_, api::Method::get, target, std::nullopt, timeout + kLongPollSlack,
                        [done = std::move(done), target](Result<api::ClientResponse> r) {
                          if (!r) return done(fail(r.error()));
                          if (r->status != 200)
                            return done(fail("fa_refused", target + ": " + api::describe_error(*r)));
                          done(outcome_from_visitor(r->json));
                        });
}

}  // namespace vmroam::migration
