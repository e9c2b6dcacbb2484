// Registration Request (type 1) and Registration Reply (type 3), RFC 5944 §3.3 and §3.4.
//
//   Request, 24-byte fixed part:
//     Type=1 | S B D M G r T x | Lifetime(2) | Home Address | Home Agent | Care-of Address |
//     Identification(8) | extensions…
//   Reply, 20-byte fixed part:
//     Type=3 | Code | Lifetime(2) | Home Address | Home Agent | Identification(8) | extensions…
//
// Plain value types: every fixed field is a public member, the flags byte is kept whole (so
// reserved bits round-trip) with a named accessor per bit, and extensions are an ordered list
// that keeps each one's raw bytes and offset (see extension.hpp). encode(parse(b)) == b.
// Pure: no I/O, no clocks. The fixed-size checks happen before any field is read.
#pragma once

#include <cstdint>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

struct RegistrationRequest {
  std::uint8_t flags = 0;      // mip::request_flag::*
  std::uint16_t lifetime = 0;  // seconds; 0 deregisters, 0xFFFF is infinite
  Ipv4 home_address;
  Ipv4 home_agent;
  Ipv4 care_of_address;
  std::uint64_t identification = 0;
  ExtensionList extensions;

  [[nodiscard]] bool has_flag(std::uint8_t mask) const { return (flags & mask) != 0; }
  void set_flag(std::uint8_t mask, bool on) {
    flags = static_cast<std::uint8_t>(on ? flags | mask : flags & ~mask);
  }
  [[nodiscard]] bool simultaneous_bindings() const { return has_flag(mip::request_flag::S); }  // S
  [[nodiscard]] bool broadcast() const { return has_flag(mip::request_flag::B); }              // B
  [[nodiscard]] bool decapsulation_by_mn() const { return has_flag(mip::request_flag::D); }    // D
  [[nodiscard]] bool minimal_encapsulation() const { return has_flag(mip::request_flag::M); }  // M
  [[nodiscard]] bool gre() const { return has_flag(mip::request_flag::G); }                    // G
  [[nodiscard]] bool reserved_r() const { return has_flag(mip::request_flag::r); }             // r
  [[nodiscard]] bool reverse_tunnel() const { return has_flag(mip::request_flag::T); }         // T
  [[nodiscard]] bool reserved_x() const { return has_flag(mip::request_flag::x); }             // x
  [[nodiscard]] bool is_deregistration() const { return lifetime == mip::kLifetimeDeregister; }

  // Appends an extension, setting its offset to where it will be encoded.
  void append(Extension e);
  [[nodiscard]] std::size_t encoded_size() const;

  friend bool operator==(const RegistrationRequest&, const RegistrationRequest&) = default;
};

struct RegistrationReply {
  std::uint8_t code = mip::code::accepted;
  std::uint16_t lifetime = 0;  // granted lifetime, seconds
  Ipv4 home_address;
  Ipv4 home_agent;
  std::uint64_t identification = 0;
  ExtensionList extensions;

  [[nodiscard]] bool accepted() const { return mip::code::is_accepted(code); }
  void append(Extension e);
  [[nodiscard]] std::size_t encoded_size() const;

  friend bool operator==(const RegistrationReply&, const RegistrationReply&) = default;
};

// Errors: "truncated", "bad_type", and the extension reasons of extension.hpp.
[[nodiscard]] Result<RegistrationRequest> parse_registration_request(ByteView udp_payload);
[[nodiscard]] Result<RegistrationReply> parse_registration_reply(ByteView udp_payload);

[[nodiscard]] Bytes encode(const RegistrationRequest& m);
[[nodiscard]] Bytes encode(const RegistrationReply& m);
void encode(const RegistrationRequest& m, ByteWriter& w);
void encode(const RegistrationReply& m, ByteWriter& w);

}  // namespace vmroam::wire
