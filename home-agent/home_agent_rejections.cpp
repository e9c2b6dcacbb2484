// HomeAgent's answers to whatever reaches UDP 434 that it rejects: rate-limited log lines and
// denials, and a counter per outcome (docs/security.md "Floods on UDP 434").
#include <string>

#include "common/core/log.hpp"
#include "home-agent/home_agent.hpp"

namespace vmroam::ha {

// ---- Rejections: rate-limited lines, counted reasons ---------------------------------------

// Anyone who can reach UDP 434 can make us reject; the lines each reason may write are
// limited (common/core/rate_limit.hpp) and what was left out is reported every
// kSuppressedReport as one "log_suppressed" line per reason (docs/security.md "Floods").
bool HomeAgent::may_log(std::string_view reason) {
  if (rejection_log_.admit(reason, seams_.clock->now())) return true;
  if (!suppressed_armed_) {
    suppressed_armed_ = true;
    suppressed_timer_.expires_after(kSuppressedReport);
    suppressed_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: the agent may be gone
      suppressed_armed_ = false;
      report_suppressed();
    });
  }
  return false;
}

void HomeAgent::report_suppressed() {
  for (const auto& s : rejection_log_.take_suppressed()) {
    log_warn("log_suppressed", {{"reason", s.key},
                                {"suppressed", std::to_string(s.count)},
                                {"interval_s", std::to_string(kSuppressedReport.count())}});
    metrics_
        .counter("vmroam_log_suppressed_total", "Log lines about rejected messages left out (rate limit)",
                 {{"reason", s.key}})
        .inc(static_cast<double>(s.count));
  }
}

// A denial goes to whatever address the request came from, which a forger chooses: they are
// limited per reason (accepted replies never are), so that a flood does not make us a
// reflector, and the loop's time goes to the real requests.
bool HomeAgent::may_reply(std::string_view reason) {
  if (denial_replies_.admit(reason, seams_.clock->now())) return true;
  metrics_
      .counter("vmroam_registration_replies_suppressed_total", "Denials not sent (rate limit per reason)",
               {{"reason", std::string(reason)}})
      .inc();
  return false;
}

// One counter per (result, code), looked up once: this runs for every datagram.
void HomeAgent::count_message(std::string_view result, int code) {
  std::string key(result);
  key += '|';
  key += std::to_string(code);
  auto it = message_counters_.find(key);
  if (it == message_counters_.end()) {
    api::Labels labels{{"result", std::string(result)}};
    if (code >= 0) labels.emplace_back("code", std::to_string(code));
    api::Counter* c = &metrics_.counter("vmroam_registration_messages_total",
                                        "UDP 434 control messages by outcome", std::move(labels));
    it = message_counters_.emplace(std::move(key), c).first;
  }
  it->second->inc();
}

}  // namespace vmroam::ha
