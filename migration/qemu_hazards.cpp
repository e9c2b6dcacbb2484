#include "migration/qemu_hazards.hpp"

namespace vmroam::migration {

std::string to_string(const QemuVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.micro);
}

std::vector<QemuHazard> known_hazards(const std::string& accelerator, const QemuVersion* version) {
  std::vector<QemuHazard> out;
  // Before QEMU 9.0 the fast path of the migration's dirty-bitmap sync clears the bits of whole
  // aligned words without re-arming the TCG TLB's dirty trap: a page whose TLB entry was already
  // writable stays writable untracked, so the guest's later stores to it are never resent and
  // the destination runs with a stale page (upstream commit 03bfc2188f, "physmem: Fix migration
  // dirty bitmap coherency with TCG memory access", March 2024). KVM's dirty log is not
  // affected. An unknown version under TCG is reported too: the check cannot rule it out.
  const bool fixed = version && version->major >= 9;
  if (accelerator == "tcg" && !fixed) {
    out.push_back({"tcg-dirty-tlb",
                   "QEMU " + (version ? to_string(*version) : std::string("of unknown version")) +
                       " under TCG can lose guest stores made while RAM is copied (fixed in QEMU 9.0): the "
                       "guest may run corrupted at the destination; use KVM or QEMU >= 9.0"});
  }
  return out;
}

}  // namespace vmroam::migration
