#include "migration/foreign_agent_control.hpp"

namespace vmroam::migration {

RegistrationOutcome outcome_from_visitor(const Json& visitor) {
  RegistrationOutcome o;
  o.visitor = visitor;
  if (!visitor.is_object()) return o;
  if (auto s = visitor.find("state"); s != visitor.end() && s->is_string())
    o.visitor_state = s->get<std::string>();
  if (o.visitor_state == "active") o.state = RegistrationOutcome::State::active;
  if (o.visitor_state == "failed" || o.visitor_state == "aborted")
    o.state = RegistrationOutcome::State::failed;
  if (auto c = visitor.find("reply_code"); c != visitor.end() && c->is_number_integer())
    o.reply_code = c->get<int>();
  if (auto r = visitor.find("reason"); r != visitor.end() && r->is_string()) o.reason = r->get<std::string>();
  auto handover = [&](const Json& obj) {
    if (!obj.is_object()) return;
    if (auto h = obj.find("handover_ms"); h != obj.end() && h->is_number()) o.handover_ms = h->get<double>();
  };
  handover(visitor);
  if (auto reg = visitor.find("registration"); reg != visitor.end()) handover(*reg);
  return o;
}

}  // namespace vmroam::migration
