// vmroam-pcap: decodes Mobile IP traffic in a capture file into JSON lines (docs/tools.md).
//
//   vmroam-pcap decode FILE.pcap [--key SPI:ALG:HEXKEY]...
//
// Thin main: argument parsing and the exit code; capture.hpp reads the file, frame_decoder.hpp
// does the decoding. Exit 0 when the file was read (malformed packets are reported as
// records, not failures), 1 when it could not be read, 2 on bad usage.
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/security_association.hpp"
#include "tools/pcap/capture.hpp"
#include "tools/pcap/frame_decoder.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: vmroam-pcap decode FILE [--key SPI:ALGORITHM:HEXKEY]...\n"
    "       vmroam-pcap --help | --version\n"
    "\n"
    "Prints one JSON object per line for every Mobile IP message (UDP port 434), tunnelled\n"
    "packet (IP in IP, RFC 3519 UDP), agent advertisement/solicitation and ARP/RARP frame in\n"
    "FILE (pcap or pcapng; Ethernet, Linux cooked v1/v2 or raw IPv4). Malformed packets print\n"
    "{\"frame\":N,\"error\":REASON,...}.\n"
    "\n"
    "  --key SPI:ALGORITHM:HEXKEY  verify authentication extensions with this SPI\n"
    "                              (ALGORITHM hmac-md5 or hmac-sha256; SPI decimal or 0x hex);\n"
    "                              repeatable\n"
    "\n"
    "A summary line goes to stderr. Exit 0 if FILE was read, 1 if not, 2 on bad usage.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "vmroam-pcap: %s\n%.*s", message.c_str(), static_cast<int>(kUsage.size()),
               kUsage.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("missing command");
  if (args[0] == "--help" || args[0] == "-h") {
    std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
    return 0;
  }
  if (args[0] == "--version") {
    std::printf("vmroam-pcap %s\n", VMROAM_VERSION);
    return 0;
  }
  if (args[0] != "decode") return usage_error("unknown command \"" + std::string(args[0]) + "\"");

  std::string file;
  vmroam::auth::Keyring keys;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--key") {
      if (i + 1 >= args.size()) return usage_error("--key needs SPI:ALGORITHM:HEXKEY");
      auto sa = vmroam::pcap::parse_key_spec(args[++i]);
      if (!sa) return usage_error("--key " + std::string(args[i]) + ": " + sa.error().to_string());
      auto added = keys.add(*sa);
      if (!added) return usage_error("--key " + std::string(args[i]) + ": " + added.error().to_string());
    } else if (args[i].starts_with("-")) {
      return usage_error("unknown option \"" + std::string(args[i]) + "\"");
    } else if (file.empty()) {
      file = std::string(args[i]);
    } else {
      return usage_error("more than one FILE given");
    }
  }
  if (file.empty()) return usage_error("decode needs a FILE");

  const vmroam::pcap::FrameDecoder decoder(std::move(keys));
  std::uint64_t records = 0;
  std::uint64_t errors = 0;
  auto read = vmroam::pcap::read_capture(file, [&](const vmroam::pcap::Frame& f) {
    const vmroam::pcap::FrameInfo info{f.number, f.ts_sec, f.ts_usec, f.link_type, f.original_length};
    for (const auto& r : decoder.decode(info, f.data)) {
      // Strings we print are ASCII by construction; replace rather than throw if one is not.
      std::cout << r.dump(-1, ' ', false, vmroam::pcap::Json::error_handler_t::replace) << '\n';
      ++records;
      if (r.contains("error")) ++errors;
    }
  });
  std::cout.flush();
  if (!read) {
    std::fprintf(stderr, "vmroam-pcap: %s\n", read.error().to_string().c_str());
    return 1;
  }
  std::fprintf(stderr, "vmroam-pcap: %llu frames, %llu records, %llu errors\n",
               static_cast<unsigned long long>(*read), static_cast<unsigned long long>(records),
               static_cast<unsigned long long>(errors));
  return 0;
}
