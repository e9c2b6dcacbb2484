// Registration Request/Reply parsing and encoding, RFC 5944 §3.3–3.4 (see registration.hpp).
#include "common/wire/registration.hpp"

#include "common/wire/fixed_part.hpp"

namespace vmroam::wire {

namespace {

using Request = RegistrationRequest;
using Reply = RegistrationReply;

// RFC 5944 §3.3: S B D M G r T x | Lifetime | Home Address | Home Agent | Care-of | Identification.
using RequestLayout = FixedLayout<Request, mip::MessageType::registration_request, mip::kRequestFixedSize,
                                  &Request::flags, &Request::lifetime, &Request::home_address,
                                  &Request::home_agent, &Request::care_of_address, &Request::identification>;

// RFC 5944 §3.4: Code | Lifetime | Home Address | Home Agent | Identification.
using ReplyLayout =
    FixedLayout<Reply, mip::MessageType::registration_reply, mip::kReplyFixedSize, &Reply::code,
                &Reply::lifetime, &Reply::home_address, &Reply::home_agent, &Reply::identification>;

}  // namespace

void Request::append(Extension e) { RequestLayout::append(*this, std::move(e)); }
std::size_t Request::encoded_size() const { return RequestLayout::encoded_size(*this); }
Result<Request> parse_registration_request(ByteView b) { return RequestLayout::parse(b); }
void encode(const Request& m, ByteWriter& w) { RequestLayout::encode(m, w); }
Bytes encode(const Request& m) { return encode_message(m); }

void Reply::append(Extension e) { ReplyLayout::append(*this, std::move(e)); }
std::size_t Reply::encoded_size() const { return ReplyLayout::encoded_size(*this); }
Result<Reply> parse_registration_reply(ByteView b) { return ReplyLayout::parse(b); }
void encode(const Reply& m, ByteWriter& w) { ReplyLayout::encode(m, w); }
Bytes encode(const Reply& m) { return encode_message(m); }

}  // namespace vmroam::wire
