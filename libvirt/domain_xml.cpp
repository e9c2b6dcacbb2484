// See domain_xml.hpp.
#include "libvirt/domain_xml.hpp"

namespace vmroam::virt {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == ':' || c == '.';
}

// Attribute `name` inside one start tag `tag` (from '<' to its '>').
std::optional<std::string> attribute_in_tag(std::string_view tag, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = tag.find(name, pos)) != std::string_view::npos) {
    const std::size_t end = pos + name.size();
    const bool starts_word = pos > 0 && !is_name_char(tag[pos - 1]);
    std::size_t i = end;
    while (i < tag.size() && tag[i] == ' ') ++i;
    if (!starts_word || i >= tag.size() || tag[i] != '=') {
      pos = end;
      continue;
    }
    ++i;
    while (i < tag.size() && tag[i] == ' ') ++i;
    if (i >= tag.size() || (tag[i] != '\'' && tag[i] != '"')) return std::nullopt;
    const char quote = tag[i];
    const std::size_t close = tag.find(quote, i + 1);
    if (close == std::string_view::npos) return std::nullopt;
    return std::string(tag.substr(i + 1, close - i - 1));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> first_element_attribute(std::string_view xml, std::string_view name) {
  std::size_t open = xml.find('<');
  while (open != std::string_view::npos && open + 1 < xml.size() &&
         (xml[open + 1] == '?' || xml[open + 1] == '!'))
    open = xml.find('<', open + 1);
  if (open == std::string_view::npos) return std::nullopt;
  const std::size_t close = xml.find('>', open);
  if (close == std::string_view::npos) return std::nullopt;
  return attribute_in_tag(xml.substr(open, close - open), name);
}

std::optional<std::string> vm_id_from_metadata(std::string_view element_xml) {
  auto id = first_element_attribute(element_xml, "id");
  if (!id || id->empty()) return std::nullopt;
  return id;
}

std::vector<MacAddress> interface_macs(std::string_view domain_xml) {
  std::vector<MacAddress> out;
  std::size_t pos = 0;
  while ((pos = domain_xml.find("<mac ", pos)) != std::string_view::npos) {
    const std::size_t close = domain_xml.find('>', pos);
    if (close == std::string_view::npos) break;
    if (auto a = attribute_in_tag(domain_xml.substr(pos, close - pos), "address"))
      if (auto m = MacAddress::parse(*a)) out.push_back(*m);
    pos = close;
  }
  return out;
}

}  // namespace vmroam::virt
