// What every Mobile IPv4 control message shares, whatever its fixed fields: the Type byte and
// a fixed part checked before any field is read, then the extension list (RFC 5944 §1.8–1.9,
// RFC 3543 §3). registration.cpp and revocation.cpp state their messages' layouts (FixedLayout)
// and leave the reading and writing to these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

// b starts with Type `type` and holds at least the `fixed` bytes of its fixed part.
// Errors: truncated (empty, or shorter than the fixed part), bad_type.
[[nodiscard]] Result<void> check_fixed_part(ByteView b, mip::MessageType type, std::size_t fixed);

// Each fixed field by its type: FieldReader fills it from bytes, FieldWriter writes it.
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

// One message's layout, stated once as data: its Type, the size of its fixed part (`kFixed`
// bytes, Type included) and its fixed fields after the Type byte as members of M, in wire
// order. Parsing, encoding and the extension offsets all read this one statement, so they
// cannot disagree; registration.cpp and revocation.cpp each only state their layouts.
template <class M, mip::MessageType kType, std::size_t kFixed, auto... kFields>
struct FixedLayout {
  // Errors: those of check_fixed_part and parse_extensions.
  [[nodiscard]] static Result<M> parse(ByteView b) {
    VMROAM_TRY_VOID(check_fixed_part(b, kType, kFixed));
    ByteReader r(b);
    r.skip(1);  // Type, checked above
    M m;
    FieldReader read(r);
    (read(m.*kFields), ...);
    if (!r.ok() || r.offset() != kFixed) std::abort();  // the layout does not match kFixed
    VMROAM_TRY(m.extensions, parse_extensions(b, kFixed));
    return m;
  }
  // Type, the fixed fields, then the extensions.
  static void encode(const M& m, ByteWriter& w) {
    w.u8(static_cast<std::uint8_t>(kType));
    FieldWriter write(w);
    (write(m.*kFields), ...);
    encode_extensions(m.extensions, w);
  }
  static void append(M& m, Extension e) { append_extension(m.extensions, kFixed, std::move(e)); }
  [[nodiscard]] static std::size_t encoded_size(const M& m) { return kFixed + extensions_size(m.extensions); }
};

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
