// Registration Revocation and its Acknowledgement, RFC 3543 §3.1–3.2 (see revocation.hpp).
#include "common/wire/revocation.hpp"

#include "common/wire/fixed_part.hpp"

namespace vmroam::wire {

namespace {

// RFC 3543 §3.1: Reserved | A I Reserved | Home Address | Home Domain Address | Foreign Domain
// Address | Revocation Identifier.
template <class M, class F>
void revocation_fields(M& m, F& f) {
  f(m.reserved);
  f(m.flags);
  f(m.home_address);
  f(m.home_domain_address);
  f(m.foreign_domain_address);
  f(m.revocation_id);
}

// RFC 3543 §3.2: Reserved | I Reserved | Home Address | Revocation Identifier.
template <class M, class F>
void ack_fields(M& m, F& f) {
  f(m.reserved);
  f(m.flags);
  f(m.home_address);
  f(m.revocation_id);
}

}  // namespace

void Revocation::append(Extension e) {
  append_extension(extensions, mip::kRevocationFixedSize, std::move(e));
}
std::size_t Revocation::encoded_size() const {
  return mip::kRevocationFixedSize + extensions_size(extensions);
}

void RevocationAck::append(Extension e) {
  append_extension(extensions, mip::kRevocationAckFixedSize, std::move(e));
}
std::size_t RevocationAck::encoded_size() const {
  return mip::kRevocationAckFixedSize + extensions_size(extensions);
}

Result<Revocation> parse_revocation(ByteView b) {
  return parse_fixed_message<Revocation>(b, mip::MessageType::revocation, mip::kRevocationFixedSize,
                                         revocation_fields<Revocation, FieldReader>);
}

Result<RevocationAck> parse_revocation_ack(ByteView b) {
  return parse_fixed_message<RevocationAck>(b, mip::MessageType::revocation_ack, mip::kRevocationAckFixedSize,
                                            ack_fields<RevocationAck, FieldReader>);
}

void encode(const Revocation& m, ByteWriter& w) {
  encode_fixed_message(m, mip::MessageType::revocation, revocation_fields<const Revocation, FieldWriter>, w);
}

void encode(const RevocationAck& m, ByteWriter& w) {
  encode_fixed_message(m, mip::MessageType::revocation_ack, ack_fields<const RevocationAck, FieldWriter>, w);
}

Bytes encode(const Revocation& m) { return encode_message(m); }

Bytes encode(const RevocationAck& m) { return encode_message(m); }

}  // namespace vmroam::wire
