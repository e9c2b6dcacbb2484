// The link layer of a captured frame, stripped: Ethernet II (with one 802.1Q tag), Linux
// cooked v1 and v2, raw IPv4. What is left is the network-layer payload and its ethertype.
#pragma once

#include <cstdint>
#include <optional>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::pcap {

// The network-layer part of a frame.
struct LinkLayer {
  std::uint16_t ethertype = 0;
  ByteView payload;
  std::optional<MacAddress> src_mac;
  std::optional<MacAddress> dst_mac;
  std::optional<std::uint16_t> vlan;
};

// Strips the link-layer header of a frame of pcap link type `type` (frame_decoder.hpp's
// link_type); nullopt (and no record) for frames that carry nothing we decode (802.3/LLC,
// raw IPv6), an error for frames too short for their own header ("truncated") or a link type
// we do not know ("unsupported_link_type").
[[nodiscard]] Result<std::optional<LinkLayer>> strip_link_layer(int type, ByteView frame);

}  // namespace vmroam::pcap
