// Registration Revocation and its Acknowledgement, RFC 3543 §3.1–3.2 (see revocation.hpp).
#include "common/wire/revocation.hpp"

#include <string>

namespace vmroam::wire {

namespace {

Result<void> check_fixed(ByteView b, mip::MessageType type, std::size_t fixed) {
  if (b.empty()) return fail("truncated", "empty message");
  if (b[0] != static_cast<std::uint8_t>(type))
    return fail("bad_type",
                "type " + std::to_string(b[0]) + ", want " + std::to_string(static_cast<int>(type)));
  if (b.size() < fixed)
    return fail("truncated", std::to_string(b.size()) + " bytes, fixed part needs " + std::to_string(fixed));
  return ok();
}

std::size_t extensions_size(const ExtensionList& l) {
  std::size_t n = 0;
  for (const auto& e : l) n += e.size();
  return n;
}

}  // namespace

void Revocation::append(Extension e) {
  e.offset = encoded_size();
  extensions.push_back(std::move(e));
}
std::size_t Revocation::encoded_size() const {
  return mip::kRevocationFixedSize + extensions_size(extensions);
}

void RevocationAck::append(Extension e) {
  e.offset = encoded_size();
  extensions.push_back(std::move(e));
}
std::size_t RevocationAck::encoded_size() const {
  return mip::kRevocationAckFixedSize + extensions_size(extensions);
}

Result<Revocation> parse_revocation(ByteView b) {
  VMROAM_TRY_VOID(check_fixed(b, mip::MessageType::revocation, mip::kRevocationFixedSize));
  ByteReader r(b);
  Revocation m;
  (void)r.u8();
  m.reserved = r.u8();
  m.flags = r.u16();
  m.home_address = Ipv4(r.u32());
  m.home_domain_address = Ipv4(r.u32());
  m.foreign_domain_address = Ipv4(r.u32());
  m.revocation_id = r.u32();
  if (!r.ok()) std::abort();  // length checked above
  VMROAM_TRY(m.extensions, parse_extensions(b, mip::kRevocationFixedSize));
  return m;
}

Result<RevocationAck> parse_revocation_ack(ByteView b) {
  VMROAM_TRY_VOID(check_fixed(b, mip::MessageType::revocation_ack, mip::kRevocationAckFixedSize));
  ByteReader r(b);
  RevocationAck m;
  (void)r.u8();
  m.reserved = r.u8();
  m.flags = r.u16();
  m.home_address = Ipv4(r.u32());
  m.revocation_id = r.u32();
  if (!r.ok()) std::abort();  // length checked above
  VMROAM_TRY(m.extensions, parse_extensions(b, mip::kRevocationAckFixedSize));
  return m;
}

void encode(const Revocation& m, ByteWriter& w) {
  w.u8(static_cast<std::uint8_t>(mip::MessageType::revocation));
  w.u8(m.reserved);
  w.u16(m.flags);
  w.u32(m.home_address.value());
  w.u32(m.home_domain_address.value());
  w.u32(m.foreign_domain_address.value());
  w.u32(m.revocation_id);
  encode_extensions(m.extensions, w);
}

void encode(const RevocationAck& m, ByteWriter& w) {
  w.u8(static_cast<std::uint8_t>(mip::MessageType::revocation_ack));
  w.u8(m.reserved);
  w.u16(m.flags);
  w.u32(m.home_address.value());
  w.u32(m.revocation_id);
  encode_extensions(m.extensions, w);
}

Bytes encode(const Revocation& m) {
  Bytes out;
  out.reserve(m.encoded_size());
  ByteWriter w(out);
  encode(m, w);
  return out;
}

Bytes encode(const RevocationAck& m) {
  Bytes out;
  out.reserve(m.encoded_size());
  ByteWriter w(out);
  encode(m, w);
  return out;
}

}  // namespace vmroam::wire
