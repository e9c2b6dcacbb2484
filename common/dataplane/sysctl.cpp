// Sysctl: see sysctl.hpp.
#include "common/dataplane/sysctl.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vmroam::dataplane {

Result<std::string> Sysctl::get(std::string_view key) const {
  if (key.empty() || key.find("..") != std::string_view::npos) return fail("bad_sysctl", std::string(key));
  std::ifstream in(root_ + "/" + std::string(key));
  if (!in) return fail("sysctl_failed", "read " + std::string(key) + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string v = ss.str();
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

Result<std::string> Sysctl::set(std::string_view key, std::string_view value) {
  VMROAM_TRY(std::string previous, get(key));
  if (previous == value) return previous;
  std::ofstream out(root_ + "/" + std::string(key));
  out << value << '\n';
  out.flush();
  if (!out) return fail("sysctl_failed", "write " + std::string(key) + "=" + std::string(value));
  changed_.emplace_back(std::string(key), previous);
  return previous;
}

Result<void> Sysctl::restore() {
  Result<void> first = ok();
  for (auto it = changed_.rbegin(); it != changed_.rend(); ++it) {
    std::ofstream out(root_ + "/" + it->first);
    out << it->second << '\n';
    out.flush();
    if (!out && first) first = fail("sysctl_failed", "restore " + it->first);
  }
  changed_.clear();
  return first;
}

}  // namespace vmroam::dataplane
