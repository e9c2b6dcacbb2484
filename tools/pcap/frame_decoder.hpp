// The pure per-frame decode path of vmroam-pcap: captured bytes in, JSON records out.
//
// One frame gives zero or more records (nlohmann::ordered_json, so keys print in a fixed,
// readable order and .ok files diff cleanly):
//   * every Mobile IP message on UDP port 434 (RFC 5944 §3.3–3.4 registration request and
//     reply, RFC 3543 §3.1–3.2 revocation and its acknowledgement), with every extension
//     decoded and, for SPIs in the keyring, whether its authenticator verifies;
//   * every tunnelled packet: IP in IP (RFC 2003, IP protocol 4) and RFC 3519 UDP tunnel data
//     (type 4 on port 434), with outer and inner addresses;
//   * agent advertisements and solicitations (RFC 5944 §2, ICMP 9 and 10);
//   * ARP and RARP frames (gratuitous ARP, QEMU's RARP self-announce).
// Anything else is not ours and gives no record. A malformed packet that is ours gives
// {"frame":N,"error":"<reason>","detail":"…"} and the decoder moves on: it never throws and
// never reads past the captured bytes (fuzz/pcap_decoder_fuzzer.cpp holds it to that).
//
// All parsing is common/wire's and all HMAC checking common/auth's; this file only walks the
// link layer (Ethernet, Linux cooked v1/v2, raw IPv4) and renders what the parsers return.
// docs/tools.md lists every key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/auth/security_association.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::pcap {

using Json = nlohmann::ordered_json;

// Link-layer header types as pcap_datalink() reports them on Linux (DLT_*), plus the
// LINKTYPE_* numbers of raw IP that a file may carry; defined here so this file needs no
// libpcap header (tcpdump.org/linktypes.html).
namespace link_type {
inline constexpr int kEthernet = 1;       // DLT_EN10MB
inline constexpr int kRaw = 12;           // DLT_RAW on Linux (LINKTYPE_RAW = 101)
inline constexpr int kRawOpenBsd = 14;    // DLT_RAW on OpenBSD
inline constexpr int kLinktypeRaw = 101;  // LINKTYPE_RAW as stored in files
inline constexpr int kLinuxSll = 113;     // DLT_LINUX_SLL, "Linux cooked" v1
inline constexpr int kIpv4 = 228;         // DLT_IPV4 / LINKTYPE_IPV4
inline constexpr int kLinuxSll2 = 276;    // DLT_LINUX_SLL2
}  // namespace link_type

struct FrameInfo {
  std::uint64_t number = 0;  // 1-based, as Wireshark counts
  std::int64_t ts_sec = 0;
  std::uint32_t ts_usec = 0;
  int link_type = link_type::kEthernet;
  std::uint32_t original_length = 0;  // 0: same as the captured length
};

class FrameDecoder {
 public:
  // keys: the SPIs whose authenticators are checked; with an empty keyring no "auth" key
  // is printed at all.
  explicit FrameDecoder(auth::Keyring keys = {}) : keys_(std::move(keys)) {}

  // Every record the frame holds, in wire order (outer before inner).
  [[nodiscard]] std::vector<Json> decode(const FrameInfo& info, ByteView frame) const;

 private:
  auth::Keyring keys_;
};

// "SPI:ALG:HEXKEY", e.g. "4096:hmac-md5:00112233445566778899aabbccddeeff" or
// "0x1000:hmac-sha256:…". Errors: "bad_key_spec" (shape, SPI), the algorithm and key
// reasons of common/auth ("unknown_algorithm", "bad_hex", "reserved_spi", "short_key",
// "long_key").
[[nodiscard]] Result<auth::SecurityAssociation> parse_key_spec(std::string_view spec);

// Display name of a registration reply code (RFC 5944 §3.4, RFC 3024 §4.3–4.4,
// RFC 3519 §3.2.3, RFC 5563 §4): "accepted", "ha_mn_auth_failed", … or "unknown".
[[nodiscard]] std::string_view reply_code_name(std::uint8_t code);

// "1700000000.000123": seconds and microseconds, exact (no floating point).
[[nodiscard]] std::string format_timestamp(std::int64_t sec, std::uint32_t usec);

}  // namespace vmroam::pcap
