// Writes the seed corpora of every fuzz target from the message catalogue
// (tools/pcap/message_catalogue.hpp) and, optionally, from capture files:
//
//   fuzz-seed-writer fuzz/corpus [pcap-fixtures/malformed.pcap ...]
//
//   corpus/registration/   the UDP payload of every port-434 frame
//   corpus/decapsulation/  every IPv4 packet, and every UDP payload (tunnel data)
//   corpus/pcap_decoder/   0x00 (Ethernet) followed by every frame
//   corpus/extension/      0x00 + the extensions of every request, reply and revocation,
//                          0x01 + every ICMP message (agent advertisements, solicitations)
// Names are catalogue-NN / FILE-NN, so rerunning overwrites the same files; the fuzzers' own
// finds (crash-*, interesting inputs) are committed next to them under descriptive names.
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/wire/ethernet.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"
#include "tools/pcap/capture.hpp"
#include "tools/pcap/message_catalogue.hpp"

namespace {

bool write(const std::filesystem::path& p, vmroam::ByteView a, vmroam::ByteView b = {}) {
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = (a.empty() || std::fwrite(a.data(), 1, a.size(), f) == a.size()) &&
            (b.empty() || std::fwrite(b.data(), 1, b.size(), f) == b.size());
  return std::fclose(f) == 0 && ok;
}

// The extension list of a port-434 message: what follows its fixed part.
std::size_t fixed_size(std::uint8_t type) {
  using vmroam::mip::MessageType;
  switch (static_cast<MessageType>(type)) {
    case MessageType::registration_request:
      return vmroam::mip::kRequestFixedSize;
    case MessageType::registration_reply:
      return vmroam::mip::kReplyFixedSize;
    case MessageType::revocation:
      return vmroam::mip::kRevocationFixedSize;
    case MessageType::revocation_ack:
      return vmroam::mip::kRevocationAckFixedSize;
    default:
      return 0;
  }
}

std::size_t seed_extensions(const std::filesystem::path& root, const std::string& name,
                            const vmroam::wire::Ipv4Header& ip, vmroam::ByteView packet) {
  static const std::uint8_t kExtensions[1] = {0};
  static const std::uint8_t kIcmp[1] = {1};
  const vmroam::ByteView payload = packet.subspan(ip.header_length);
  if (ip.protocol == vmroam::mip::kIpProtoIcmp)
    return write(root / "extension" / name, kIcmp, payload) ? 1 : 0;
  auto udp = vmroam::wire::parse_udp_datagram(packet);
  if (!udp || udp->payload.empty()) return 0;
  const std::size_t fixed = fixed_size(udp->payload[0]);
  if (fixed == 0 || udp->payload.size() <= fixed) return 0;
  return write(root / "extension" / name, kExtensions, udp->payload.subspan(fixed)) ? 1 : 0;
}

std::size_t seed_from_frame(const std::filesystem::path& root, const std::string& name,
                            vmroam::ByteView frame) {
  static const std::uint8_t kEthernetSelector[1] = {0};
  std::size_t n = write(root / "pcap_decoder" / name, kEthernetSelector, frame) ? 1 : 0;
  auto eth = vmroam::wire::parse_ethernet(frame);
  if (!eth || eth->ethertype != vmroam::mip::kEtherTypeIpv4) return n;
  auto ip = vmroam::wire::parse_ipv4(eth->payload);
  if (!ip) return n;
  const vmroam::ByteView packet = eth->payload.first(ip->total_length);
  n += write(root / "decapsulation" / name, packet) ? 1 : 0;
  n += seed_extensions(root, name, *ip, packet);
  if (auto udp = vmroam::wire::parse_udp_datagram(packet)) {
    n += write(root / "registration" / name, udp->payload) ? 1 : 0;
    n += write(root / "decapsulation" / (name + "-udp-payload"), udp->payload) ? 1 : 0;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz-seed-writer CORPUS_DIR [CAPTURE.pcap ...]\n");
    return 2;
  }
  const std::filesystem::path root = argv[1];
  for (const char* t : {"registration", "decapsulation", "pcap_decoder", "extension"}) {
    std::filesystem::create_directories(root / t);
  }
  std::size_t written = 0;
  int i = 0;
  for (const auto& s : vmroam::pcap::sample_frames()) {
    char name[32];
    std::snprintf(name, sizeof name, "catalogue-%02d", ++i);
    written += seed_from_frame(root, name, s.frame);
  }
  for (int a = 2; a < argc; ++a) {
    const std::string stem = std::filesystem::path(argv[a]).stem().string();
    auto read = vmroam::pcap::read_capture(argv[a], [&](const vmroam::pcap::Frame& f) {
      char name[64];
      std::snprintf(name, sizeof name, "%s-%02llu", stem.c_str(), static_cast<unsigned long long>(f.number));
      written += seed_from_frame(root, name, f.data);
    });
    if (!read) {
      std::fprintf(stderr, "fuzz-seed-writer: %s\n", read.error().to_string().c_str());
      return 1;
    }
  }
  std::printf("wrote %zu seeds under %s\n", written, root.c_str());
  return 0;
}
