// Known QEMU migration defects (migration/qemu_hazards.hpp): which accelerator and version
// carry the TCG dirty-tracking defect.
#include "migration/qemu_hazards.hpp"

#include <gtest/gtest.h>

namespace vmroam::migration {
namespace {

TEST(QemuHazards, TcgDirtyTlbByAcceleratorAndVersion) {
  struct Case {
    const char* description;
    const char* accelerator;
    std::optional<QemuVersion> version;
    bool hazard;
    const char* text_contains;
  };
  const std::vector<Case> cases = {
      {"Debian 12's QEMU under TCG", "tcg", QemuVersion{7, 2, 22}, true, "QEMU 7.2.22 under TCG"},
      {"8.2 under TCG: before the fix", "tcg", QemuVersion{8, 2, 9}, true, "fixed in QEMU 9.0"},
      {"9.0 under TCG: fixed", "tcg", QemuVersion{9, 0, 0}, false, ""},
      {"10.1 under TCG: fixed", "tcg", QemuVersion{10, 1, 0}, false, ""},
      {"TCG, version unknown: cannot be ruled out", "tcg", std::nullopt, true, "of unknown version"},
      {"KVM 7.2: the kernel's dirty log, not affected", "kvm", QemuVersion{7, 2, 22}, false, ""},
      {"accelerator unknown: nothing claimed", "unknown", QemuVersion{7, 2, 22}, false, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto h = known_hazards(c.accelerator, c.version ? &*c.version : nullptr);
    ASSERT_EQ(h.size(), c.hazard ? 1u : 0u);
    if (!c.hazard) continue;
    EXPECT_EQ(h[0].id, "tcg-dirty-tlb");
    EXPECT_NE(h[0].text.find(c.text_contains), std::string::npos) << h[0].text;
  }
}

TEST(QemuHazards, VersionText) { EXPECT_EQ(to_string(QemuVersion{7, 2, 22}), "7.2.22"); }

}  // namespace
}  // namespace vmroam::migration
