// Registration extensions: splitting, semantic checks and typed views (see extension.hpp).
#include "common/wire/extension.hpp"

#include <string>

#include "common/wire/dsmip.hpp"

namespace vmroam::wire {

namespace {

std::string at(const Extension& e) {
  return "type " + std::to_string(e.type) + " at offset " + std::to_string(e.offset);
}

Result<void> want_type(const Extension& e, std::uint8_t type) {
  if (e.type != type)
    return fail("wrong_extension_type", "expected " + std::to_string(type) + ", got " + at(e));
  return ok();
}

Result<void> want_length(const Extension& e, std::size_t min, std::size_t max) {
  if (e.length() < min || e.length() > max)
    return fail("bad_extension_length",
                at(e) + ": length " + std::to_string(e.length()) +
                    (min == max ? ", want " + std::to_string(min)
                                : ", want " + std::to_string(min) + ".." + std::to_string(max)));
  return ok();
}

// The data of a fixed-length extension of `type`, to read its fields from.
Result<ByteReader> fixed_data(const Extension& e, std::uint8_t type, std::size_t length) {
  VMROAM_TRY_VOID(want_type(e, type));
  VMROAM_TRY_VOID(want_length(e, length, length));
  return ByteReader(e.data());
}

// A fixed-length extension of `type` whose data `write` produces: short enough by
// construction, so Extension::make cannot fail.
template <class Write>
Extension make_fixed(std::uint8_t type, Write write) {
  Bytes data;
  ByteWriter w(data);
  write(w);
  return Extension::make(type, data).value();
}

// Extension whose layout we know and whose use is defined: the set that may appear in a
// message we accept. Everything else in 0–127 rejects the message (RFC 5944 §1.9).
bool known_nonskippable(std::uint8_t type) {
  switch (type) {
    case mip::ext::mn_ha_auth:
    case mip::ext::mn_fa_auth:
    case mip::ext::fa_ha_auth:
    case mip::ext::udp_tunnel_reply:
    case mip::ext::pmipv4_nonskip:
      return true;
    default:
      return false;
  }
}

// Length rules for the known types; unknown skippable types are unconstrained.
Result<void> check_one(const Extension& e) {
  switch (e.type) {
    case mip::ext::mn_ha_auth:
    case mip::ext::mn_fa_auth:
    case mip::ext::fa_ha_auth:
      // RFC 5944 §3.5.2: Length = 4 (SPI) + authenticator size. An empty authenticator
      // authenticates nothing.
      return want_length(e, mip::kSpiSize + 1, 255);
    case mip::ext::udp_tunnel_reply:    // RFC 3519 §3.2
    case mip::ext::udp_tunnel_request:  // RFC 3519 §3.1
    case mip::ext::revocation_support:  // RFC 3543 §3.3
      return want_length(e, 6, 6);
    case mip::ext::pmipv4_nonskip:
      // RFC 5563 §3.1: only sub-type 1 is defined; an unknown sub-type of a non-skippable
      // extension is as unknown as an unknown type.
      if (e.long_sub_type() != mip::pmip::per_node_auth_method)
        return fail("unknown_nonskippable_extension",
                    at(e) + ": PMIPv4 sub-type " + std::to_string(e.long_sub_type()));
      return want_length(e, 1, 1);
    case mip::ext::mn_nai:  // RFC 2794 §2
      return want_length(e, 1, 255);
    case mip::ext::pmipv4_skip: {  // RFC 5563 §3.2
      VMROAM_TRY_VOID(want_length(e, 1, 255));
      switch (e.data()[0]) {
        case mip::pmip::interface_id:
          return want_length(e, 2, 255);
        case mip::pmip::device_id:
        case mip::pmip::subscriber_id:
          return want_length(e, 3, 255);  // sub-type, ID-type, at least one identifier byte
        case mip::pmip::access_technology:
          return want_length(e, 2, 2);
        default:
          return ok();  // skippable: an unknown sub-type is passed over
      }
    }
    case mip::ext::dsmipv4:  // RFC 5454 §2
      return check_dsmip(e);
    default:
      if (!e.skippable() && !known_nonskippable(e.type)) return fail("unknown_nonskippable_extension", at(e));
      return ok();
  }
}

}  // namespace

Result<Extension> Extension::make(std::uint8_t type, ByteView data) {
  if (mip::ext::has_long_header(type))
    return fail("extension_too_long", "type " + std::to_string(type) + " needs a long header");
  if (data.size() > 255)
    return fail("extension_too_long",
                "type " + std::to_string(type) + ": " + std::to_string(data.size()) + " bytes");
  Extension e;
  e.type = type;
  e.raw.reserve(2 + data.size());
  ByteWriter w(e.raw);
  w.u8(type);
  w.u8(static_cast<std::uint8_t>(data.size()));
  w.bytes(data);
  return e;
}

Result<Extension> Extension::make_long(std::uint8_t type, std::uint8_t sub_type, ByteView data) {
  if (!mip::ext::has_long_header(type))
    return fail("extension_too_long", "type " + std::to_string(type) + " has a short header");
  if (data.size() > 0xFFFF)
    return fail("extension_too_long",
                "type " + std::to_string(type) + ": " + std::to_string(data.size()) + " bytes");
  Extension e;
  e.type = type;
  e.raw.reserve(4 + data.size());
  ByteWriter w(e.raw);
  w.u8(type);
  w.u8(sub_type);
  w.u16(static_cast<std::uint16_t>(data.size()));
  w.bytes(data);
  return e;
}

Result<ExtensionList> split_extensions(ByteView message, std::size_t start) {
  ExtensionList list;
  if (start > message.size()) return fail("truncated", "extensions start past the end");
  ByteReader r(message.subspan(start));
  while (!r.at_end()) {
    const std::size_t offset = start + r.offset();
    const std::uint8_t type = r.u8();
    std::size_t header = 2;
    std::size_t length = 0;
    if (mip::ext::has_long_header(type)) {
      header = 4;
      (void)r.u8();  // sub-type / reserved
      length = r.u16();
    } else {
      length = r.u8();
    }
    if (!r.ok())
      return fail("extension_overrun", "header of type " + std::to_string(type) + " at offset " +
                                           std::to_string(offset) + " runs past the end");
    if (r.remaining() < length)
      return fail("extension_overrun", "type " + std::to_string(type) + " at offset " +
                                           std::to_string(offset) + ": length " + std::to_string(length) +
                                           ", " + std::to_string(r.remaining()) + " bytes left");
    r.skip(length);
    Extension e;
    e.type = type;
    e.offset = offset;
    auto whole = message.subspan(offset, header + length);
    e.raw.assign(whole.begin(), whole.end());
    list.push_back(std::move(e));
  }
  return list;
}

bool is_auth_extension(std::uint8_t type) {
  return type == mip::ext::mn_ha_auth || type == mip::ext::mn_fa_auth || type == mip::ext::fa_ha_auth ||
         type == mip::ext::generalized_auth;
}

Result<void> check_extensions(const ExtensionList& list) {
  bool seen[256] = {};
  std::size_t last_auth = list.size();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Extension& e = list[i];
    VMROAM_TRY_VOID(check_one(e));
    if (is_auth_extension(e.type)) {
      // Two authenticators of one kind would make "the" MN-HA or FA-HA ambiguous.
      if (seen[e.type]) return fail("duplicate_auth_extension", at(e));
      seen[e.type] = true;
      last_auth = i;
    }
  }
  // RFC 5944 §3.6.1.3 / §3.7.2.2: everything a receiver acts on lies before an authenticator
  // that covers it, so once a message carries authentication, an extension after the last
  // one would be unauthenticated.
  if (last_auth != list.size() && last_auth + 1 != list.size())
    return fail("auth_not_last", at(list[last_auth + 1]) + " follows the last authentication extension");
  return ok();
}

