// Keeps docs/configuration.md in step with the config parsers: the key tables of each agent's
// section must list exactly the keys that to_json() prints (for a config that sets every
// optional key), each documented default must be what the parser fills in, and each key
// marked `required` must fail the parse when it is missing.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "foreign-agent/config.hpp"
#include "home-agent/config.hpp"

namespace vmroam {
namespace {

using config::Json;

struct DocRow {
  std::string key;
  std::string default_cell;  // "required", "none" or a JSON literal
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string strip_ticks(std::string s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '`')) s.erase(0, 1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '`')) s.pop_back();
  return s;
}

// The rows of the first table after the heading that starts with `heading`.
std::vector<DocRow> doc_rows(const std::string& doc, const std::string& heading) {
  std::vector<DocRow> rows;
  std::istringstream in(doc);
  std::string line;
  bool in_section = false, in_table = false;
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) {
      if (in_section) break;
      in_section = line.starts_with(heading);
      continue;
    }
    if (!in_section) continue;
    if (!line.starts_with("|")) {
      if (in_table) break;
      continue;
    }
    in_table = true;
    std::vector<std::string> cells;
    std::size_t pos = 1;
    while (pos < line.size()) {
      auto bar = line.find('|', pos);
      if (bar == std::string::npos) break;
      cells.push_back(line.substr(pos, bar - pos));
      pos = bar + 1;
    }
    if (cells.size() < 4 || strip_ticks(cells[0]) == "key" || cells[0].find("---") != std::string::npos)
      continue;
    rows.push_back({strip_ticks(cells[0]), strip_ticks(cells[2])});
  }
  return rows;
}

// Leaf keys with dots for objects and [] for list items; a list of scalars is one leaf.
void flatten(const Json& j, const std::string& prefix, std::map<std::string, Json>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else if (j.is_array() && !j.empty() && j[0].is_object()) {
    for (const auto& e : j) flatten(e, prefix + "[]", out);
  } else if (!(j.is_array() && j.empty() && prefix.find('[') == std::string::npos &&
               out.contains(prefix + "[]"))) {
    out[prefix] = j;
  }
}

struct AgentCase {
  std::string heading;
  // Every optional key set (so to_json prints every key), and only the required ones.
  std::string full;
  std::string required_only;
  std::function<Result<Json>(const std::string&)> parse;  // text → to_json()
};

Result<Json> parse_ha(const std::string& text) {
  auto c = ha::parse_config_text(text);
  if (!c) return fail(c.error());
  return ha::to_json(*c);
}
Result<Json> parse_fa(const std::string& text) {
  auto c = fa::parse_config_text(text);
  if (!c) return fail(c.error());
  return fa::to_json(*c);
}

const std::string kKey = R"("key": "00112233445566778899aabbccddeeff")";

std::vector<AgentCase> cases() {
  return {
      {"## vmroam-ha",
       R"({"address": "192.0.2.1", "home_prefix": "10.1.0.0/24", "home_interface": "br-home",
           "home_prefix_v6": "2001:db8:1::/64",
           "foreign_agents": [{"address": "192.0.2.2", "fa_ha": {"spi": 1000, )" +
           kKey + R"(}}],
           "api": {"tcp": "127.0.0.1:8434", "token_file": "/etc/vmroam/token",
                   "tls": {"cert_file": "/etc/vmroam/api-cert.pem", "key_file": "/etc/vmroam/api-key.pem",
                           "client_ca_file": "/etc/vmroam/api-clients-ca.pem"}},
           "cluster": {"etcd": ["192.0.2.11:2379"], "node": "ha1", "service_address": "192.0.2.1/24"}})",
       R"({"address": "192.0.2.1", "home_prefix": "10.1.0.0/24", "home_interface": "br-home"})", parse_ha},
      {"## vmroam-fa",
       R"({"address": "192.0.2.2", "vm_interface": "br-vm",
           "home_agents": [{"address": "192.0.2.1", "fa_ha": {"spi": 1000, )" +
           kKey + R"(}}],
           "api": {"tcp": "127.0.0.1:8435", "token_file": "/etc/vmroam/token",
                   "tls": {"cert_file": "/etc/vmroam/api-cert.pem", "key_file": "/etc/vmroam/api-key.pem",
                           "client_ca_file": "/etc/vmroam/api-clients-ca.pem"}}})",
       R"({"address": "192.0.2.2", "vm_interface": "br-vm"})", parse_fa},
  };
}

