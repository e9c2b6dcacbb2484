// common/wire/message: the one entry point for UDP port 434 (RFC 5944 §3, RFC 3519 §3.3,
// RFC 3543 §3). A table of valid and rejected payloads: each valid one parses and encodes back
// to the same bytes, each rejected one names its reason, and every reason in
// rejection_reasons() is exercised somewhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <variant>

#include "common/core/hex.hpp"
#include "common/wire/message.hpp"
#include "tests/unit/wire/message_fixtures.hpp"

namespace vmroam::wire {
namespace {

using namespace fixtures;

struct Case {
  const char* description;
  std::string bytes;
  std::string_view error;  // empty: valid
};

const Case kCases[] = {
    // ---- valid --------------------------------------------------------------------------
    {"request, no extensions", kReq, ""},
    {"request with MN-HA", kReq + kMnHa, ""},
    {"proxy request: 147s, 47, 144, 137, NAI, then FA-HA",
     kReq + kDeviceId + kInterfaceId + kSubscriberId + kAccessTech + kPerNode + kUdpReq + kRevSupport + kNai +
         kFaHa,
     ""},
    {"request: MN-HA, FA extensions, MN-FA", kReq + kMnHa + kRevSupport + kMnFa, ""},
    {"request: MN-HA then FA-HA", kReq + kMnHa + kFaHa, ""},
    {"request: unknown skippable is kept", kReq + kSkipUnknown + kMnHa, ""},
    {"request: unknown 147 sub-type is skippable", kReq + "93 02 09 00" + kMnHa, ""},
    {"request: all flags set", "01 ff 0708 0a01000a 0a010001 0a020001 e9d2a4b0 00000001", ""},
    {"reply, no extensions", kRep, ""},
    {"reply with UDP tunnel reply and MN-HA", kRep + kUdpRep + kMnHa, ""},
    {"revocation with FA-HA", kRev + kFaHa, ""},
    {"revocation, no extensions", kRev, ""},
    {"revocation ack with FA-HA", kAck + kFaHa, ""},
    // ---- rejections ---------------------------------------------------------------------
    {"empty payload", "", "truncated"},
    {"request, 23 bytes", kReq.substr(0, kReq.size() - 2), "truncated"},
    {"reply, 19 bytes", kRep.substr(0, kRep.size() - 2), "truncated"},
    {"revocation, 19 bytes", kRev.substr(0, kRev.size() - 2), "truncated"},
    {"ack, 11 bytes", kAck.substr(0, kAck.size() - 2), "truncated"},
    {"type 2", "02 00 0708 0a01000a 0a010001 0a020001 e9d2a4b0 00000001", "bad_type"},
    {"type 255", "ff", "bad_type"},
    {"unknown non-skippable 100", kReq + "64 00" + kMnHa, "unknown_nonskippable_extension"},
    {"generalized auth 36 is not implemented", kReq + "24 01 0008 00000100 aabbccdd",
     "unknown_nonskippable_extension"},
    {"PMIPv4 47 unknown sub-type", kReq + "2f 02 0001 01" + kFaHa, "unknown_nonskippable_extension"},
    {"extension header cut (1 byte)", kReq + "20", "extension_overrun"},
    {"long header cut (3 bytes)", kReq + "2f 01 00", "extension_overrun"},
    {"extension length runs past end", kReq + "20 14 00000100 0001", "extension_overrun"},
    {"long extension length runs past end", kReq + "2f 01 0002 01", "extension_overrun"},
    {"MN-HA with SPI only", kReq + "20 04 00000100", "bad_extension_length"},
    {"MN-HA shorter than an SPI", kReq + "20 02 0001", "bad_extension_length"},
    {"UDP tunnel request length 5", kReq + "90 05 00 00 80 04 00" + kMnHa, "bad_extension_length"},
    {"UDP tunnel reply length 7", kRep + "2c 07 00 00 8000 006e 00" + kMnHa, "bad_extension_length"},
    {"revocation support length 4", kReq + "89 04 8000 0000" + kMnHa, "bad_extension_length"},
    {"PMIPv4 per-node length 2", kReq + "2f 01 0002 0100" + kFaHa, "bad_extension_length"},
    {"147 with no sub-type", kReq + "93 00" + kMnHa, "bad_extension_length"},
    {"147 device ID without identifier", kReq + "93 02 02 01" + kMnHa, "bad_extension_length"},
    {"147 access technology length 3", kReq + "93 03 04 01 00" + kMnHa, "bad_extension_length"},
    {"NAI empty", kReq + "83 00" + kMnHa, "bad_extension_length"},
    {"152 prefix request length 17", kReq + "98 11 01 80 20010db80001000000000000000000" + kMnHa,
     "bad_extension_length"},
    {"152 prefix request, prefix length 129", kReq + "98 12 01 81 20010db8000100000000000000000010" + kMnHa,
     "bad_prefix_length"},
    {"152 prefix reply length 18", kRep + "98 12 02 00 20010db8000100000000000000000010" + kMnHa,
     "bad_extension_length"},
    {"extension after the last authenticator", kReq + kMnHa + kNai, "auth_not_last"},
    {"two MN-HA", kReq + kMnHa + kMnHa, "duplicate_auth_extension"},
    {"reply: extension after MN-HA", kRep + kMnHa + kUdpRep, "auth_not_last"},
    {"revocation: truncated FA-HA", kRev + "22 14 00000200 f0f1", "extension_overrun"},
};

Bytes encode_any(const Message& m) {
  return std::visit(
      [](const auto& v) -> Bytes {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, TunnelData>) {
          ADD_FAILURE() << "tunnel data has no encoding here";
          return {};
        } else {
          return encode(v);
        }
      },
      m);
}

TEST(ParseMessage, TableOfValidAndRejectedMessages) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.description);
    const Bytes b = hex(c.bytes);
    auto r = parse_message(b);
    if (c.error.empty()) {
      ASSERT_TRUE(r) << r.error().to_string();
      // Round trip: build(parse(b)) == b.
      EXPECT_EQ(to_hex(encode_any(*r)), to_hex(b));
    } else {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, c.error) << r.error().to_string();
      // Every reason is a listed metrics label.
      auto reasons = rejection_reasons();
      EXPECT_NE(std::find(reasons.begin(), reasons.end(), r.error().code), reasons.end());
    }
  }
}

TEST(ParseMessage, EveryListedReasonIsExercised) {
  std::set<std::string_view> seen;
  for (const auto& c : kCases)
    if (!c.error.empty()) seen.insert(c.error);
  // The typed-view and builder reasons are exercised in extension_test.cpp.
  seen.insert("wrong_extension_type");
  seen.insert("extension_too_long");
  for (auto reason : rejection_reasons()) EXPECT_TRUE(seen.count(reason)) << reason;
}

TEST(ParseMessage, TunnelDataIsADistinctKind) {
  const Bytes b = hex("04 04 0000 45000014");
  auto r = parse_message(b);
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::holds_alternative<TunnelData>(*r));
  EXPECT_EQ(message_name(*r), "tunnel_data");
}

}  // namespace
}  // namespace vmroam::wire