Result<ExtensionList> parse_extensions(ByteView message, std::size_t start) {
  VMROAM_TRY(ExtensionList list, split_extensions(message, start));
  VMROAM_TRY_VOID(check_extensions(list));
  return list;
}

void encode_extensions(const ExtensionList& list, ByteWriter& w) {
  for (const auto& e : list) w.bytes(e.raw);
}

std::size_t extensions_size(const ExtensionList& list) {
  std::size_t n = 0;
  for (const auto& e : list) n += e.size();
  return n;
}

void append_extension(ExtensionList& list, std::size_t fixed_size, Extension e) {
  e.offset = fixed_size + extensions_size(list);
  list.push_back(std::move(e));
}

void assign_offsets(ExtensionList& list, std::size_t fixed_size) {
  std::size_t at_offset = fixed_size;
  for (auto& e : list) {
    e.offset = at_offset;
    at_offset += e.size();
  }
}

const Extension* find_extension(const ExtensionList& list, std::uint8_t type) {
  for (const auto& e : list)
    if (e.type == type) return &e;
  return nullptr;
}

const Extension* find_pmip_skippable(const ExtensionList& list, std::uint8_t sub_type) {
  for (const auto& e : list)
    if (e.type == mip::ext::pmipv4_skip && e.length() >= 1 && e.data()[0] == sub_type) return &e;
  return nullptr;
}

