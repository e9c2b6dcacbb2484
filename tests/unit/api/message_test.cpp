// common/api/message: request targets (origin-form only, RFC 9112 §3.2.1; query parameters
// percent-decoded, '+' as space, the last repeat wins), method names, and the error bodies
// and statuses of docs/api.md, including the headers RFC 9110 §15.5.6 (Allow on 405) and
// RFC 6750 §3 (WWW-Authenticate on 401) require.
#include <gtest/gtest.h>

#include <string>

#include "common/api/message.hpp"

namespace vmroam::api {
namespace {

TEST(Method, NamesRoundTripAndUnknownIsOther) {
  for (auto m : {Method::get, Method::head, Method::post, Method::put, Method::patch, Method::delete_,
                 Method::options})
    EXPECT_EQ(parse_method(to_string(m)), m) << to_string(m);
  EXPECT_EQ(to_string(Method::delete_), "DELETE");
  for (auto s : {"get", "TRACE", "", "GET "}) EXPECT_EQ(parse_method(s), Method::other) << s;
  EXPECT_EQ(to_string(Method::other), "OTHER");
}

TEST(PercentDecode, Table) {
  struct Case {
    const char* in;
    bool plus_is_space;
    const char* out;  // nullptr: rejected
  };
  const Case cases[] = {
      {"", false, ""},         {"abc", false, "abc"},   {"a%20b", false, "a b"},
      {"a%2Fb", false, "a/b"}, {"%2f%2F", false, "//"}, {"a+b", false, "a+b"},
      {"a+b", true, "a b"},    {"%2B", true, "+"},  // an encoded plus stays a plus
      {"%", false, nullptr},   {"%2", false, nullptr},  {"ab%", false, nullptr},
      {"%zz", false, nullptr}, {"%2g", false, nullptr},
  };
  for (const auto& c : cases) {
    auto r = percent_decode(c.in, c.plus_is_space);
    if (c.out == nullptr) {
      ASSERT_FALSE(r) << c.in;
      EXPECT_EQ(r.error().code, "bad_target") << c.in;
      EXPECT_NE(r.error().context.find(c.in), std::string::npos) << "names the input: " << c.in;
    } else {
      ASSERT_TRUE(r) << c.in;
      EXPECT_EQ(*r, c.out) << c.in;
    }
  }
  auto nul = percent_decode("a%00b", false);  // a NUL byte is data, not an end
  ASSERT_TRUE(nul);
  EXPECT_EQ(*nul, std::string("a\0b", 3));
}

TEST(ParseTarget, SplitsPathAndDecodesQuery) {
  Request q;
  ASSERT_TRUE(parse_target("/v1/visitors/vm%2F1?wait_ms=1000&x=a+b&flag&y=%41", q));
  EXPECT_EQ(q.path, "/v1/visitors/vm%2F1");  // the path stays encoded: the router decodes per segment
  EXPECT_EQ(q.query.at("wait_ms"), "1000");
  EXPECT_EQ(q.query.at("x"), "a b");
  EXPECT_EQ(q.query.at("flag"), "");
  EXPECT_EQ(q.query.at("y"), "A");
  EXPECT_EQ(q.query.size(), 4u);
}

TEST(ParseTarget, LastRepeatWinsEmptyPairsAndFragmentIgnored) {
  Request q;
  ASSERT_TRUE(parse_target("/x?a=1&&a=2&#frag=3", q));
  EXPECT_EQ(q.path, "/x");
  EXPECT_EQ(q.query.size(), 1u);
  EXPECT_EQ(q.query.at("a"), "2");
}

TEST(ParseTarget, ReplacesAnEarlierQuery) {
  Request q;
  ASSERT_TRUE(parse_target("/a?old=1", q));
  ASSERT_TRUE(parse_target("/b", q));
  EXPECT_EQ(q.path, "/b");
  EXPECT_TRUE(q.query.empty());
}

TEST(ParseTarget, Rejections) {
  for (auto bad : {"", "v1/bindings", "http://agent/v1/bindings", "*", "?a=1"}) {
    Request q;
    auto r = parse_target(bad, q);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "bad_target") << bad;
  }
  for (auto bad : {"/x?a=%", "/x?%zz=1", "/x?a=1&b=%4"}) {
    Request q;
    auto r = parse_target(bad, q);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "bad_target") << bad;
  }
}

TEST(ErrorBodies, EveryHelperHasItsCodeAndStatus) {
  struct Case {
    Response r;
    int status;
    const char* code;
  };
  const Case cases[] = {
      {bad_json("x"), 400, "bad_json"},
      {bad_field("home_address", "x"), 400, "bad_field"},
      {missing_field("mac"), 400, "missing_field"},
      {bad_request("x"), 400, "bad_request"},
      {unauthorized("x"), 401, "unauthorized"},
      {not_found("x"), 404, "not_found"},
      {method_not_allowed("GET, POST"), 405, "method_not_allowed"},
      {conflict("x"), 409, "conflict"},
      {too_large(413, "x"), 413, "too_large"},
      {too_large(431, "x"), 431, "too_large"},
      {internal("x"), 500, "internal"},
      {unavailable("x"), 503, "unavailable"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code);
    EXPECT_EQ(c.r.status, c.status);
    EXPECT_TRUE(c.r.is_json());
    EXPECT_EQ(c.r.json.at("error").at("code"), c.code);
    EXPECT_TRUE(c.r.json.at("error").at("message").is_string());
  }
}

TEST(ErrorBodies, FieldOnlyWhenThereIsOne) {
  auto f = bad_field("home_address", "not an IPv4 address");
  EXPECT_EQ(f.json.at("error").at("field"), "home_address");
  EXPECT_EQ(f.json.at("error").at("message"), "not an IPv4 address");
  EXPECT_EQ(missing_field("mac").json.at("error").at("field"), "mac");
  EXPECT_FALSE(bad_json("x").json.at("error").contains("field"));
  EXPECT_EQ(bad_json("x").body_text(), R"({"error":{"code":"bad_json","message":"x"}})");
}

TEST(ErrorBodies, RequiredHeaders) {
  auto m = method_not_allowed("GET, POST");
  ASSERT_EQ(m.headers.size(), 1u);
  EXPECT_EQ(m.headers[0].first, "Allow");
  EXPECT_EQ(m.headers[0].second, "GET, POST");
  EXPECT_EQ(m.json.at("error").at("message"), "allowed: GET, POST");
  auto u = unauthorized("missing token");
  ASSERT_EQ(u.headers.size(), 1u);
  EXPECT_EQ(u.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(u.headers[0].second, "Bearer");
  EXPECT_TRUE(not_found("x").headers.empty());
}

TEST(ErrorBodies, InternalFromALibraryError) {
  auto r = internal(make_error("commit_failed", "disk full"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.json.at("error").at("message"), "commit_failed: disk full");
}

TEST(Response, TextBodiesAndInvalidUtf8) {
  auto t = Response::make_text(200, "vmroam_up 1\n", kPrometheusType);
  EXPECT_FALSE(t.is_json());
  EXPECT_EQ(t.body_text(), "vmroam_up 1\n");
  EXPECT_EQ(t.content_type, kPrometheusType);
  // A string echoed back with invalid UTF-8 is replaced, never thrown on.
  auto j = bad_field("id", std::string("caf\xc3", 4));
  std::string body;
  EXPECT_NO_THROW(body = j.body_text());
  EXPECT_NE(body.find("caf"), std::string::npos);
  EXPECT_NE(body.find("\xef\xbf\xbd"), std::string::npos);  // U+FFFD
}

}  // namespace
}  // namespace vmroam::api
