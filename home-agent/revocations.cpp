// Revocations: see revocations.hpp.
#include "home-agent/revocations.hpp"

#include <chrono>

#include "common/auth/authenticator.hpp"
#include "common/core/log.hpp"
#include "common/wire/message.hpp"

namespace vmroam::ha {

namespace {
constexpr int kAttempts = 3;  // RFC 3543 §4: retransmit, then give up
constexpr std::chrono::milliseconds kInitial{1000};
}  // namespace

std::optional<store::RevocationRecord> Revocations::prepare(const binding::Binding& previous, Ipv4 ha_address,
                                                            std::int64_t now_unix_ms) {
  const ForeignAgent* fa = registrar_.foreign_agent(previous.foreign_agent);
  if (!fa || !fa->fa_ha) return std::nullopt;  // RFC 3543 §3: always FA-HA authenticated
  wire::Revocation rev;
  rev.flags = mip::revocation::flag_A;
  rev.home_address = previous.home_address;
  rev.home_domain_address = ha_address;
  rev.foreign_domain_address = previous.foreign_agent;
  rev.revocation_id = random32_ ? random32_() : static_cast<std::uint32_t>(previous.move_seq);
  if (auto r = auth::append_auth(rev, mip::ext::fa_ha_auth, *fa->fa_ha); !r) {
    log_error("revocation_not_signed", {{"fa", fa->address.to_string()}, {"reason", r.error().to_string()}});
    return std::nullopt;
  }
  return store::RevocationRecord{rev.revocation_id, fa->address, previous.home_address,
                                 wire::encode(rev), now_unix_ms, "{}"};
}

void Revocations::start(const store::RevocationRecord& record) {
  const std::uint32_t id = record.revocation_id;
  if (auto it = pending_.find(id); it != pending_.end()) it->second.timer->cancel();
  pending_[id] =
      Pending{record.message, record.foreign_agent, 0, std::make_unique<boost::asio::steady_timer>(io_)};
  retransmit(id);
}

void Revocations::retransmit(std::uint32_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  if (p.attempts >= kAttempts) {
    log_warn("revocation_unacknowledged", {{"fa", p.fa.to_string()}, {"id", std::to_string(id)}});
    pending_.erase(it);
    if (forget_) forget_(id);
    return;
  }
  send_(p.fa, mip::kRegistrationPort, p.message);
  ++p.attempts;
  p.timer->expires_after(kInitial * (1 << (p.attempts - 1)));
  p.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) retransmit(id);
  });
}

std::string_view Revocations::on_ack(const wire::RevocationAck& ack, ByteView raw, Ipv4 src) {
  auto it = pending_.find(ack.revocation_id);
  if (it == pending_.end() || it->second.fa != src) return "revocation_ack_unknown";
  const ForeignAgent* fa = registrar_.foreign_agent(src);
  if (!fa || !fa->fa_ha || !auth::verify(raw, ack.extensions, mip::ext::fa_ha_auth, *fa->fa_ha))
    return "revocation_ack_auth_failed";
  it->second.timer->cancel();
  pending_.erase(it);
  log_info("revocation_acknowledged", {{"fa", src.to_string()}, {"id", std::to_string(ack.revocation_id)}});
  if (forget_) forget_(ack.revocation_id);
  return "revocation_acknowledged";
}

void Revocations::stop() {
  for (auto& [id, p] : pending_)
    if (p.timer) p.timer->cancel();
  pending_.clear();
}

}  // namespace vmroam::ha
