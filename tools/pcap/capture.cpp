// libpcap reader behind read_capture(); see capture.hpp.
#include "tools/pcap/capture.hpp"

#include <pcap/pcap.h>

#include <memory>

namespace vmroam::pcap {

Result<std::uint64_t> read_capture(const std::string& path,
                                   const std::function<void(const Frame&)>& on_frame) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, decltype(&pcap_close)> handle(pcap_open_offline(path.c_str(), errbuf), &pcap_close);
  if (!handle) return fail("capture_open", path + ": " + errbuf);

  const int link_type = pcap_datalink(handle.get());
  std::uint64_t count = 0;
  for (;;) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    int rc = pcap_next_ex(handle.get(), &header, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // end of file
    if (rc != 1) {
      return fail("capture_read",
                  path + ": after frame " + std::to_string(count) + ": " + pcap_geterr(handle.get()));
    }
    ++count;
    Frame f;
    f.number = count;
    f.ts_sec = header->ts.tv_sec;
    f.ts_usec = static_cast<std::uint32_t>(header->ts.tv_usec);
    f.link_type = link_type;
    f.original_length = header->len;
    f.data = ByteView(data, header->caplen);
    on_frame(f);
  }
  return count;
}

}  // namespace vmroam::pcap
