// Writes the message catalogue (tools/pcap/message_catalogue.hpp) as a pcap for the oracles.
//
//   oracle-capture OUT.pcap OUT.json   the capture (Ethernet, one frame per sample, times
//                                      1700000000 + n seconds so the file is byte-stable)
//                                      and a JSON array of {frame, description, expected…}
//   oracle-capture --keys              the --key arguments for vmroam-pcap, one per line
//
// The capture is written with libpcap's own writer (pcap_open_dead + pcap_dump), so the file
// format is libpcap's, not ours.
#include <pcap/pcap.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "common/auth/security_association.hpp"
#include "common/core/hex.hpp"
#include "tools/pcap/message_catalogue.hpp"

namespace {
constexpr long kFirstSecond = 1700000000;
}

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--keys") {
    for (const auto& sa : vmroam::pcap::sample_keys()) {
      std::printf("%u:%s:%s\n", sa.spi, std::string(vmroam::auth::algorithm_name(sa.algorithm)).c_str(),
                  vmroam::to_hex(sa.key).c_str());
    }
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: oracle-capture OUT.pcap OUT.json | --keys\n");
    return 2;
  }
  std::unique_ptr<pcap_t, decltype(&pcap_close)> dead(pcap_open_dead(DLT_EN10MB, 65535), &pcap_close);
  if (!dead) {
    std::fprintf(stderr, "oracle-capture: pcap_open_dead failed\n");
    return 1;
  }
  std::unique_ptr<pcap_dumper_t, decltype(&pcap_dump_close)> dumper(pcap_dump_open(dead.get(), argv[1]),
                                                                    &pcap_dump_close);
  if (!dumper) {
    std::fprintf(stderr, "oracle-capture: %s: %s\n", argv[1], pcap_geterr(dead.get()));
    return 1;
  }
  nlohmann::ordered_json expected = nlohmann::ordered_json::array();
  long n = 0;
  for (const auto& s : vmroam::pcap::sample_frames()) {
    ++n;
    pcap_pkthdr h{};
    h.ts.tv_sec = kFirstSecond + n;
    h.ts.tv_usec = 0;
    h.caplen = static_cast<bpf_u_int32>(s.frame.size());
    h.len = h.caplen;
    pcap_dump(reinterpret_cast<u_char*>(dumper.get()), &h, s.frame.data());
    nlohmann::ordered_json e;
    e["frame"] = n;
    e["description"] = s.description;
    for (const auto& [k, v] : s.expected.items()) e[k] = v;
    expected.push_back(std::move(e));
  }
  dumper.reset();
  std::ofstream out(argv[2]);
  out << expected.dump(1) << '\n';
  if (!out) {
    std::fprintf(stderr, "oracle-capture: cannot write %s\n", argv[2]);
    return 1;
  }
  std::fprintf(stderr, "oracle-capture: %ld frames\n", n);
  return 0;
}