std::string_view extension_name(std::uint8_t type) {
  switch (type) {
    case mip::ext::mn_ha_auth:
      return "mn_ha_auth";
    case mip::ext::mn_fa_auth:
      return "mn_fa_auth";
    case mip::ext::fa_ha_auth:
      return "fa_ha_auth";
    case mip::ext::generalized_auth:
      return "generalized_auth";
    case mip::ext::cvse:
      return "cvse";
    case mip::ext::udp_tunnel_reply:
      return "udp_tunnel_reply";
    case mip::ext::pmipv4_nonskip:
      return "pmipv4_nonskippable";
    case mip::ext::encapsulating_delivery:
      return "encapsulating_delivery";
    case mip::ext::mn_nai:
      return "mn_nai";
    case mip::ext::nvse:
      return "nvse";
    case mip::ext::revocation_support:
      return "revocation_support";
    case mip::ext::udp_tunnel_request:
      return "udp_tunnel_request";
    case mip::ext::pmipv4_skip:
      return "pmipv4_skippable";
    case mip::ext::dsmipv4:
      return "dsmipv4";
    default:
      return "unknown";
  }
}

// ---- Typed views -------------------------------------------------------------------------

Result<AuthExtension> AuthExtension::from(const Extension& e) {
  if (!is_auth_extension(e.type) || e.type == mip::ext::generalized_auth)
    return fail("wrong_extension_type", "not an MN-HA/MN-FA/FA-HA extension: " + at(e));
  VMROAM_TRY_VOID(want_length(e, mip::kSpiSize + 1, 255));
  ByteReader r(e.data());
  AuthExtension a;
  a.type = e.type;
  a.spi = r.u32();
  auto rest = r.rest();
  a.authenticator.assign(rest.begin(), rest.end());
  return a;
}

Result<Extension> AuthExtension::to_extension() const {
  Bytes data;
  ByteWriter w(data);
  w.u32(spi);
  w.bytes(authenticator);
  return Extension::make(type, data);
}

Result<PmipPerNodeAuth> PmipPerNodeAuth::from(const Extension& e) {
  VMROAM_TRY_VOID(want_type(e, mip::ext::pmipv4_nonskip));
  if (e.long_sub_type() != mip::pmip::per_node_auth_method)
    return fail("unknown_nonskippable_extension",
                at(e) + ": PMIPv4 sub-type " + std::to_string(e.long_sub_type()));
  VMROAM_TRY_VOID(want_length(e, 1, 1));
  return PmipPerNodeAuth{e.data()[0]};
}

Extension PmipPerNodeAuth::to_extension() const {
  const std::uint8_t data[] = {method};
  auto e = Extension::make_long(mip::ext::pmipv4_nonskip, mip::pmip::per_node_auth_method, data);
  return std::move(e).value();  // fixed size: cannot fail
}

namespace {
// 147 helper: Type | Length | Sub-Type | payload.
Result<ByteView> pmip_payload(const Extension& e, std::uint8_t sub_type, std::size_t min_length) {
  VMROAM_TRY_VOID(want_type(e, mip::ext::pmipv4_skip));
  VMROAM_TRY_VOID(want_length(e, 1, 255));
  if (e.data()[0] != sub_type)
    return fail("wrong_extension_type", at(e) + ": PMIPv4 sub-type " + std::to_string(e.data()[0]) +
                                            ", want " + std::to_string(sub_type));
  VMROAM_TRY_VOID(want_length(e, min_length, 255));
  return e.data().subspan(1);
}
Result<Extension> make_pmip(std::uint8_t sub_type, std::initializer_list<ByteView> parts) {
  Bytes data{sub_type};
  for (auto p : parts) data.insert(data.end(), p.begin(), p.end());
  return Extension::make(mip::ext::pmipv4_skip, data);
}
}  // namespace

Result<std::uint8_t> pmip_skippable_sub_type(const Extension& e) {
  VMROAM_TRY_VOID(want_type(e, mip::ext::pmipv4_skip));
  VMROAM_TRY_VOID(want_length(e, 1, 255));
  return e.data()[0];
}

Result<PmipInterfaceId> PmipInterfaceId::from(const Extension& e) {
  VMROAM_TRY(ByteView p, pmip_payload(e, mip::pmip::interface_id, 2));
  return PmipInterfaceId{Bytes(p.begin(), p.end())};
}
Result<Extension> PmipInterfaceId::to_extension() const { return make_pmip(mip::pmip::interface_id, {id}); }

