// Fuzz target: the whole per-frame decode path of vmroam-pcap (tools/pcap/frame_decoder.hpp):
// link layer, IPv4, UDP/ICMP, Mobile IP messages with extensions, authenticator checks,
// tunnels, ARP, and the JSON rendering of all of it.
//
// Input: byte 0 picks the link type (Ethernet, Linux cooked v1, v2, raw IPv4), the rest is
// the captured frame. Every record must serialise (nlohmann's dump() throws on invalid UTF-8,
// which would mean raw packet bytes leaked into a string) and carry its frame number.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/auth/security_association.hpp"
#include "tools/pcap/frame_decoder.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

const vmroam::pcap::FrameDecoder& decoder() {
  static const vmroam::pcap::FrameDecoder d = [] {
    vmroam::auth::Keyring k;
    (void)k.add({0x1000, vmroam::auth::Algorithm::hmac_md5, vmroam::Bytes(16, 0x11)});
    (void)k.add({0x3000, vmroam::auth::Algorithm::hmac_sha256, vmroam::Bytes(32, 0x5a)});
    return vmroam::pcap::FrameDecoder(std::move(k));
  }();
  return d;
}

constexpr std::array<int, 4> kLinkTypes = {
    vmroam::pcap::link_type::kEthernet, vmroam::pcap::link_type::kLinuxSll,
    vmroam::pcap::link_type::kLinuxSll2, vmroam::pcap::link_type::kRaw};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  vmroam::pcap::FrameInfo info;
  info.number = 7;
  info.link_type = kLinkTypes[data[0] % kLinkTypes.size()];
  const vmroam::ByteView frame(data + 1, size - 1);
  for (const auto& r : decoder().decode(info, frame)) {
    require(r.at("frame") == 7);
    require(!r.dump().empty());
  }
  return 0;
}
