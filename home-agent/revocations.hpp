// Revocations: the home agent's side of registration revocation (RFC 3543).
//
// When a VM's binding moves to another foreign agent, the FA it left is told (a Registration
// Revocation, type 7, with the A bit: we acknowledge nothing the FA sends back but its ack)
// so that it can drop its visitor state at once instead of at the lifetime's end. Revocations
// are always FA-HA authenticated (RFC 3543 §3); an FA without an FA-HA key is not told.
//
// A revocation is durable before it is sent: prepare() builds and signs it as a store record
// that the home agent commits with the binding move that causes it; start() sends it once
// committed, and again at start-up for every record a restart found (a `kill -9` between the
// move and the FA's ack loses nothing). When it ends (acknowledged, or given up after the
// last try) `forget` runs so that the home agent deletes the record.
//
// Timers: per pending revocation, a retransmission (RFC 3543 §4: 1 s, doubling, 3 tries).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "common/core/asio.hpp"
#pragma GCC diagnostic pop

#include "common/binding/binding_cache.hpp"
#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/store/records.hpp"
#include "common/wire/revocation.hpp"
#include "home-agent/registrar.hpp"

namespace vmroam::ha {

class Revocations {
 public:
  using Send = std::function<void(Ipv4 dst, std::uint16_t port, ByteView payload)>;
  using Forget = std::function<void(std::uint32_t revocation_id)>;
  // `registrar` knows the foreign agents and their keys; `random32` picks revocation IDs
  // (may be empty: the move sequence is used); `forget` runs when a revocation ends.
  Revocations(boost::asio::io_context& io, const Registrar& registrar, Send send,
              std::function<std::uint32_t()> random32, Forget forget = {})
      : io_(io),
        registrar_(registrar),
        send_(std::move(send)),
        random32_(std::move(random32)),
        forget_(std::move(forget)) {}
  ~Revocations() { stop(); }
  Revocations(const Revocations&) = delete;
  Revocations& operator=(const Revocations&) = delete;

  // The signed revocation telling the FA of `previous` (a binding that is moving away) that
  // it is revoked, as a record to commit with the move; nullopt when that FA is not told
  // (RFC 3543 §3: no FA-HA key, no revocation). Sends nothing.
  [[nodiscard]] std::optional<store::RevocationRecord> prepare(const binding::Binding& previous,
                                                               Ipv4 ha_address, std::int64_t now_unix_ms);
  // Sends a committed (or restored) revocation and retransmits it until acknowledged.
  void start(const store::RevocationRecord& record);
  // A Revocation Acknowledgement from `src`; returns its outcome for the message counters:
  // "revocation_acknowledged", "revocation_ack_unknown" or "revocation_ack_auth_failed".
  [[nodiscard]] std::string_view on_ack(const wire::RevocationAck& ack, ByteView raw, Ipv4 src);
  [[nodiscard]] std::size_t pending() const { return pending_.size(); }
  void stop();

 private:
  struct Pending {
    Bytes message;
    Ipv4 fa;
    int attempts = 0;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  void retransmit(std::uint32_t id);

  boost::asio::io_context& io_;
  const Registrar& registrar_;
  Send send_;
  std::function<std::uint32_t()> random32_;
  Forget forget_;
  std::unordered_map<std::uint32_t, Pending> pending_;
};

}  // namespace vmroam::ha
