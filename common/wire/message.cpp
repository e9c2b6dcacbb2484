// Length-checked dispatch of UDP port 434 payloads (see message.hpp).
#include "common/wire/message.hpp"

#include <array>
#include <string>

namespace vmroam::wire {

namespace {
template <typename T>
Result<Message> lift(Result<T> r) {
  if (!r) return fail(r.error());
  return Message(std::move(r).value());
}
}  // namespace

Result<Message> parse_message(ByteView b) {
  if (b.empty()) return fail("truncated", "empty UDP payload");
  switch (static_cast<mip::MessageType>(b[0])) {
    case mip::MessageType::registration_request:
      return lift(parse_registration_request(b));
    case mip::MessageType::registration_reply:
      return lift(parse_registration_reply(b));
    case mip::MessageType::revocation:
      return lift(parse_revocation(b));
    case mip::MessageType::revocation_ack:
      return lift(parse_revocation_ack(b));
    case mip::MessageType::tunnel_data:
      return Message(TunnelData{});
  }
  return fail("bad_type", "message type " + std::to_string(b[0]));
}

std::string_view message_name(const Message& m) {
  struct Name {
    std::string_view operator()(const RegistrationRequest&) const { return "registration_request"; }
    std::string_view operator()(const RegistrationReply&) const { return "registration_reply"; }
    std::string_view operator()(const Revocation&) const { return "revocation"; }
    std::string_view operator()(const RevocationAck&) const { return "revocation_ack"; }
    std::string_view operator()(const TunnelData&) const { return "tunnel_data"; }
  };
  return std::visit(Name{}, m);
}

std::span<const std::string_view> rejection_reasons() {
  static constexpr std::array<std::string_view, 10> kReasons = {
      "truncated",                       // shorter than the fixed part (or empty)
      "bad_type",                        // unknown message type
      "extension_overrun",               // an extension header or its data runs past the end
      "unknown_nonskippable_extension",  // type 0–127 (or 47 sub-type) we do not implement
      "bad_extension_length",            // a known extension with the wrong length
      "auth_not_last",                   // an extension follows the last authenticator
      "duplicate_auth_extension",        // two authenticators of one type
      "wrong_extension_type",            // typed view used on another extension
      "extension_too_long",              // builder: data does not fit the Length field
      "bad_prefix_length",               // RFC 5454 prefix length over 128
  };
  return kReasons;
}

}  // namespace vmroam::wire
