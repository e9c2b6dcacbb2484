// Fuzz target: the agents' configuration readers (home-agent/config, foreign-agent/config and
// the shared common/config: JSON text, the path-tracking ObjectReader, security associations,
// peers, the dataplane, store, API and cluster sections) and the SIGHUP reload merge.
//
// The first input byte chooses the reader (even: vmroam-ha, odd: vmroam-fa); the rest is the
// file's text. Beyond "no crash, no undefined behaviour" it aborts unless
//   * a rejected file yields an error with a code and a context (what `--check` prints);
//   * an accepted file prints (to_json, what `--check` prints) without throwing, and when
//     the printed form carries no redacted key it parses back to the same printed form
//     (the normalised config is a fixed point);
//   * reloading a config onto itself changes nothing and needs no restart.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "foreign-agent/config.hpp"
#include "home-agent/config.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

template <typename Config>
void check(std::string_view text, vmroam::Result<Config> (*parse_text)(std::string_view),
           vmroam::config::Json (*print)(const Config&)) {
  auto c = parse_text(text);
  if (!c) {
    require(!c.error().code.empty());
    return;
  }
  const vmroam::config::Json printed = print(*c);
  const std::string dumped = printed.dump(2, ' ', false, vmroam::config::Json::error_handler_t::replace);
  if (dumped.find("(redacted)") == std::string::npos) {
    auto again = parse_text(dumped);
    require(again.has_value());
    require(print(*again) == printed);
  }
  auto same = reload_config(*c, *c);
  require(same.needs_restart.empty());
  require(print(same.config) == printed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    check<vmroam::ha::HaConfig>(text, vmroam::ha::parse_config_text, vmroam::ha::to_json);
  } else {
    check<vmroam::fa::FaConfig>(text, vmroam::fa::parse_config_text, vmroam::fa::to_json);
  }
  return 0;
}
