// vmroamctl's output: API responses → what people read (aligned tables like `virsh list`,
// "key: value" blocks like `virsh dominfo`), and Prometheus text → JSON for --json.
//
// Pure: JSON and text in, text out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/ctl/command_line.hpp"

namespace vmroam::ctl {

// A column: its header and the dotted path of the value in each list item.
struct Column {
  std::string_view header;
  std::string_view path;
};

// Aligned columns, two spaces apart, a header line first (also for an empty list).
[[nodiscard]] std::string render_table(const Json& items, std::span<const Column> columns);
// One "key: value" line per leaf; nested objects are flattened to "binding.care_of_address".
[[nodiscard]] std::string render_fields(const Json& object);
// One cell: strings as is, numbers, yes/no, lists joined with ",", null/empty as "-".
[[nodiscard]] std::string cell_text(const Json& value);

// `status`: the health as fields; a cluster's members (body.cluster.members) as a table.
[[nodiscard]] std::string render_status(const Json& body);

// The human rendering of a successful response for `view` (JSON body or, for text, the text).
[[nodiscard]] std::string render(View view, const Json& body, std::string_view text);

// Prometheus text exposition → {"samples":[{"name","labels":{…},"value"}]} (comments dropped).
// Malformed lines are skipped rather than failing: this is a display aid, not a validator.
[[nodiscard]] Json metrics_to_json(std::string_view text);

// After `move activate wait_ms=N`: empty if the visitor is active, else why not (for stderr).
[[nodiscard]] std::string move_failure(const Json& visitor);

}  // namespace vmroam::ctl
