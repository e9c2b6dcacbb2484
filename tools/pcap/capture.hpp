// Reading capture files with libpcap: the only I/O in vmroam-pcap.
//
// read_capture() opens a pcap or pcapng file and hands every frame, with its number
// (1-based, as Wireshark counts), timestamp and link type, to a callback. Everything after
// that (link layer, IPv4, Mobile IP) is pure code in frame_decoder.hpp, so tests and the
// fuzzer feed it bytes without a file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::pcap {

// Link-layer header types (LINKTYPE_* values of the pcap file format; libpcap reports the
// DLT_* values, which are the same except for raw IP, see link_layer.hpp).
struct Frame {
  std::uint64_t number = 0;           // 1-based position in the file
  std::int64_t ts_sec = 0;            // capture time, seconds since the Unix epoch
  std::uint32_t ts_usec = 0;          // and microseconds
  int link_type = 0;                  // pcap_datalink() of the file
  std::uint32_t original_length = 0;  // length on the wire (may exceed data.size())
  ByteView data;                      // captured bytes (caplen)
};

// Calls on_frame for every frame in `path`. Fails ("capture_open" / "capture_read") with
// libpcap's message when the file cannot be opened or is corrupt part-way; frames before the
// corruption have been delivered by then. Returns the number of frames read.
[[nodiscard]] Result<std::uint64_t> read_capture(const std::string& path,
                                                 const std::function<void(const Frame&)>& on_frame);

}  // namespace vmroam::pcap
