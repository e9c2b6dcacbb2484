// How vmroam-migrate tells what happened: the text summary on stderr, the JSON file, and the
// exit code (docs/migration.md "Exit codes").
#pragma once

#include <string>

#include "migration/summary.hpp"

namespace vmroam::migration {

// The multi-line text summary (ends with a newline). `with_ha`: add the home agent's line.
[[nodiscard]] std::string render_summary(const Summary& s, bool with_ha);

// Writes the summary as JSON to `path`; false (explained on stderr) if it could not.
bool write_summary_json(const Summary& s, const std::string& path);

// 0 completed; 1 failed or cancelled before the switch (the VM runs at the source, the
// binding is untouched); 2 the VM moved but its registration is not active.
[[nodiscard]] int exit_code(const Summary& s);

}  // namespace vmroam::migration
