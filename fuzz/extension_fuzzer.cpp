// Fuzz target: the Mobile IPv4 extension codecs on their own (common/wire/extension: the TLV
// split of short and long headers, RFC 5944 §1.10–1.11, the semantic check of §1.9, and every
// typed view: authentication, PMIPv4 47/147 of RFC 5563 §3, UDP tunnel request/reply of
// RFC 3519 §3, revocation support of RFC 3543 §3.3, the NAI of RFC 2794) and the ICMP agent
// advertisement reader (RFC 5944 §2.1), whose extensions follow the router advertisement.
//
// The first byte selects: even, the rest is an extension list; odd, an ICMP message. Beyond
// "no crash, no over-read" it aborts unless
//   * split extensions tile the input exactly (offsets contiguous, raw bytes = input bytes);
//   * every typed view that reads an extension builds one that reads back to the same bytes
//     again (normalisation is idempotent: reserved bits are dropped once, never more);
//   * find_extension finds the first extension of each type, and find_pmip_skippable the first
//     PMIPv4 skippable extension of each sub-type (asked once per type, so that a long list
//     stays linear);
//   * an agent advertisement that is read and built again reads back equal.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/core/bytes.hpp"
#include "common/wire/agent_advertisement.hpp"
#include "common/wire/extension.hpp"

namespace {

namespace wire = vmroam::wire;
using vmroam::ByteView;

void require(bool condition) {
  if (!condition) std::abort();
}

wire::Extension built(const wire::Extension& e) { return e; }
template <typename T>
wire::Extension built(const vmroam::Result<T>& r) {
  require(r.has_value());
  return *r;
}

// from → to_extension → from → to_extension gives the same bytes twice.
template <typename View>
void round_trip(const wire::Extension& e) {
  auto v = View::from(e);
  if (!v) {
    require(!v.error().code.empty());
    return;
  }
  const wire::Extension once = built(v->to_extension());
  auto again = View::from(once);
  require(again.has_value());
  const wire::Extension twice = built(again->to_extension());
  require(once.raw == twice.raw && once.type == twice.type);
}

void extensions(ByteView input) {
  auto list = wire::split_extensions(input, 0);
  if (!list) return;
  std::array<bool, 256> type_seen{}, sub_type_seen{};
  std::size_t at = 0;
  for (const auto& e : *list) {
    require(e.offset == at && e.raw.size() >= e.header_size());
    for (std::size_t i = 0; i < e.raw.size(); ++i) require(e.raw[i] == input[at + i]);
    at += e.raw.size();
    round_trip<wire::AuthExtension>(e);
    round_trip<wire::PmipPerNodeAuth>(e);
    round_trip<wire::PmipInterfaceId>(e);
    round_trip<wire::PmipDeviceId>(e);
    round_trip<wire::PmipSubscriberId>(e);
    round_trip<wire::PmipAccessTechnology>(e);
    round_trip<wire::UdpTunnelRequest>(e);
    round_trip<wire::UdpTunnelReply>(e);
    round_trip<wire::RevocationSupport>(e);
    round_trip<wire::MnNai>(e);
    if (auto sub = wire::pmip_skippable_sub_type(e); sub && !sub_type_seen[*sub]) {
      sub_type_seen[*sub] = true;
      require(wire::find_pmip_skippable(*list, *sub) == &e);
    }
    if (auto dev = wire::PmipDeviceId::from(e)) (void)dev->mac();
    if (!type_seen[e.type]) {
      type_seen[e.type] = true;
      require(wire::find_extension(*list, e.type) == &e);
    }
    (void)wire::extension_name(e.type);
  }
  require(at == input.size());
  (void)wire::check_extensions(*list);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView input(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    extensions(input);
  } else if (auto adv = wire::parse_agent_advertisement(input)) {
    // What we read, we can write, and it reads back the same.
    if (auto bytes = wire::build_agent_advertisement(*adv)) {
      auto back = wire::parse_agent_advertisement(*bytes);
      require(back.has_value() && *back == *adv);
    }
  } else {
    (void)wire::parse_agent_solicitation(input);
  }
  return 0;
}
