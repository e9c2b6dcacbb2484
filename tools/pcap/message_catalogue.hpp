// A catalogue of every kind of frame vmroam puts on the wire, built with common/wire and
// common/auth, each with what was written.
//
// One list serves three uses, so they cannot drift apart:
//   * tests/oracle/oracle_capture writes it as a pcap for tshark and scapy to dissect
//     (suites 'tshark', 'scapy') and as the committed fixture in pcap-fixtures/;
//   * fuzz/seed_writer turns it into seed corpora for every fuzz target.
// The catalogue is deterministic: fixed addresses, keys and identifications, so the pcap and
// the .ok rendering are byte-stable.
//
// `expected` holds what the builder wrote, in two forms:
//   neutral keys  (kind, type, flags as a number, lifetime, home_address, home_agent,
//                  care_of_address, identification as 16 hex digits, code, encapsulation,
//                  next_header, inner_src, inner_dst) for scapy;
//   "tshark"      Wireshark field name → expected value (a number, a string, or a list when
//                  the field occurs more than once in the frame), for tests/oracle/tshark_oracle.py.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/auth/security_association.hpp"
#include "common/core/bytes.hpp"

namespace vmroam::pcap {

struct SampleFrame {
  std::string description;
  Bytes frame;  // a whole Ethernet II frame
  nlohmann::ordered_json expected;
};

// The security associations the samples are signed with (pass them to vmroam-pcap --key).
[[nodiscard]] std::vector<auth::SecurityAssociation> sample_keys();

// Every sample, in capture order.
[[nodiscard]] std::vector<SampleFrame> sample_frames();

}  // namespace vmroam::pcap
