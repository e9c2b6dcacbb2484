// Registration Revocation and its Acknowledgement, RFC 3543 §3.1–3.2 (see revocation.hpp).
#include "common/wire/revocation.hpp"

#include "common/wire/fixed_part.hpp"

namespace vmroam::wire {

namespace {

using Ack = RevocationAck;

// RFC 3543 §3.1: Reserved | A I Reserved | Home Address | Home Domain Address | Foreign Domain
// Address | Revocation Identifier.
using RevocationLayout =
    FixedLayout<Revocation, mip::MessageType::revocation, mip::kRevocationFixedSize, &Revocation::reserved,
                &Revocation::flags, &Revocation::home_address, &Revocation::home_domain_address,
                &Revocation::foreign_domain_address, &Revocation::revocation_id>;

// RFC 3543 §3.2: Reserved | I Reserved | Home Address | Revocation Identifier.
using AckLayout = FixedLayout<Ack, mip::MessageType::revocation_ack, mip::kRevocationAckFixedSize,
                              &Ack::reserved, &Ack::flags, &Ack::home_address, &Ack::revocation_id>;

}  // namespace

void Revocation::append(Extension e) { RevocationLayout::append(*this, std::move(e)); }
std::size_t Revocation::encoded_size() const { return RevocationLayout::encoded_size(*this); }
Result<Revocation> parse_revocation(ByteView b) { return RevocationLayout::parse(b); }
void encode(const Revocation& m, ByteWriter& w) { RevocationLayout::encode(m, w); }
Bytes encode(const Revocation& m) { return encode_message(m); }

void Ack::append(Extension e) { AckLayout::append(*this, std::move(e)); }
std::size_t Ack::encoded_size() const { return AckLayout::encoded_size(*this); }
Result<Ack> parse_revocation_ack(ByteView b) { return AckLayout::parse(b); }
void encode(const Ack& m, ByteWriter& w) { AckLayout::encode(m, w); }
Bytes encode(const Ack& m) { return encode_message(m); }

}  // namespace vmroam::wire
