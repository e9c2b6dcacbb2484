// Which vmroam VM a libvirt domain is, from its XML (pure). Two ways, in this order:
//
//   1. a metadata element in vmroam's namespace naming the VM:
//        <metadata>
//          <vmroam:vm xmlns:vmroam='https://vmroam.example/xmlns/1' id='vm1'/>
//        </metadata>
//      (`virsh metadata DOMAIN https://vmroam.example/xmlns/1 --key vmroam --set "<vm id='vm1'/>"`)
//   2. else the MAC address of one of its <interface>s equal to a configured VM's "mac".
//
// libvirt writes its XML itself (attributes in single quotes, no comments inside elements), so
// a small scanner reads the two things needed; it never throws and ignores what it does not know.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/address.hpp"

namespace vmroam::virt {

inline constexpr std::string_view kMetadataNamespace = "https://vmroam.example/xmlns/1";

// The value of attribute `name` in the first element of `xml` (either quote style), if any.
[[nodiscard]] std::optional<std::string> first_element_attribute(std::string_view xml, std::string_view name);
// The id attribute of the metadata element, as virDomainGetMetadata(VIR_DOMAIN_METADATA_ELEMENT)
// returns it ("<vmroam:vm xmlns:vmroam='…' id='vm1'/>"); nullopt if absent or empty.
[[nodiscard]] std::optional<std::string> vm_id_from_metadata(std::string_view element_xml);
// Every <mac address='…'/> in a domain XML that parses as a MAC, in document order.
[[nodiscard]] std::vector<MacAddress> interface_macs(std::string_view domain_xml);

}  // namespace vmroam::virt
