// common/wire/reply_code: the one table of reply code names every display uses. Each name is
// unique, each code appears once, and a name says who denied: fa_* is 64–127 (and 194, Invalid
// Home Agent Address) and ha_* 128–191 (RFC 5944 §3.4); a code no RFC we know names has no name.
#include "common/wire/reply_code.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace vmroam::wire {
namespace {

TEST(ReplyCode, NamesAreUniqueAndSayWhoDenied) {
  std::set<std::uint8_t> codes;
  std::set<std::string_view> names;
  for (const auto& n : kReplyCodeNames) {
    SCOPED_TRACE(std::string(n.name));
    EXPECT_TRUE(codes.insert(n.code).second) << "code listed twice";
    EXPECT_TRUE(names.insert(n.name).second) << "name listed twice";
    EXPECT_EQ(reply_code_name(n.code), n.name);
    if (n.name.starts_with("fa_")) {
      EXPECT_TRUE(mip::code::is_fa_denial(n.code)) << int(n.code);
    } else if (n.name.starts_with("ha_")) {
      EXPECT_TRUE(mip::code::is_ha_denial(n.code)) << int(n.code);
    } else {
      EXPECT_TRUE(mip::code::is_accepted(n.code)) << int(n.code);
    }
  }
}

TEST(ReplyCode, KnownAndUnknownCodes) {
  EXPECT_EQ(reply_code_name(mip::code::accepted), "accepted");
  EXPECT_EQ(reply_code_name(mip::code::ha_identification_mismatch), "ha_identification_mismatch");
  EXPECT_EQ(reply_code_name(mip::code::fa_registration_timeout), "fa_registration_timeout");
  EXPECT_EQ(reply_code_name(194), "fa_invalid_home_agent");  // RFC 5944 §3.4, past the HA's range
  EXPECT_EQ(reply_code_name(2), "");                         // between the accepted codes and the FA's
  EXPECT_EQ(reply_code_name(255), "");                       // past every range
}

}  // namespace
}  // namespace vmroam::wire
