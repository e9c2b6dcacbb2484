// Registration Request/Reply parsing and encoding, RFC 5944 §3.3–3.4 (see registration.hpp).
#include "common/wire/registration.hpp"

#include "common/wire/fixed_part.hpp"

namespace vmroam::wire {

namespace {

// RFC 5944 §3.3: S B D M G r T x | Lifetime | Home Address | Home Agent | Care-of | Identification.
template <class M, class F>
void request_fields(M& m, F& f) {
  f(m.flags);
  f(m.lifetime);
  f(m.home_address);
  f(m.home_agent);
  f(m.care_of_address);
  f(m.identification);
}

// RFC 5944 §3.4: Code | Lifetime | Home Address | Home Agent | Identification.
template <class M, class F>
void reply_fields(M& m, F& f) {
  f(m.code);
  f(m.lifetime);
  f(m.home_address);
  f(m.home_agent);
  f(m.identification);
}

}  // namespace

void RegistrationRequest::append(Extension e) {
  append_extension(extensions, mip::kRequestFixedSize, std::move(e));
}
std::size_t RegistrationRequest::encoded_size() const {
  return mip::kRequestFixedSize + extensions_size(extensions);
}

void RegistrationReply::append(Extension e) {
  append_extension(extensions, mip::kReplyFixedSize, std::move(e));
}
std::size_t RegistrationReply::encoded_size() const {
  return mip::kReplyFixedSize + extensions_size(extensions);
}

Result<RegistrationRequest> parse_registration_request(ByteView b) {
  return parse_fixed_message<RegistrationRequest>(b, mip::MessageType::registration_request,
                                                  mip::kRequestFixedSize,
                                                  request_fields<RegistrationRequest, FieldReader>);
}

Result<RegistrationReply> parse_registration_reply(ByteView b) {
  return parse_fixed_message<RegistrationReply>(b, mip::MessageType::registration_reply, mip::kReplyFixedSize,
                                                reply_fields<RegistrationReply, FieldReader>);
}

void encode(const RegistrationRequest& m, ByteWriter& w) {
  encode_fixed_message(m, mip::MessageType::registration_request,
                       request_fields<const RegistrationRequest, FieldWriter>, w);
}

void encode(const RegistrationReply& m, ByteWriter& w) {
  encode_fixed_message(m, mip::MessageType::registration_reply,
                       reply_fields<const RegistrationReply, FieldWriter>, w);
}

Bytes encode(const RegistrationRequest& m) { return encode_message(m); }

Bytes encode(const RegistrationReply& m) { return encode_message(m); }

}  // namespace vmroam::wire
