#include "migration/migration_tls.hpp"

namespace vmroam::migration {

Json tls_creds_object(const std::string& id, const std::string& dir, MigrationSide side) {
  return Json{{"qom-type", "tls-creds-x509"},
              {"id", id},
              {"dir", dir},
              {"endpoint", side == MigrationSide::source ? "client" : "server"},
              {"verify-peer", true}};
}

Json tls_authz_object(const std::string& dn) {
  return Json{{"qom-type", "authz-list"},
              {"id", kTlsAuthzId},
              {"policy", "deny"},
              {"rules", Json::array({{{"match", dn}, {"policy", "allow"}, {"format", "exact"}}})}};
}

std::vector<QmpStep> tls_setup(const MigrationTls& tls, MigrationSide side) {
  const bool src = side == MigrationSide::source;
  std::vector<QmpStep> steps;
  if (!tls.enabled) {
    Json params{{"tls-creds", ""}};
    if (src) params["tls-hostname"] = "";
    if (!src) params["tls-authz"] = "";
    steps.push_back({"migrate-set-parameters", params});
    return steps;
  }
  std::string id = tls.creds_id;
  const std::string& dir = src ? tls.creds_dir_src : tls.creds_dir_dst;
  if (id.empty()) {
    id = src ? kTlsCredsSourceId : kTlsCredsDestinationId;
    // A QEMU that was the destination of an earlier move may hold an object of this id:
    // replace it, so that the files are read afresh.
    steps.push_back({"object-del", Json{{"id", id}}, true});
    steps.push_back({"object-add", tls_creds_object(id, dir, side)});
  }
  Json params{{"tls-creds", id}};
  if (src) params["tls-hostname"] = tls.hostname;
  if (!src) {
    // QEMU checks the client certificate's distinguished name against the list (mutual TLS
    // alone accepts any certificate the CA signed). "": any, as before.
    params["tls-authz"] = tls.peer_dn.empty() ? "" : kTlsAuthzId;
    if (!tls.peer_dn.empty()) {
      steps.push_back({"object-del", Json{{"id", kTlsAuthzId}}, true});
      steps.push_back({"object-add", tls_authz_object(tls.peer_dn)});
    }
  }
  steps.push_back({"migrate-set-parameters", params});
  return steps;
}

std::string uri_host(const std::string& uri) {
  if (!uri.starts_with("tcp:")) return {};
  auto rest = uri.substr(4);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return {};
  auto host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host;
}

std::string describe(const MigrationTls& tls) {
  if (!tls.enabled) return "off (--insecure-migration)";
  auto s = "x509, peer verified as " + tls.hostname;
  if (!tls.peer_dn.empty()) s += ", only " + tls.peer_dn + " accepted";
  return s;
}

}  // namespace vmroam::migration
