// The checks every control message's fixed part gets first (see fixed_part.hpp).
#include "common/wire/fixed_part.hpp"

#include <string>

namespace vmroam::wire {

Result<void> check_fixed_part(ByteView b, mip::MessageType type, std::size_t fixed) {
  if (b.empty()) return fail("truncated", "empty message");
  if (b[0] != static_cast<std::uint8_t>(type))
    return fail("bad_type",
                "type " + std::to_string(b[0]) + ", want " + std::to_string(static_cast<int>(type)));
  if (b.size() < fixed)
    return fail("truncated", std::to_string(b.size()) + " bytes, fixed part needs " + std::to_string(fixed));
  return ok();
}

}  // namespace vmroam::wire
