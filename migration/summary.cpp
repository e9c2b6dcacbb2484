#include "migration/summary.hpp"

namespace vmroam::migration {

Json Summary::to_json() const {
  Json j = fields_json();
  if (!storage.is_null()) j["storage"] = storage;
  return j;
}

Json Summary::fields_json() const {
  auto opt = [](const auto& v) -> Json { return v ? Json(*v) : Json(); };
  Json tl = Json::array();
  for (const auto& e : timeline) tl.push_back({{"t_ms", e.t_ms}, {"side", e.side}, {"what", e.what}});
  Json warn = Json::array();
  for (const auto& w : warnings) warn.push_back({{"id", w.id}, {"text", w.text}});
  return Json{{"outcome", outcome},
              {"error", error},
              {"accelerator", accelerator},
              {"qemu_version", qemu_version.empty() ? Json() : Json(qemu_version)},
              {"warnings", warn},
              {"guest_ram_bytes", guest_ram_bytes ? Json(*guest_ram_bytes) : Json()},
              {"tuning", tuning},
              {"fa", fa},
              {"migration_tls", migration_tls},
              {"switched", switched},
              {"total_time_ms", total_time_ms},
              {"qemu_total_time_ms", qemu_total_time_ms},
              {"qemu_downtime_ms", opt(qemu_downtime_ms)},
              {"real_pause_ms", opt(real_pause_ms)},
              {"continue_after_pre_switchover_ms", opt(continue_after_pre_switchover_ms)},
              {"bytes_transferred", bytes_transferred},
              {"downtime_bytes", opt(downtime_bytes)},
              {"bandwidth", bandwidth ? bandwidth->to_json() : Json()},
              {"passes", passes},
              {"handover_ms", opt(handover_ms)},
              {"activate_to_outcome_ms", opt(activate_to_outcome_ms)},
              {"registration", registration},
              {"depart", depart},
              {"depart_ms", opt(depart_ms)},
              {"handover_mode", handover_mode},
              {"downtime_limit_ms", opt(downtime_limit_ms)},
              {"downtime", downtime.to_json()},
              {"activate_before_stop_ms", opt(activate_before_stop_ms)},
              {"reply_code", reply_code},
              {"activate_attempts", activate_attempts},
              {"ha", ha},
              {"ha_hold", ha_hold},
              {"recovered_packets", opt(recovered_packets)},
              {"timeline", tl}};
}

}  // namespace vmroam::migration
