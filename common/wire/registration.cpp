// Registration Request/Reply parsing and encoding, RFC 5944 §3.3–3.4 (see registration.hpp).
#include "common/wire/registration.hpp"

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

void RegistrationRequest::append(Extension e) {
  e.offset = encoded_size();
  extensions.push_back(std::move(e));
}
std::size_t RegistrationRequest::encoded_size() const {
  return mip::kRequestFixedSize + extensions_size(extensions);
}

void RegistrationReply::append(Extension e) {
  e.offset = encoded_size();
  extensions.push_back(std::move(e));
}
std::size_t RegistrationReply::encoded_size() const {
  return mip::kReplyFixedSize + extensions_size(extensions);
}

Result<RegistrationRequest> parse_registration_request(ByteView b) {
  VMROAM_TRY_VOID(check_fixed(b, mip::MessageType::registration_request, mip::kRequestFixedSize));
  ByteReader r(b);
  RegistrationRequest m;
  (void)r.u8();
  m.flags = r.u8();
  m.lifetime = r.u16();
  m.home_address = Ipv4(r.u32());
  m.home_agent = Ipv4(r.u32());
  m.care_of_address = Ipv4(r.u32());
  m.identification = r.u64();
  if (!r.ok()) std::abort();  // length checked above
  VMROAM_TRY(m.extensions, parse_extensions(b, mip::kRequestFixedSize));
  return m;
}

Result<RegistrationReply> parse_registration_reply(ByteView b) {
  VMROAM_TRY_VOID(check_fixed(b, mip::MessageType::registration_reply, mip::kReplyFixedSize));
  ByteReader r(b);
  RegistrationReply m;
  (void)r.u8();
  m.code = r.u8();
  m.lifetime = r.u16();
  m.home_address = Ipv4(r.u32());
  m.home_agent = Ipv4(r.u32());
  m.identification = r.u64();
  if (!r.ok()) std::abort();  // length checked above
  VMROAM_TRY(m.extensions, parse_extensions(b, mip::kReplyFixedSize));
  return m;
}

void encode(const RegistrationRequest& m, ByteWriter& w) {
  w.u8(static_cast<std::uint8_t>(mip::MessageType::registration_request));
  w.u8(m.flags);
  w.u16(m.lifetime);
  w.u32(m.home_address.value());
  w.u32(m.home_agent.value());
  w.u32(m.care_of_address.value());
  w.u64(m.identification);
  encode_extensions(m.extensions, w);
}

void encode(const RegistrationReply& m, ByteWriter& w) {
  w.u8(static_cast<std::uint8_t>(mip::MessageType::registration_reply));
  w.u8(m.code);
  w.u16(m.lifetime);
  w.u32(m.home_address.value());
  w.u32(m.home_agent.value());
  w.u64(m.identification);
  encode_extensions(m.extensions, w);
}

Bytes encode(const RegistrationRequest& m) {
  Bytes out;
  out.reserve(m.encoded_size());
  ByteWriter w(out);
  encode(m, w);
  return out;
}

Bytes encode(const RegistrationReply& m) {
  Bytes out;
  out.reserve(m.encoded_size());
  ByteWriter w(out);
  encode(m, w);
  return out;
}

}  // namespace vmroam::wire
