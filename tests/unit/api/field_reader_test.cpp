// FieldReader: every field problem becomes the docs/api.md error naming that field.
#include "common/api/field_reader.hpp"

#include <gtest/gtest.h>

namespace vmroam::api {
namespace {

// A handler-like validation of the home agent's POST /v1/vms body.
Response validate_vm(std::string_view body) {
  auto f = FieldReader::from_body(body);
  auto id = f.require_id("id");
  auto hoa = f.require_ipv4("home_address");
  auto mac = f.require_mac("mac");
  auto fas = f.require_ipv4_list("allowed_fas");
  auto spi = f.require_uint("spi", 256, 0xffffffff);  // RFC 5944 §5.1: SPIs 0-255 reserved
  auto alg = f.require_enum("algorithm", {"hmac-sha256", "hmac-md5"});
  auto key = f.require_hex_key("key", 16, 64);
  auto lifetime = f.optional_uint("lifetime", 1, 65535).value_or(1800);
  auto note = f.optional_string("note", 0, 8);
  f.reject_unknown();
  if (!f.ok()) return f.error();
  Json out{{"id", id},
           {"home_address", hoa.to_string()},
           {"mac", mac.to_string()},
           {"fas", fas.size()},
           {"spi", spi},
           {"algorithm", alg},
           {"key_len", key.size()},
           {"lifetime", lifetime},
           {"note", note.value_or("-")}};
  return Response::make_json(201, out);
}

constexpr const char* kGood =
    R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","allowed_fas":["10.2.0.1"],)"
    R"("spi":4096,"algorithm":"hmac-sha256","key":"00112233445566778899aabbccddeeff"})";

std::string with(std::string_view field, std::string_view json_value) {
  Json j = Json::parse(kGood);
  if (json_value.empty()) {
    j.erase(std::string(field));
  } else {
    j[std::string(field)] = Json::parse(json_value);
  }
  return j.dump();
}

TEST(FieldReader, GoodBody) {
  Response r = validate_vm(kGood);
  ASSERT_EQ(r.status, 201) << r.body_text();
  EXPECT_EQ(r.json["home_address"], "10.1.0.10");
  EXPECT_EQ(r.json["mac"], "52:54:00:12:34:56");
  EXPECT_EQ(r.json["key_len"], 16);
  EXPECT_EQ(r.json["lifetime"], 1800);
  EXPECT_EQ(r.json["note"], "-");
}

TEST(FieldReader, ErrorTable) {
  struct Case {
    const char* description;
    std::string body;
    const char* code;
    const char* field;  // "" when the error names none
    const char* message_part;
  };
  const Case cases[] = {
      {"not JSON", "{", "bad_json", "", "not valid JSON"},
      {"empty body", "  ", "bad_json", "", "empty"},
      {"array body", "[1]", "bad_json", "", "not an array"},
      {"invalid UTF-8", "{\"id\":\"\xff\"}", "bad_json", "", "not valid JSON"},
      {"missing id", with("id", ""), "missing_field", "id", "missing"},
      {"null counts as missing", with("mac", "null"), "missing_field", "mac", "missing"},
      {"id wrong type", with("id", "7"), "bad_field", "id", "must be a string, not a number"},
      {"id bad chars", with("id", R"("a/b")"), "bad_field", "id", "letters"},
      {"id empty", with("id", R"("")"), "bad_field", "id", "empty"},
      {"ipv4 truncated", with("home_address", R"("10.1.0")"), "bad_field", "home_address",
       "not an IPv4 address: 10.1.0"},
      {"mac bad", with("mac", R"("52:54:00:12:34")"), "bad_field", "mac", "not a MAC address"},
      {"list not array", with("allowed_fas", R"("10.2.0.1")"), "bad_field", "allowed_fas",
       "must be an array"},
      {"list item bad", with("allowed_fas", R"(["10.2.0.1","x"])"), "bad_field", "allowed_fas[1]",
       "not an IPv4 address: x"},
      {"list empty", with("allowed_fas", "[]"), "bad_field", "allowed_fas", "at least 1"},
      {"spi reserved", with("spi", "255"), "bad_field", "spi", "between 256 and 4294967295: 255"},
      {"spi negative", with("spi", "-1"), "bad_field", "spi", "negative"},
      {"spi float", with("spi", "4096.5"), "bad_field", "spi", "unsigned integer, not a number"},
      {"spi too big", with("spi", "4294967296"), "bad_field", "spi", "between"},
      {"spi string", with("spi", R"("4096")"), "bad_field", "spi", "not a string"},
      {"algorithm unknown", with("algorithm", R"("sha1")"), "bad_field", "algorithm",
       "must be one of hmac-sha256, hmac-md5: sha1"},
      {"key not hex", with("key", R"("zz112233445566778899aabbccddeeff")"), "bad_field", "key", "not a hex"},
      {"key short", with("key", R"("0011")"), "bad_field", "key", "16..64 bytes, got 2"},
      {"optional out of range", with("lifetime", "0"), "bad_field", "lifetime", "between 1 and 65535"},
      {"optional string too long", with("note", R"("123456789")"), "bad_field", "note", "longer than 8"},
      {"unknown field named", with("lifetme", "5"), "bad_field", "lifetme", "unknown field"},
  };
  for (const auto& c : cases) {
    Response r = validate_vm(c.body);
    EXPECT_EQ(r.status, 400) << c.description;
    const Json& e = r.json["error"];
    EXPECT_EQ(e["code"], c.code) << c.description << ": " << r.body_text();
    if (*c.field) {
      EXPECT_EQ(e.value("field", ""), c.field) << c.description << ": " << r.body_text();
    } else {
      EXPECT_FALSE(e.contains("field")) << c.description;
    }
    EXPECT_NE(e.value("message", "").find(c.message_part), std::string::npos)
        << c.description << ": " << r.body_text();
  }
}

TEST(FieldReader, KeyIsNeverEchoed) {
  Response r = validate_vm(with("key", R"("00112233445566778899aabbccddeefg")"));
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(r.body_text().find("0011223344"), std::string::npos) << r.body_text();
}

TEST(FieldReader, FirstErrorWins) {
  auto f = FieldReader::from_body(R"({"a":"x","b":"y"})");
  (void)f.require_ipv4("a");
  (void)f.require_mac("b");
  (void)f.require_string("c");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().json["error"]["field"], "a");
}

TEST(FieldReader, EmptyBodyAllowedWhenAsked) {
  auto f = FieldReader::from_body("", true);
  f.reject_unknown();
  EXPECT_TRUE(f.ok());
  auto g = FieldReader::from_body(R"({"force":true})", true);
  EXPECT_EQ(g.optional_bool("force"), true);
  g.reject_unknown();
  EXPECT_TRUE(g.ok());
}

TEST(FieldReader, NestedPrefixNamesPath) {
  FieldReader f(Json{{"port", "x"}}, "tcp");
  (void)f.require_uint("port", 1, 65535);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().json["error"]["field"], "tcp.port");
  FieldReader g(Json::array(), "tcp");
  EXPECT_FALSE(g.ok());
  EXPECT_EQ(g.error().json["error"]["field"], "tcp");
}

