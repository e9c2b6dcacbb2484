// Known QEMU migration defects (migration/qemu_hazards.hpp): which accelerator, version and
// guest RAM layout carry the TCG dirty-tracking defect, and the readers of the two QMP
// replies that decide it.
#include "migration/qemu_hazards.hpp"

#include <gtest/gtest.h>

namespace vmroam::migration {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

TEST(QemuHazards, TcgDirtyTlbByAcceleratorVersionAndRam) {
  struct Case {
    const char* description;
    const char* accelerator;
    std::optional<QemuVersion> version;
    std::optional<GuestRam> ram;
    bool hazard;
    const char* text_contains;
  };
  const QemuVersion debian{7, 2, 22};
  const std::vector<Case> cases = {
      {"Debian 12's QEMU under TCG, 512 MiB", "tcg", debian, GuestRam{512 * kMiB, 0}, true,
       "QEMU 7.2.22 under TCG"},
      {"the warning names the way out", "tcg", debian, GuestRam{512 * kMiB, 0}, true, "-m 524296K"},
      {"a size of whole 256 KiB words takes the fast path", "tcg", debian, GuestRam{256 * 1024 * 3, 0}, true,
       "a multiple of 256 KiB"},
      {"512 MiB + 8 KiB: synced page by page, safe", "tcg", debian, GuestRam{512 * kMiB + 8192, 0}, false,
       ""},
      {"128 MiB + 128 KiB: not a whole word either", "tcg", debian, GuestRam{128 * kMiB + 131072, 0}, false,
       ""},
      {"odd boot RAM but a hot-plugged DIMM", "tcg", debian, GuestRam{512 * kMiB + 8192, 256 * kMiB}, true,
       "hot-plugged memory"},
      {"RAM size unknown: cannot be ruled out", "tcg", debian, std::nullopt, true, "not known"},
      {"8.2 under TCG: before the fix", "tcg", QemuVersion{8, 2, 9}, GuestRam{512 * kMiB, 0}, true,
       "fixed in QEMU 9.0"},
      {"9.0 under TCG: fixed", "tcg", QemuVersion{9, 0, 0}, GuestRam{512 * kMiB, 0}, false, ""},
      {"10.1 under TCG: fixed", "tcg", QemuVersion{10, 1, 0}, std::nullopt, false, ""},
      {"TCG, version unknown: cannot be ruled out", "tcg", std::nullopt, GuestRam{512 * kMiB, 0}, true,
       "of unknown version"},
      {"TCG, version unknown, odd RAM: the sync path decides", "tcg", std::nullopt,
       GuestRam{512 * kMiB + 8192, 0}, false, ""},
      {"KVM 7.2: the kernel's dirty log, not affected", "kvm", debian, GuestRam{512 * kMiB, 0}, false, ""},
      {"accelerator unknown: nothing claimed", "unknown", debian, GuestRam{512 * kMiB, 0}, false, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto h = known_hazards(c.accelerator, c.version ? &*c.version : nullptr, c.ram ? &*c.ram : nullptr);
    ASSERT_EQ(h.size(), c.hazard ? 1u : 0u);
    if (!c.hazard) continue;
    EXPECT_EQ(h[0].id, "tcg-dirty-tlb");
    EXPECT_NE(h[0].text.find(c.text_contains), std::string::npos) << h[0].text;
  }
}

TEST(QemuHazards, VersionText) { EXPECT_EQ(to_string(QemuVersion{7, 2, 22}), "7.2.22"); }

TEST(QemuHazards, ParseQueryVersion) {
  using nlohmann::json;
  struct Case {
    const char* description;
    const char* reply;
    std::optional<std::string> version;
  };
  const std::vector<Case> cases = {
      {"QEMU 7.2's reply",
       R"({"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7"})", "7.2.22"},
      {"no qemu object", R"({"package": ""})", std::nullopt},
      {"qemu not an object", R"({"qemu": "7.2.22"})", std::nullopt},
      {"a part missing", R"({"qemu": {"major": 7, "minor": 2}})", std::nullopt},
      {"a part a string", R"({"qemu": {"major": "7", "minor": 2, "micro": 0}})", std::nullopt},
      {"a part negative", R"({"qemu": {"major": 7, "minor": -2, "micro": 0}})", std::nullopt},
      {"a part absurd", R"({"qemu": {"major": 70000, "minor": 2, "micro": 0}})", std::nullopt},
      {"not an object", R"([7, 2, 22])", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto v = parse_qemu_version(json::parse(c.reply));
    ASSERT_EQ(v.has_value(), c.version.has_value());
    if (v) {
      EXPECT_EQ(to_string(*v), *c.version);
    }
  }
}

TEST(QemuHazards, ParseQueryMemorySizeSummary) {
  using nlohmann::json;
  struct Case {
    const char* description;
    const char* reply;
    std::optional<GuestRam> ram;
  };
  const std::vector<Case> cases = {
      {"no DIMM slots: base only", R"({"base-memory": 536879104})", GuestRam{536879104, 0}},
      {"with plugged memory", R"({"base-memory": 536870912, "plugged-memory": 268435456})",
       GuestRam{536870912, 268435456}},
      {"base missing", R"({"plugged-memory": 0})", std::nullopt},
      {"base a string", R"({"base-memory": "536870912"})", std::nullopt},
      {"base negative", R"({"base-memory": -1})", std::nullopt},
      {"base fractional", R"({"base-memory": 5.5})", std::nullopt},
      {"plugged of another type", R"({"base-memory": 536870912, "plugged-memory": null})", std::nullopt},
      {"not an object", R"(null)", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto r = parse_guest_ram(json::parse(c.reply));
    ASSERT_EQ(r.has_value(), c.ram.has_value());
    if (!r) continue;
    EXPECT_EQ(r->base_bytes, c.ram->base_bytes);
    EXPECT_EQ(r->plugged_bytes, c.ram->plugged_bytes);
  }
}

}  // namespace
}  // namespace vmroam::migration
