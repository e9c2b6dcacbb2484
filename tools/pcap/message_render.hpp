// Mobile IP messages, their extensions and agent advertisements rendered as JSON records for
// vmroam-pcap (frame_decoder.hpp): every field by its RFC name, flags as letters, and, for SPIs
// in the keyring, whether each authenticator verifies. Rendering only: the parsing is
// common/wire's, the HMAC checking common/auth's.
#pragma once

#include <nlohmann/json.hpp>

#include "common/auth/security_association.hpp"
#include "common/core/bytes.hpp"
#include "common/wire/agent_advertisement.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/message.hpp"

namespace vmroam::pcap {

using Json = nlohmann::ordered_json;

// The fields of one extension. A typed view that refuses it shows the raw data and the view's
// reason ("view_error") rather than trusting it.
[[nodiscard]] Json render_extension(const wire::Extension& e);

// The fields of a registration, revocation or revocation-ack message whose received bytes are
// `payload` into `r`, with "extensions" and, with keys, "auth". Tunnel data adds nothing.
void render_message(Json& r, ByteView payload, const wire::Message& message, const auth::Keyring& keys);

// The fields of an agent advertisement (RFC 5944 §2.1) into `r`.
void render_advertisement(Json& r, const wire::AgentAdvertisement& adv);

// The inner header of a decapsulated packet: "inner_src", "inner_dst", "inner_protocol",
// "inner_length" (nothing if it does not parse).
void render_inner(Json& r, ByteView inner);

}  // namespace vmroam::pcap
