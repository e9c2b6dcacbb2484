// What every Mobile IPv4 control message shares, whatever its fixed fields: the Type byte and
// a fixed part checked before any field is read, then the extension list (RFC 5944 §1.8–1.9,
// RFC 3543 §3). registration.cpp and revocation.cpp read and write their own fields and leave
// the rest to these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

// b starts with Type `type` and holds at least the `fixed` bytes of its fixed part.
// Errors: truncated (empty, or shorter than the fixed part), bad_type.
[[nodiscard]] Result<void> check_fixed_part(ByteView b, mip::MessageType type, std::size_t fixed);

// A message's fixed fields after the Type byte are described once, in wire order, by a
// function that hands each field to a visitor: `f(m.flags); f(m.lifetime); …`. FieldReader
// fills them from bytes, FieldWriter writes them, so parsing and encoding cannot disagree.
class FieldReader {
 public:
  explicit FieldReader(ByteReader& r) : r_(r) {}
  void operator()(std::uint8_t& v) { v = r_.u8(); }
  void operator()(std::uint16_t& v) { v = r_.u16(); }
  void operator()(std::uint32_t& v) { v = r_.u32(); }
  void operator()(std::uint64_t& v) { v = r_.u64(); }
  void operator()(Ipv4& v) { v = Ipv4(r_.u32()); }

 private:
  ByteReader& r_;
};

class FieldWriter {
 public:
  explicit FieldWriter(ByteWriter& w) : w_(w) {}
  void operator()(std::uint8_t v) { w_.u8(v); }
  void operator()(std::uint16_t v) { w_.u16(v); }
  void operator()(std::uint32_t v) { w_.u32(v); }
  void operator()(std::uint64_t v) { w_.u64(v); }
  void operator()(Ipv4 v) { w_.u32(v.value()); }

 private:
  ByteWriter& w_;
};

// A message of Type `type` whose fixed part (`fixed` bytes, Type included) `fields` describes,
// then its extensions. Errors: those of check_fixed_part and parse_extensions.
template <class M, class Fields>
[[nodiscard]] Result<M> parse_fixed_message(ByteView b, mip::MessageType type, std::size_t fixed,
                                            Fields fields) {
  VMROAM_TRY_VOID(check_fixed_part(b, type, fixed));
  ByteReader r(b);
  r.skip(1);  // Type, checked above
  M m;
  FieldReader read(r);
  fields(m, read);
  if (!r.ok() || r.offset() != fixed) std::abort();  // the description does not match `fixed`
  VMROAM_TRY(m.extensions, parse_extensions(b, fixed));
  return m;
}

// Type, the fixed fields `fields` describes, then the extensions.
template <class M, class Fields>
void encode_fixed_message(const M& m, mip::MessageType type, Fields fields, ByteWriter& w) {
  w.u8(static_cast<std::uint8_t>(type));
  FieldWriter write(w);
  fields(m, write);
  encode_extensions(m.extensions, w);
}

// The whole message in one buffer of the right size: `encode(m, writer)` must exist for M.
template <class M>
[[nodiscard]] Bytes encode_message(const M& m) {
  Bytes out;
  out.reserve(m.encoded_size());
  ByteWriter w(out);
  encode(m, w);
  return out;
}

}  // namespace vmroam::wire
