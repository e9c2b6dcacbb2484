#include "migration/qemu_hazards.hpp"

namespace vmroam::migration {

std::string to_string(const QemuVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.micro);
}

namespace {

std::optional<std::uint64_t> unsigned_field(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

// Before QEMU 9.0 the fast path of the migration's dirty-bitmap sync clears the bits of whole
// aligned words without re-arming the TCG TLB's dirty trap: a page whose TLB entry was already
// writable stays writable untracked, so the guest's later stores to it are never resent and
// the destination runs with a stale page (upstream commit 03bfc2188f, "physmem: Fix migration
// dirty bitmap coherency with TCG memory access", March 2024). KVM's dirty log is not
// affected. QEMU takes that path only for a RAM block whose length is a multiple of a bitmap
// word's pages; any other block is synced page by page, and that path re-arms the trap. So a
// boot RAM that is not such a multiple, with no hot-plugged DIMMs, is safe (measured in
// docs/migration.md). Unknown version or RAM: reported, the check cannot rule it out.
bool tcg_dirty_tlb_exposed(const QemuVersion* version, const GuestRam* ram) {
  if (version && version->major >= 9) return false;
  if (!ram) return true;
  return ram->base_bytes % kDirtyBitmapWordBytes == 0 || ram->plugged_bytes > 0;
}

}  // namespace

std::optional<QemuVersion> parse_qemu_version(const nlohmann::json& reply) {
  if (!reply.is_object()) return std::nullopt;
  auto q = reply.find("qemu");
  if (q == reply.end() || !q->is_object()) return std::nullopt;
  auto major = unsigned_field(*q, "major"), minor = unsigned_field(*q, "minor"),
       micro = unsigned_field(*q, "micro");
  if (!major || !minor || !micro || *major > 9999 || *minor > 9999 || *micro > 9999) return std::nullopt;
  return QemuVersion{static_cast<int>(*major), static_cast<int>(*minor), static_cast<int>(*micro)};
}

std::optional<GuestRam> parse_guest_ram(const nlohmann::json& reply) {
  if (!reply.is_object()) return std::nullopt;
  auto base = unsigned_field(reply, "base-memory");
  if (!base) return std::nullopt;
  GuestRam ram{*base, 0};
  if (reply.contains("plugged-memory")) {
    auto plugged = unsigned_field(reply, "plugged-memory");
    if (!plugged) return std::nullopt;
    ram.plugged_bytes = *plugged;
  }
  return ram;
}

std::vector<QemuHazard> known_hazards(const std::string& accelerator, const QemuVersion* version,
                                      const GuestRam* ram) {
  std::vector<QemuHazard> out;
  if (accelerator == "tcg" && tcg_dirty_tlb_exposed(version, ram)) {
    const std::string which =
        ram ? (ram->plugged_bytes > 0 ? "its hot-plugged memory" : "its RAM size, a multiple of 256 KiB,")
            : "a RAM size not known here";
    out.push_back({"tcg-dirty-tlb",
                   "QEMU " + (version ? to_string(*version) : std::string("of unknown version")) +
                       " under TCG can lose guest stores made while RAM is copied, and " + which +
                       " takes the defective path (fixed in QEMU 9.0): the guest may run corrupted at the "
                       "destination; use KVM or QEMU >= 9.0, or boot the guest with a RAM size that is not a "
                       "multiple of 256 KiB (e.g. -m 524296K) and no hot-plugged DIMMs"});
  }
  return out;
}

}  // namespace vmroam::migration