TEST(FieldReader, CrossFieldFailure) {
  auto f = FieldReader::from_body(R"({"min":5,"max":3})");
  auto lo = f.require_uint("min", 0, 10);
  auto hi = f.require_uint("max", 0, 10);
  if (hi < lo) f.fail_field("max", "must not be below min");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().json["error"]["field"], "max");
}

TEST(FieldReader, QueryTable) {
  struct Case {
    const char* description;
    const char* target;
    bool ok;
    std::uint64_t wait_ms;
    const char* bad_field;
  };
  const Case cases[] = {
      {"absent", "/v1/visitors/x", true, 0, ""},
      {"value", "/v1/visitors/x?wait_ms=2500", true, 2500, ""},
      {"not a number", "/v1/visitors/x?wait_ms=soon", false, 0, "wait_ms"},
      {"negative", "/v1/visitors/x?wait_ms=-1", false, 0, "wait_ms"},
      {"too big", "/v1/visitors/x?wait_ms=600001", false, 0, "wait_ms"},
      {"overflow", "/v1/visitors/x?wait_ms=99999999999999999999", false, 0, "wait_ms"},
      {"unknown parameter", "/v1/visitors/x?wait=5", false, 0, "wait"},
  };
  for (const auto& c : cases) {
    Request req;
    ASSERT_TRUE(parse_target(c.target, req));
    auto f = FieldReader::from_query(req);
    auto wait = f.optional_uint("wait_ms", 0, 600000).value_or(0);
    f.reject_unknown();
    EXPECT_EQ(f.ok(), c.ok) << c.description;
    if (c.ok) {
      EXPECT_EQ(wait, c.wait_ms) << c.description;
    } else {
      EXPECT_EQ(f.error().json["error"]["field"], c.bad_field) << c.description;
    }
  }
}

}  // namespace
}  // namespace vmroam::api