PmipDeviceId PmipDeviceId::ethernet(const MacAddress& mac) {
  return PmipDeviceId{mip::pmip::device_id_ethernet_mac, Bytes(mac.bytes().begin(), mac.bytes().end())};
}
Result<MacAddress> PmipDeviceId::mac() const {
  if (id_type != mip::pmip::device_id_ethernet_mac || id.size() != 6)
    return fail("not_a_mac",
                "device ID type " + std::to_string(id_type) + ", " + std::to_string(id.size()) + " bytes");
  std::array<std::uint8_t, 6> b{};
  std::copy(id.begin(), id.end(), b.begin());
  return MacAddress(b);
}
Result<PmipDeviceId> PmipDeviceId::from(const Extension& e) {
  VMROAM_TRY(ByteView p, pmip_payload(e, mip::pmip::device_id, 3));
  return PmipDeviceId{p[0], Bytes(p.begin() + 1, p.end())};
}
Result<Extension> PmipDeviceId::to_extension() const {
  const std::uint8_t t[] = {id_type};
  return make_pmip(mip::pmip::device_id, {t, id});
}

Result<PmipSubscriberId> PmipSubscriberId::from(const Extension& e) {
  VMROAM_TRY(ByteView p, pmip_payload(e, mip::pmip::subscriber_id, 3));
  return PmipSubscriberId{p[0], Bytes(p.begin() + 1, p.end())};
}
Result<Extension> PmipSubscriberId::to_extension() const {
  const std::uint8_t t[] = {id_type};
  return make_pmip(mip::pmip::subscriber_id, {t, id});
}

Result<PmipAccessTechnology> PmipAccessTechnology::from(const Extension& e) {
  VMROAM_TRY(ByteView p, pmip_payload(e, mip::pmip::access_technology, 2));
  if (p.size() != 1) return fail("bad_extension_length", at(e) + ": access technology wants length 2");
  return PmipAccessTechnology{p[0]};
}
Extension PmipAccessTechnology::to_extension() const {
  const std::uint8_t t[] = {technology};
  return make_pmip(mip::pmip::access_technology, {t}).value();  // fixed size
}

Result<UdpTunnelRequest> UdpTunnelRequest::from(const Extension& e) {
  VMROAM_TRY(ByteReader r, fixed_data(e, mip::ext::udp_tunnel_request, 6));
  UdpTunnelRequest q;
  q.sub_type = r.u8();
  r.skip(1);  // Reserved 1
  q.flags = r.u8();
  q.encapsulation = r.u8();
  return q;
}
Extension UdpTunnelRequest::to_extension() const {
  return make_fixed(mip::ext::udp_tunnel_request, [&](ByteWriter& w) {
    w.u8(sub_type);
    w.u8(0);  // Reserved 1
    w.u8(flags);
    w.u8(encapsulation);
    w.u16(0);  // Reserved 3
  });
}

Result<UdpTunnelReply> UdpTunnelReply::from(const Extension& e) {
  VMROAM_TRY(ByteReader r, fixed_data(e, mip::ext::udp_tunnel_reply, 6));
  UdpTunnelReply p;
  p.sub_type = r.u8();
  p.code = r.u8();
  p.flags = r.u16();
  p.keepalive_seconds = r.u16();
  return p;
}
Extension UdpTunnelReply::to_extension() const {
  return make_fixed(mip::ext::udp_tunnel_reply, [&](ByteWriter& w) {
    w.u8(sub_type);
    w.u8(code);
    w.u16(flags);
    w.u16(keepalive_seconds);
  });
}

Result<RevocationSupport> RevocationSupport::from(const Extension& e) {
  VMROAM_TRY(ByteReader r, fixed_data(e, mip::ext::revocation_support, 6));
  RevocationSupport s;
  s.flags = r.u16();
  s.timestamp = r.u32();
  return s;
}
Extension RevocationSupport::to_extension() const {
  return make_fixed(mip::ext::revocation_support, [&](ByteWriter& w) {
    w.u16(flags);
    w.u32(timestamp);
  });
}

Result<MnNai> MnNai::from(const Extension& e) {
  VMROAM_TRY_VOID(want_type(e, mip::ext::mn_nai));
  VMROAM_TRY_VOID(want_length(e, 1, 255));
  return MnNai{Bytes(e.data().begin(), e.data().end())};
}
Result<Extension> MnNai::to_extension() const { return Extension::make(mip::ext::mn_nai, nai); }

}  // namespace vmroam::wire
