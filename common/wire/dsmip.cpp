// RFC 5454 §2 extension views (see dsmip.hpp).
#include "common/wire/dsmip.hpp"

#include <string>

namespace vmroam::wire {

namespace {

std::string where(const Extension& e) {
  return "type " + std::to_string(e.type) + " at offset " + std::to_string(e.offset);
}

// The data of a 152 extension of sub-type `sub_type` whose Length must be exactly `length`.
Result<ByteView> dsmip_data(const Extension& e, std::uint8_t sub_type, std::size_t length) {
  VMROAM_TRY(std::uint8_t sub, dsmip_sub_type(e));
  if (sub != sub_type)
    return fail("wrong_extension_type", where(e) + ": DSMIPv4 sub-type " + std::to_string(sub) + ", want " +
                                            std::to_string(sub_type));
  if (e.length() != length)
    return fail("bad_extension_length", where(e) + ": DSMIPv4 " + std::string(dsmip_sub_type_name(sub)) +
                                            " length " + std::to_string(e.length()) + ", want " +
                                            std::to_string(length));
  return e.data().subspan(1);
}

Ipv6 read_prefix(ByteReader& r) {
  Ipv6::Octets b{};
  const ByteView v = r.bytes(16);
  std::copy(v.begin(), v.end(), b.begin());
  return Ipv6(b);
}

Result<void> check_prefix_length(const Extension& e, std::uint8_t length) {
  if (length > 128)
    return fail("bad_prefix_length", where(e) + ": IPv6 prefix length " + std::to_string(length));
  return ok();
}

Extension make(ByteView data) {
  return Extension::make(mip::ext::dsmipv4, data).value();  // fixed size: cannot fail
}

}  // namespace

Result<std::uint8_t> dsmip_sub_type(const Extension& e) {
  if (e.type != mip::ext::dsmipv4)
    return fail("wrong_extension_type",
                "expected " + std::to_string(mip::ext::dsmipv4) + ", got " + where(e));
  if (e.length() < 1) return fail("bad_extension_length", where(e) + ": length 0, no sub-type");
  return e.data()[0];
}

Result<Ipv6PrefixRequest> Ipv6PrefixRequest::from(const Extension& e) {
  VMROAM_TRY(ByteView d, dsmip_data(e, mip::dsmip::prefix_request, mip::dsmip::kPrefixRequestLength));
  ByteReader r(d);
  Ipv6PrefixRequest q;
  q.prefix_length = r.u8();
  q.prefix = read_prefix(r);
  VMROAM_TRY_VOID(check_prefix_length(e, q.prefix_length));
  return q;
}

Extension Ipv6PrefixRequest::to_extension() const {
  Bytes data;
  ByteWriter w(data);
  w.u8(mip::dsmip::prefix_request);
  w.u8(prefix_length);
  w.bytes(prefix.bytes());
  return make(data);
}

Result<Ipv6PrefixReply> Ipv6PrefixReply::from(const Extension& e) {
  VMROAM_TRY(ByteView d, dsmip_data(e, mip::dsmip::prefix_reply, mip::dsmip::kPrefixReplyLength));
  ByteReader r(d);
  Ipv6PrefixReply p;
  p.code = r.u8();
  p.prefix_length = r.u8();
  p.reserved = r.u8();
  p.prefix = read_prefix(r);
  VMROAM_TRY_VOID(check_prefix_length(e, p.prefix_length));
  return p;
}

Extension Ipv6PrefixReply::to_extension() const {
  Bytes data;
  ByteWriter w(data);
  w.u8(mip::dsmip::prefix_reply);
  w.u8(code);
  w.u8(prefix_length);
  w.u8(reserved);
  w.bytes(prefix.bytes());
  return make(data);
}

Result<void> check_dsmip(const Extension& e) {
  VMROAM_TRY(std::uint8_t sub, dsmip_sub_type(e));
  switch (sub) {
    case mip::dsmip::prefix_request: {
      auto q = Ipv6PrefixRequest::from(e);
      if (!q) return fail(q.error());
      return ok();
    }
    case mip::dsmip::prefix_reply: {
      auto p = Ipv6PrefixReply::from(e);
      if (!p) return fail(p.error());
      return ok();
    }
    default:
      return ok();  // skippable: tunneling mode and unknown sub-types are passed over
  }
}

Result<std::vector<Ipv6PrefixRequest>> ipv6_prefix_requests(const ExtensionList& list) {
  std::vector<Ipv6PrefixRequest> out;
  for (const auto& e : list) {
    if (e.type != mip::ext::dsmipv4) continue;
    VMROAM_TRY(std::uint8_t sub, dsmip_sub_type(e));
    if (sub != mip::dsmip::prefix_request) continue;
    VMROAM_TRY(Ipv6PrefixRequest q, Ipv6PrefixRequest::from(e));
    out.push_back(q);
  }
  return out;
}

Result<std::vector<Ipv6PrefixReply>> ipv6_prefix_replies(const ExtensionList& list) {
  std::vector<Ipv6PrefixReply> out;
  for (const auto& e : list) {
    if (e.type != mip::ext::dsmipv4) continue;
    VMROAM_TRY(std::uint8_t sub, dsmip_sub_type(e));
    if (sub != mip::dsmip::prefix_reply) continue;
    VMROAM_TRY(Ipv6PrefixReply p, Ipv6PrefixReply::from(e));
    out.push_back(p);
  }
  return out;
}

std::string_view dsmip_sub_type_name(std::uint8_t sub_type) {
  switch (sub_type) {
    case mip::dsmip::prefix_request:
      return "prefix_request";
    case mip::dsmip::prefix_reply:
      return "prefix_reply";
    case mip::dsmip::tunneling_mode:
      return "tunneling_mode";
    default:
      return "unknown";
  }
}

}  // namespace vmroam::wire
