// Registration-message fixtures shared by the common/wire message tests: fixed parts and
// extensions as hex (spaces allowed; hex() in packet_fixtures.hpp), written from the RFCs'
// layouts and checked against Wireshark's dissector by the tshark oracle tests.
#pragma once

#include <string>

#include "tests/unit/wire/packet_fixtures.hpp"

namespace vmroam::wire::fixtures {

// Fixed parts used throughout.
// Request: T flag, lifetime 1800, HoA 10.1.0.10, HA 10.1.0.1, CoA 10.2.0.1, Identification.
inline const std::string kReq = "01 02 0708 0a01000a 0a010001 0a020001 e9d2a4b0 00000001";
// Reply: code 0, lifetime 1800, HoA, HA, Identification.
inline const std::string kRep = "03 00 0708 0a01000a 0a010001 e9d2a4b0 00000001";
// Revocation: reserved 0, A|I, HoA, HDA 10.1.0.1, FDA 10.2.0.1, revocation id 7.
inline const std::string kRev = "07 00 c000 0a01000a 0a010001 0a020001 00000007";
// Revocation Ack: I, HoA, revocation id 7.
inline const std::string kAck = "0f 00 8000 0a01000a 00000007";

// Extensions.
inline const std::string kMnHa = "20 14 00000100 000102030405060708090a0b0c0d0e0f";  // SPI 256, 16-byte auth
inline const std::string kFaHa = "22 14 00000200 f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";  // SPI 512
inline const std::string kMnFa = "21 08 00000300 a1a2a3a4";                          // SPI 768, 4-byte auth
inline const std::string kDeviceId = "93 08 02 01 525400123456";  // 147 device ID, Ethernet MAC
inline const std::string kInterfaceId = "93 03 01 aabb";          // 147 interface ID
inline const std::string kSubscriberId = "93 04 03 01 3132";      // 147 subscriber ID, IMSI "12"
inline const std::string kAccessTech = "93 02 04 01";             // 147 access technology 802.3
inline const std::string kPerNode = "2f 01 0001 01";              // 47 per-node auth: FA-HA
inline const std::string kUdpReq = "90 06 00 00 80 04 0000";      // 144: F, IP-in-IP
inline const std::string kUdpRep = "2c 06 00 00 8000 006e";       // 44: accepted, F, keepalive 110
inline const std::string kRevSupport = "89 06 8000 00000005";     // 137: I supported, timestamp 5
inline const std::string kNai = "83 04 766d4078";                 // 131: "vm@x"
inline const std::string kSkipUnknown = "c8 02 abcd";             // 200: unknown skippable

}  // namespace vmroam::wire::fixtures