TEST(ConfigurationDoc, EveryKeyDocumentedAndNoOther) {
  const std::string doc = slurp(std::string(VMROAM_SOURCE_ROOT) + "/docs/configuration.md");
  ASSERT_FALSE(doc.empty());
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.heading);
    const auto rows = doc_rows(doc, c.heading);
    ASSERT_GT(rows.size(), 5u) << "no key table under " << c.heading;
    auto full = c.parse(c.full);
    ASSERT_TRUE(full) << full.error().to_string();
    std::map<std::string, Json> keys;
    flatten(*full, "", keys);
    std::set<std::string> documented;
    for (const auto& r : rows) {
      EXPECT_TRUE(documented.insert(r.key).second) << "documented twice: " << r.key;
      EXPECT_TRUE(keys.contains(r.key)) << "documented but not a key of the parser: " << r.key;
    }
    for (const auto& [k, v] : keys) EXPECT_TRUE(documented.contains(k)) << "not documented: " << k;
  }
}

TEST(ConfigurationDoc, DefaultsAreWhatTheParserFillsIn) {
  const std::string doc = slurp(std::string(VMROAM_SOURCE_ROOT) + "/docs/configuration.md");
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.heading);
    auto minimal = c.parse(c.required_only);
    ASSERT_TRUE(minimal) << minimal.error().to_string();
    std::map<std::string, Json> values;
    flatten(*minimal, "", values);
    const Json required_only = Json::parse(c.required_only);
    int checked = 0;
    for (const auto& r : doc_rows(doc, c.heading)) {
      SCOPED_TRACE(r.key);
      if (r.default_cell == "required") {
        // Top-level required keys: dropping one fails with missing_field naming it.
        if (r.key.find_first_of(".[") != std::string::npos) continue;
        ASSERT_TRUE(required_only.contains(r.key)) << "marked required but the minimal config lacks it";
        Json without = required_only;
        without.erase(r.key);
        auto parsed = c.parse(without.dump());
        ASSERT_FALSE(parsed);
        EXPECT_EQ(parsed.error().code, "missing_field");
        EXPECT_NE(parsed.error().context.find(r.key), std::string::npos);
        ++checked;
        continue;
      }
      if (r.key.find("[]") != std::string::npos) continue;  // list items have no default to print
      // An optional section absent from the minimal config: its defaults are checked by its
      // own tests (tests/unit/home-agent/cluster_test.cpp).
      if (r.key.starts_with("cluster.")) continue;
      if (r.default_cell == "none") {
        EXPECT_FALSE(values.contains(r.key)) << "documented as none but the parser prints " << values[r.key];
        ++checked;
        continue;
      }
      Json documented;
      try {
        documented = Json::parse(r.default_cell);
      } catch (const std::exception&) {
        ADD_FAILURE() << "default is not required, none or a JSON literal: " << r.default_cell;
        continue;
      }
      ASSERT_TRUE(values.contains(r.key)) << "the parser prints no value for it";
      EXPECT_EQ(documented, values[r.key]);
      ++checked;
    }
    EXPECT_GT(checked, 10);
  }
}

TEST(ConfigurationDoc, ListItemDefaultsHold) {
  // fa_ha.algorithm defaults to hmac-sha256 in both agents (documented in the [] rows).
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.heading);
    auto full = c.parse(c.full);
    ASSERT_TRUE(full);
    const char* list = c.heading == "## vmroam-ha" ? "foreign_agents" : "home_agents";
    EXPECT_EQ((*full)[list][0]["fa_ha"]["algorithm"], "hmac-sha256");
  }
}

}  // namespace
}  // namespace vmroam
