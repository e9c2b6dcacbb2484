#include "migration/report.hpp"

#include <cstdio>
#include <fstream>
#include <vector>

namespace vmroam::migration {

namespace {

std::string ms_or_na(const std::optional<double>& v) {
  if (!v) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", *v);
  return buf;
}

// printf into a std::string; long error texts are not cut.
template <typename... T>
std::string format(const char* fmt, T... args) {
  std::vector<char> buf(256);
  const int n = std::snprintf(buf.data(), buf.size(), fmt, args...);
  if (n < 0) return {};
  if (static_cast<std::size_t>(n) >= buf.size()) {
    buf.resize(static_cast<std::size_t>(n) + 1);
    std::snprintf(buf.data(), buf.size(), fmt, args...);
  }
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

// --copy-storage: one line for the NBD transport, one per disk.
std::string render_storage(const Json& st) {
  std::string out =
      format("  storage: NBD %s, %s\n", st.value("nbd", "?").c_str(), st.value("nbd_tls", "?").c_str());
  for (const auto& d : st.value("disks", Json::array())) {
    const auto ready = d["ready_ms"].is_number() ? format("%.0f ms", d["ready_ms"].get<double>()) : "n/a";
    const auto dirty = d["dirty_bytes_at_switchover"].is_number()
                           ? std::to_string(d["dirty_bytes_at_switchover"].get<std::uint64_t>())
                           : "n/a";
    out += format(
        "  disk %s: %s, %llu of %llu bytes allocated, %llu mirrored, ready after %s, %s dirty bytes at the "
        "switchover\n",
        d.value("disk", "?").c_str(), d.value("outcome", "?").c_str(),
        static_cast<unsigned long long>(d.value("allocated_bytes", std::uint64_t{0})),
        static_cast<unsigned long long>(d.value("virtual_size", std::uint64_t{0})),
        static_cast<unsigned long long>(d.value("mirrored_bytes", std::uint64_t{0})), ready.c_str(),
        dirty.c_str());
  }
  return out;
}

}  // namespace

std::string render_summary(const Summary& s, bool with_ha) {
  const std::string downtime = s.qemu_downtime_ms ? std::to_string(*s.qemu_downtime_ms) + " ms" : "n/a";
  std::string out =
      format("vmroam-migrate: %s%s%s\n", s.outcome.c_str(), s.error.empty() ? "" : ": ", s.error.c_str());
  out += format("  accelerator %s, tuning %s, handover %s, fa %s\n", s.accelerator.c_str(), s.tuning.c_str(),
                s.handover_mode.c_str(), s.fa.c_str());
  for (const auto& w : s.warnings) out += "  warning (" + w.id + "): " + w.text + "\n";
  out += format("  migration stream: %s\n", s.migration_tls.c_str());
  out += format("  total %.0f ms (QEMU %lld ms), %llu bytes, %lld passes\n", s.total_time_ms,
                static_cast<long long>(s.qemu_total_time_ms),
                static_cast<unsigned long long>(s.bytes_transferred), static_cast<long long>(s.passes));
  if (s.bandwidth) out += "  bandwidth " + s.bandwidth->render() + "\n";
  out += "  downtime-limit " + s.downtime.render() + "\n";
  out += format("  real pause (STOP→RESUME) %s, QEMU downtime %s, continue after pre-switchover %s\n",
                ms_or_na(s.real_pause_ms).c_str(), downtime.c_str(),
                ms_or_na(s.continue_after_pre_switchover_ms).c_str());
  out +=
      format("  registration %s (attempts %d, handover %s), previous FA depart %s\n", s.registration.c_str(),
             s.activate_attempts, ms_or_na(s.handover_ms).c_str(), s.depart.c_str());
  if (s.storage.is_object()) out += render_storage(s.storage);
  if (with_ha) {
    const std::string recovered = s.recovered_packets ? std::to_string(*s.recovered_packets) : "n/a";
    out += format("  home agent %s: hold %s, recovered %s packets\n", s.ha.c_str(), s.ha_hold.c_str(),
                  recovered.c_str());
  }
  return out;
}

bool write_summary_json(const Summary& s, const std::string& path) {
  std::ofstream out(path);
  out << s.to_json().dump(2) << "\n";
  if (out) return true;
  std::fprintf(stderr, "vmroam-migrate: cannot write %s\n", path.c_str());
  return false;
}

int exit_code(const Summary& s) {
  if (s.ok()) return 0;
  if (s.outcome == "source_lost" || s.outcome == "vm_lost") return 3;  // the guest runs nowhere
  if (s.outcome == "registration_failed") return 2;
  return s.switched ? 2 : 1;
}

}  // namespace vmroam::migration
