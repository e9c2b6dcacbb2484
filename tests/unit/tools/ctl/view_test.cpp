// tools/ctl/view: vmroamctl's responses → tables for people: aligned columns, empty lists,
// nested fields flattened, cell text, metrics as JSON, a failed move explained.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/ctl/view.hpp"

namespace vmroam::ctl {
namespace {

TEST(CtlView, VmTableIsAligned) {
  const Json body = Json::parse(R"({"vms":[
    {"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","allowed_fas":["192.0.2.3"],"away":true,"spi":300,
     "home_addresses_v6":["2001:db8:1::10","2001:db8:1::11"]},
    {"id":"database-2","home_address":"10.1.0.200","mac":"52:54:00:00:00:02","allowed_fas":[],"away":false,
     "home_addresses_v6":[]}]})");
  EXPECT_EQ(
      render(View::vm_table, body, ""),
      "ID          HOME_ADDRESS  HOME_ADDRESSES_V6              MAC                AWAY  ALLOWED_FAS  SPI\n"
      "vm1         10.1.0.10     2001:db8:1::10,2001:db8:1::11  52:54:00:12:34:56  yes   192.0.2.3    300\n"
      "database-2  10.1.0.200    -                              52:54:00:00:00:02  no    -            -\n");
}

TEST(CtlView, EmptyListsKeepTheirHeader) {
  EXPECT_EQ(render(View::binding_table, Json::parse(R"({"bindings":[]})"), ""),
            "HOME_ADDRESS  VM  CARE_OF  FOREIGN_AGENT  ENCAP  REMAINING_S  FLAGS  MOVE_SEQ\n");
  EXPECT_EQ(render(View::visitor_table, Json::parse(R"({"visitors":[]})"), ""),
            "ID  HOME_ADDRESS  MAC  STATE  HOME_AGENT  ENCAP\n");
}

TEST(CtlView, FieldsFlattenNestedObjects) {
  const Json body =
      Json::parse(R"({"id":"vm1","away":true,"binding":{"care_of_address":"192.0.2.3","flags":["D","T"],
    "remaining_s":null}})");
  EXPECT_EQ(render(View::fields, body, ""),
            "away:                     yes\n"
            "binding.care_of_address:  192.0.2.3\n"
            "binding.flags:            D,T\n"
            "binding.remaining_s:      -\n"
            "id:                       vm1\n");
}

TEST(CtlView, StatusShowsTheClusterMembersAsATable) {
  const Json body = Json::parse(R"({"status":"ok","role":"home-agent","cluster":{"node":"ha2",
    "home_prefix":"10.1.0.0/24","active":"ha1","revision":812,"members":[
    {"node":"ha1","home_prefix":"10.1.0.0/24","role":"active","lag":0,"lease_ttl_s":2,"api":"/run/ha1.sock"},
    {"node":"ha2","home_prefix":"10.1.0.0/24","role":"standby","lag":17,"lease_ttl_s":1,"api":"https://10.0.0.6:8434"},
    {"node":"hb1","home_prefix":"10.9.0.0/24","role":"active","lag":0,"lease_ttl_s":null,"api":""}]}})");
  EXPECT_EQ(render(View::status, body, ""),
            "cluster.active:       ha1\n"
            "cluster.home_prefix:  10.1.0.0/24\n"
            "cluster.node:         ha2\n"
            "cluster.revision:     812\n"
            "role:                 home-agent\n"
            "status:               ok\n"
            "\n"
            "NODE  HOME_PREFIX  ROLE     LAG  LEASE_TTL_S  API\n"
            "ha1   10.1.0.0/24  active   0    2            /run/ha1.sock\n"
            "ha2   10.1.0.0/24  standby  17   1            https://10.0.0.6:8434\n"
            "hb1   10.9.0.0/24  active   0    -            -\n");
  // A single HA (cluster null) or an FA: the fields only.
  EXPECT_EQ(render(View::status, Json::parse(R"({"status":"ok","cluster":null})"), ""),
            "cluster:  -\nstatus:   ok\n");
}

TEST(CtlView, CellText) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json(nullptr), "-"}, {Json(""), "-"},  {Json("x"), "x"},     {Json(true), "yes"},
      {Json(false), "no"},  {Json(42), "42"}, {Json::array(), "-"}, {Json::parse(R"(["a","b"])"), "a,b"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(cell_text(in), want) << in.dump();
}

TEST(CtlView, MetricsToJson) {
  const std::string text =
      "# HELP vmroam_bindings Bindings\n# TYPE vmroam_bindings gauge\nvmroam_bindings 2\n"
      "vmroam_registrations_total{code=\"0\",result=\"accepted\"} 17\n"
      "vmroam_x_bucket{le=\"+Inf\"} 3\nvmroam_weird{a=\"q\\\"uote\"} 1.5\ngarbage\n";
  const Json j = metrics_to_json(text);
  ASSERT_EQ(j["samples"].size(), 4u);
  EXPECT_EQ(j["samples"][0], Json::parse(R"({"name":"vmroam_bindings","labels":{},"value":2.0})"));
  EXPECT_EQ(j["samples"][1]["labels"], Json::parse(R"({"code":"0","result":"accepted"})"));
  EXPECT_EQ(j["samples"][1]["value"], 17.0);
  EXPECT_EQ(j["samples"][2]["labels"]["le"], "+Inf");
  EXPECT_EQ(j["samples"][3]["labels"]["a"], "q\"uote");
}

TEST(CtlView, MoveFailure) {
  EXPECT_EQ(move_failure(Json::parse(R"({"state":"active"})")), "");
  EXPECT_EQ(
      move_failure(Json::parse(R"({"state":"failed","reply_code":133,"reason":"registration_id_mismatch"})")),
      "registration failed: reply_code 133 (registration_id_mismatch)");
  EXPECT_NE(move_failure(Json::parse(R"({"state":"registering"})")).find("state registering"),
            std::string::npos);
}

}  // namespace
}  // namespace vmroam::ctl
