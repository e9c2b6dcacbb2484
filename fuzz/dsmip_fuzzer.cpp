// Fuzz target: the RFC 5454 dual-stack extension (type 152, common/wire/dsmip). The input is
// an extension list (as after a message's fixed part); every 152 extension in it goes through
// the sub-type reader, the length check and the typed views.
//
// Beyond "no crash, no over-read" it aborts unless
//   * check_dsmip() and the views agree: a prefix request or reply passes the check exactly
//     when its view reads it;
//   * a view that reads an extension rebuilds exactly its bytes (to_extension(from(e)) == e),
//     which the authenticator over the re-encoded message depends on;
//   * a prefix length the view returns is at most 128;
//   * the gatherers fail exactly when some known sub-type is malformed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/core/bytes.hpp"
#include "common/wire/dsmip.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

template <typename View>
bool check_view(const vmroam::wire::Extension& e) {
  auto v = View::from(e);
  if (!v) return false;
  require(v->prefix_length <= 128);
  require(v->to_extension().raw == e.raw);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = vmroam::wire;
  namespace dsmip = vmroam::mip::dsmip;
  auto list = wire::split_extensions(vmroam::ByteView(data, size), 0);
  if (!list) return 0;
  bool all_good = true;
  for (const auto& e : *list) {
    if (e.type != vmroam::mip::ext::dsmipv4) continue;
    const bool checked = wire::check_dsmip(e).has_value();
    auto sub = wire::dsmip_sub_type(e);
    if (!sub) {
      require(!checked);
      all_good = false;
      continue;
    }
    (void)wire::dsmip_sub_type_name(*sub);
    if (*sub == dsmip::prefix_request) {
      require(check_view<wire::Ipv6PrefixRequest>(e) == checked);
    } else if (*sub == dsmip::prefix_reply) {
      require(check_view<wire::Ipv6PrefixReply>(e) == checked);
    } else {
      require(checked);  // skippable: unknown sub-types pass
    }
    all_good = all_good && checked;
  }
  const bool gathered =
      wire::ipv6_prefix_requests(*list).has_value() && wire::ipv6_prefix_replies(*list).has_value();
  require(gathered == all_good);
  return 0;
}
