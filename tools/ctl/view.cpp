// vmroamctl's output rendering (see view.hpp).
#include "tools/ctl/view.hpp"

#include <algorithm>
#include <charconv>

namespace vmroam::ctl {

namespace {

const Json* at_path(const Json& item, std::string_view path) {
  const Json* cur = &item;
  while (!path.empty()) {
    const auto dot = path.find('.');
    const std::string key(path.substr(0, dot));
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  return cur;
}

void flatten(const Json& j, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    return;
  }
  if (j.is_array() && !j.empty() &&
      std::any_of(j.begin(), j.end(), [](const Json& e) { return e.is_structured(); })) {
    for (std::size_t i = 0; i < j.size(); ++i) flatten(j[i], prefix + "[" + std::to_string(i) + "]", out);
    return;
  }
  out.emplace_back(prefix, cell_text(j));
}

constexpr Column kVmColumns[] = {{"ID", "id"},
                                 {"HOME_ADDRESS", "home_address"},
                                 {"HOME_ADDRESSES_V6", "home_addresses_v6"},
                                 {"MAC", "mac"},
                                 {"AWAY", "away"},
                                 {"ALLOWED_FAS", "allowed_fas"},
                                 {"SPI", "spi"}};
constexpr Column kBindingColumns[] = {{"HOME_ADDRESS", "home_address"},
                                      {"VM", "vm"},
                                      {"CARE_OF", "care_of_address"},
                                      {"FOREIGN_AGENT", "foreign_agent"},
                                      {"ENCAP", "encapsulation"},
                                      {"REMAINING_S", "remaining_s"},
                                      {"FLAGS", "flags"},
                                      {"MOVE_SEQ", "move_seq"}};
constexpr Column kMemberColumns[] = {{"NODE", "node"}, {"HOME_PREFIX", "home_prefix"}, {"ROLE", "role"},
                                     {"LAG", "lag"},   {"LEASE_TTL_S", "lease_ttl_s"}, {"API", "api"}};
constexpr Column kVisitorColumns[] = {
    {"ID", "id"},       {"HOME_ADDRESS", "home_address"}, {"MAC", "mac"},
    {"STATE", "state"}, {"HOME_AGENT", "home_agent"},     {"ENCAP", "encapsulation"}};

}  // namespace

std::string cell_text(const Json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    if (v.empty()) return "-";
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + cell_text(e);
    return s;
  }
  if (v.is_object() && v.empty()) return "-";
  return v.dump();
}

std::string render_table(const Json& items, std::span<const Column> columns) {
  std::vector<std::vector<std::string>> rows;
  rows.emplace_back();
  for (const auto& c : columns) rows.back().emplace_back(c.header);
  if (items.is_array()) {
    for (const auto& item : items) {
      rows.emplace_back();
      for (const auto& c : columns) {
        const Json* v = at_path(item, c.path);
        rows.back().push_back(v ? cell_text(*v) : "-");
      }
    }
  }
  std::vector<std::size_t> width(columns.size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string render_fields(const Json& object) {
  std::vector<std::pair<std::string, std::string>> lines;
  flatten(object, "", lines);
  std::size_t width = 0;
  for (const auto& [k, v] : lines) width = std::max(width, k.size());
  std::string out;
  for (const auto& [k, v] : lines) out += k + ":" + std::string(width - k.size() + 2, ' ') + v + "\n";
  return out;
}

std::string render_status(const Json& body) {
  const Json* members = at_path(body, "cluster.members");
  if (!members || !members->is_array()) return render_fields(body);
  Json rest = body;
  rest["cluster"].erase("members");
  return render_fields(rest) + "\n" + render_table(*members, kMemberColumns);
}

std::string render(View view, const Json& body, std::string_view text) {
  switch (view) {
    case View::fields:
      return render_fields(body);
    case View::vm_table:
      return render_table(body.value("vms", Json::array()), kVmColumns);
    case View::binding_table:
      return render_table(body.value("bindings", Json::array()), kBindingColumns);
    case View::visitor_table:
      return render_table(body.value("visitors", Json::array()), kVisitorColumns);
    case View::text:
      return std::string(text);
    case View::status:
      return render_status(body);
  }
  std::abort();
}

Json metrics_to_json(std::string_view text) {
  Json samples = Json::array();
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    // name{a="x",b="y"} value
    const auto brace = line.find('{');
    const auto space = line.rfind(' ');
    if (space == std::string_view::npos) continue;
    Json sample{{"name", std::string(line.substr(0, std::min(brace, space)))}, {"labels", Json::object()}};
    if (brace != std::string_view::npos && brace < space) {
      const auto close = line.rfind('}', space);
      if (close == std::string_view::npos || close < brace) continue;
      std::string_view labels = line.substr(brace + 1, close - brace - 1);
      while (!labels.empty()) {
        const auto eq = labels.find("=\"");
        if (eq == std::string_view::npos) break;
        std::string value;
        std::size_t i = eq + 2;
        for (; i < labels.size() && labels[i] != '"'; ++i) {
          if (labels[i] == '\\' && i + 1 < labels.size()) {
            ++i;
            value += labels[i] == 'n' ? '\n' : labels[i];
          } else {
            value += labels[i];
          }
        }
        sample["labels"][std::string(labels.substr(0, eq))] = value;
        labels = i + 1 < labels.size() ? labels.substr(i + 1) : std::string_view{};
        if (labels.starts_with(",")) labels.remove_prefix(1);
      }
    }
    const std::string value(line.substr(space + 1));
    if (value == "+Inf") {
      sample["value"] = "+Inf";
    } else {
      double d = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
      if (ec != std::errc() || p != value.data() + value.size()) continue;
      sample["value"] = d;
    }
    samples.push_back(std::move(sample));
  }
  return Json{{"samples", samples}};
}

std::string move_failure(const Json& visitor) {
  const std::string state = visitor.is_object() ? visitor.value("state", "") : "";
  if (state == "active") return {};
  if (state != "failed")
    return "registration not complete after waiting (state " + cell_text(Json(state)) + ")";
  std::string s = "registration failed";
  if (visitor.contains("reply_code")) s += ": reply_code " + cell_text(visitor["reply_code"]);
  if (visitor.contains("reason")) s += " (" + cell_text(visitor["reason"]) + ")";
  return s;
}

}  // namespace vmroam::ctl
