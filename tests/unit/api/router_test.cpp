// Router, target parsing, error bodies and deferred replies, without sockets.
#include "common/api/router.hpp"

#include <gtest/gtest.h>

namespace vmroam::api {
namespace {

Request make(Method m, std::string_view target, std::string body = {}) {
  Request r;
  r.method = m;
  EXPECT_TRUE(parse_target(target, r)) << target;
  r.body = std::move(body);
  return r;
}

Response sync(const Reply& reply) {
  EXPECT_TRUE(std::holds_alternative<Response>(reply));
  return std::get<Response>(reply);
}

Router sample_router() {
  Router r;
  auto echo = [](std::string tag) {
    return [tag](const Request&, const PathParams& p) -> Reply {
      Json j{{"route", tag}};
      for (const auto& [k, v] : p) j[k] = v;
      return Response::make_json(200, j);
    };
  };
  r.add(Method::get, "/v1/health", echo("health"));
  r.add(Method::get, "/v1/vms", echo("list"));
  r.add(Method::post, "/v1/vms", echo("create"));
  r.add(Method::get, "/v1/vms/{id}", echo("get"));
  r.add(Method::put, "/v1/vms/{id}", echo("put"));
  r.add(Method::delete_, "/v1/vms/{id}", echo("delete"));
  r.add(Method::post, "/v1/visitors/{id}/activate", echo("activate"));
  return r;
}

TEST(Router, DispatchTable) {
  struct Case {
    const char* description;
    Method method;
    const char* target;
    int status;
    Json expected;  // full body
  };
  const Case cases[] = {
      {"literal path", Method::get, "/v1/health", 200, {{"route", "health"}}},
      {"query ignored by routing", Method::get, "/v1/vms?x=1", 200, {{"route", "list"}}},
      {"same path other method", Method::post, "/v1/vms", 200, {{"route", "create"}}},
      {"param", Method::get, "/v1/vms/vm1", 200, {{"route", "get"}, {"id", "vm1"}}},
      {"param percent-decoded, %2F stays in the segment",
       Method::delete_,
       "/v1/vms/a%2Fb%20c",
       200,
       {{"route", "delete"}, {"id", "a/b c"}}},
      {"param then literal",
       Method::post,
       "/v1/visitors/v7/activate",
       200,
       {{"route", "activate"}, {"id", "v7"}}},
      {"unknown path",
       Method::get,
       "/v2/health",
       404,
       {{"error", {{"code", "not_found"}, {"message", "no such path: /v2/health"}}}}},
      {"trailing slash is another path",
       Method::get,
       "/v1/vms/",
       404,
       {{"error", {{"code", "not_found"}, {"message", "no such path: /v1/vms/"}}}}},
      {"extra segment",
       Method::get,
       "/v1/vms/a/b",
       404,
       {{"error", {{"code", "not_found"}, {"message", "no such path: /v1/vms/a/b"}}}}},
      {"wrong method on a param route",
       Method::post,
       "/v1/vms/vm1",
       405,
       {{"error", {{"code", "method_not_allowed"}, {"message", "allowed: GET, PUT, DELETE"}}}}},
      {"wrong method on a literal route",
       Method::delete_,
       "/v1/health",
       405,
       {{"error", {{"code", "method_not_allowed"}, {"message", "allowed: GET"}}}}},
      {"broken escape",
       Method::get,
       "/v1/vms/a%zz",
       400,
       {{"error", {{"code", "bad_request"}, {"message", "bad percent escape in path"}}}}},
  };
  Router r = sample_router();
  for (const auto& c : cases) {
    Response resp = sync(r.dispatch(make(c.method, c.target)));
    EXPECT_EQ(resp.status, c.status) << c.description;
    EXPECT_EQ(resp.json, c.expected) << c.description << ": " << resp.body_text();
  }
}

TEST(Router, MethodNotAllowedCarriesAllowHeader) {
  Router r = sample_router();
  Response resp = sync(r.dispatch(make(Method::patch, "/v1/vms")));
  ASSERT_EQ(resp.status, 405);
  ASSERT_EQ(resp.headers.size(), 1u);
  EXPECT_EQ(resp.headers[0].first, "Allow");
  EXPECT_EQ(resp.headers[0].second, "GET, POST");
}

TEST(Target, ParseTable) {
  struct Case {
    const char* description;
    const char* target;
    bool ok;
    const char* path;
    std::map<std::string, std::string, std::less<>> query;
  };
  const Case cases[] = {
      {"plain", "/v1/x", true, "/v1/x", {}},
      {"query", "/v1/x?wait_ms=500&a=b", true, "/v1/x", {{"wait_ms", "500"}, {"a", "b"}}},
      {"decoded query, plus is space", "/x?n=a%20b+c&flag", true, "/x", {{"n", "a b c"}, {"flag", ""}}},
      {"repeated name keeps last", "/x?a=1&a=2&&", true, "/x", {{"a", "2"}}},
      {"fragment dropped", "/x?a=1#frag", true, "/x", {{"a", "1"}}},
      {"absolute form rejected", "http://h/x", false, "", {}},
      {"empty rejected", "", false, "", {}},
      {"broken escape", "/x?a=%4", false, "", {}},
  };
  for (const auto& c : cases) {
    Request r;
    auto res = parse_target(c.target, r);
    ASSERT_EQ(static_cast<bool>(res), c.ok) << c.description;
    if (!c.ok) {
      EXPECT_EQ(res.error().code, "bad_target") << c.description;
      continue;
    }
    EXPECT_EQ(r.path, c.path) << c.description;
    EXPECT_EQ(r.query, c.query) << c.description;
  }
}

TEST(Method, RoundTrip) {
  for (Method m : {Method::get, Method::head, Method::post, Method::put, Method::patch, Method::delete_,
                   Method::options}) {
    EXPECT_EQ(parse_method(to_string(m)), m);
  }
  EXPECT_EQ(parse_method("BREW"), Method::other);
  EXPECT_EQ(parse_method("get"), Method::other);  // methods are case-sensitive (RFC 9110 §9.1)
}

TEST(ErrorBodies, StatusAndShape) {
  struct Case {
    const char* description;
    Response resp;
    int status;
    const char* expected;
  };
  const Case cases[] = {
      {"bad_json", bad_json("nope"), 400, R"({"error":{"code":"bad_json","message":"nope"}})"},
      {"bad_field", bad_field("home_address", "not an IPv4 address: 10.1.0"), 400,
       R"({"error":{"code":"bad_field","field":"home_address","message":"not an IPv4 address: 10.1.0"}})"},
      {"missing_field", missing_field("mac"), 400,
       R"({"error":{"code":"missing_field","field":"mac","message":"required field is missing"}})"},
      {"unauthorized", unauthorized("no token"), 401,
       R"({"error":{"code":"unauthorized","message":"no token"}})"},
      {"not_found", not_found("no VM x"), 404, R"({"error":{"code":"not_found","message":"no VM x"}})"},
      {"conflict", conflict("exists"), 409, R"({"error":{"code":"conflict","message":"exists"}})"},
      {"too_large", too_large(413, "big"), 413, R"({"error":{"code":"too_large","message":"big"}})"},
      {"internal", internal(make_error("db_locked", "bindings")), 500,
       R"({"error":{"code":"internal","message":"db_locked: bindings"}})"},
      {"unavailable", unavailable("stopping"), 503,
       R"({"error":{"code":"unavailable","message":"stopping"}})"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.resp.status, c.status) << c.description;
    EXPECT_EQ(c.resp.body_text(), c.expected) << c.description;
    EXPECT_TRUE(c.resp.is_json()) << c.description;
  }
}

TEST(Response, InvalidUtf8IsReplacedNotThrown) {
  Response r = bad_field("id", std::string("bad \xff byte"));
  EXPECT_NE(r.body_text().find("bad"), std::string::npos);
}

TEST(Deferred, SendAfterAttach) {
  auto [d, responder] = make_deferred();
  std::optional<Response> got;
  d.attach([&](Response r) { got = std::move(r); });
  EXPECT_FALSE(got);
  EXPECT_TRUE(responder.active());
  EXPECT_TRUE(responder.send(Response::make_json(200, {{"state", "active"}})));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->json["state"], "active");
  EXPECT_FALSE(responder.active());
  EXPECT_FALSE(responder.send(Response::make_json(200, {})));  // second send ignored
  EXPECT_TRUE(d.done());
}

TEST(Deferred, SendBeforeAttachIsDeliveredOnAttach) {
  auto [d, responder] = make_deferred();
  EXPECT_TRUE(responder.send(Response::make_json(201, {})));
  EXPECT_FALSE(d.done());
  int status = 0;
  d.attach([&](Response r) { status = r.status; });
  EXPECT_EQ(status, 201);
  EXPECT_TRUE(d.done());
}

TEST(Deferred, CancelRunsOnCancelAndDropsLaterSend) {
  auto [d, responder] = make_deferred();
  int cancelled = 0;
  bool sent = false;
  responder.on_cancel([&] { ++cancelled; });
  d.attach([&](Response) { sent = true; });
  d.cancel();
  d.cancel();
  EXPECT_EQ(cancelled, 1);
  EXPECT_FALSE(responder.active());
  EXPECT_FALSE(responder.send(Response::make_json(200, {})));
  EXPECT_FALSE(sent);
}

TEST(Deferred, RouterPassesDeferredThrough) {
  Router r;
  std::optional<Responder> kept;
  r.add(Method::get, "/v1/visitors/{id}", [&](const Request&, const PathParams&) -> Reply {
    auto [d, responder] = make_deferred();
    kept = responder;
    return d;
  });
  Reply reply = r.dispatch(make(Method::get, "/v1/visitors/x?wait_ms=10"));
  ASSERT_TRUE(std::holds_alternative<Deferred>(reply));
  int status = 0;
  std::get<Deferred>(reply).attach([&](Response resp) { status = resp.status; });
  ASSERT_TRUE(kept);
  kept->send(Response::make_json(200, {}));
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace vmroam::api
