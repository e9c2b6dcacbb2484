// Golden config tests (OpenBGPD's .in/.ok habit): every tests/config/<agent>/*.json is parsed
// and its normalised form — or its error — must equal the matching .ok file byte for byte.
// Regenerate after an intended change with VMROAM_REGEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "common/config/json_reader.hpp"
#include "foreign-agent/config.hpp"
#include "home-agent/config.hpp"

namespace vmroam {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename Parse, typename Dump>
void run_dir(const std::string& sub, Parse parse, Dump dump) {
  fs::path dir = fs::path(VMROAM_CONFIG_TEST_DIR) / sub;
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++cases;
    auto parsed = parse(slurp(entry.path()));
    std::string got = parsed ? dump(*parsed).dump(2) + "\n" : "error: " + parsed.error().to_string() + "\n";
    fs::path ok = entry.path();
    ok.replace_extension(".ok");
    if (std::getenv("VMROAM_REGEN")) {
      std::ofstream(ok, std::ios::binary) << got;
      continue;
    }
    ASSERT_TRUE(fs::exists(ok)) << ok << " missing";
    EXPECT_EQ(got, slurp(ok)) << entry.path();
  }
  EXPECT_GT(cases, 3) << "no golden cases found in " << dir;
}

TEST(ConfigGolden, HomeAgent) {
  run_dir(
      "ha", [](const std::string& t) { return ha::parse_config_text(t); },
      [](const ha::HaConfig& c) { return ha::to_json(c); });
}

TEST(ConfigGolden, ForeignAgent) {
  run_dir(
      "fa", [](const std::string& t) { return fa::parse_config_text(t); },
      [](const fa::FaConfig& c) { return fa::to_json(c); });
}

TEST(ConfigGolden, NormalisedFormRoundTrips) {
  // --check output fed back in parses to the same normalised form (keys excepted: redacted).
  auto c = ha::parse_config_text(slurp(fs::path(VMROAM_SOURCE_ROOT) / "home-agent/example.json"));
  ASSERT_TRUE(c) << c.error().to_string();
  auto j = ha::to_json(*c);
  for (auto& f : j["foreign_agents"]) f["fa_ha"]["key"] = std::string(64, 'a');
  auto again = ha::parse_config(j);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(ha::to_json(*again), ha::to_json(*c));
}

}  // namespace
}  // namespace vmroam
