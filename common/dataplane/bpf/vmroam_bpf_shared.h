/* The contract between the tc/eBPF programs (vmroam.bpf.c) and user space
 * (common/dataplane/ebpf_*): map names, keys, values and counter indexes. Included by the BPF
 * programs (C, clang -target bpf) and by the C++ loader, so it uses only fixed-size types and
 * no padding the two compilers could lay out differently.
 *
 * Every map is pinned by name (LIBBPF_PIN_BY_NAME) so that a restarted agent reuses its
 * predecessor's state while the old programs keep running. A pinned map is only reused when
 * its type, key/value size and max_entries match: the names carry a version (_v1) which MUST
 * change whenever a struct below or a map's definition changes (docs/dataplane.md "eBPF").
 *
 * Byte order: addresses and ports are in network byte order (as they sit in the packet);
 * everything else is in host order. */
#ifndef VMROAM_BPF_SHARED_H
#define VMROAM_BPF_SHARED_H

#include <linux/types.h>

#define VMR_MAP_CONFIG "vmr_cfg_v1"
#define VMR_MAP_PEERS "vmr_peer_v1"
#define VMR_MAP_ROUTES "vmr_route_v1"
#define VMR_MAP_PEER_STATS "vmr_peer_st_v1"
#define VMR_MAP_HOA_STATS "vmr_hoa_st_v1"
#define VMR_MAP_COUNTERS "vmr_cnt_v2"
#define VMR_MAP_ADDRS6 "vmr_addr6_v1"

#define VMR_MAX_PEERS 4096
#define VMR_MAX_ROUTES 65536
#define VMR_MAX_ADDRS6 65536

/* RFC 3519 §3.3: tunnel data share the registration port; §3.1: the 4-byte tunnel data
 * header (Type 4, Next Header = IP protocol number of the payload, Reserved). */
#define VMR_UDP_PORT 434
#define VMR_UDP_TYPE_DATA 4
#define VMR_IPIP_OVERHEAD 20          /* RFC 2003 outer IPv4 header */
#define VMR_UDP_OVERHEAD (20 + 8 + 4) /* outer IPv4 + UDP + tunnel data header */
#define VMR_IPPROTO_IPV6 41           /* IPv6 in IPv4 (RFC 4213 §3.5); RFC 3519 Next Header */

/* vmr_cfg_v1[0]: one per agent. Until `local` is set every program passes every packet. */
struct vmr_config {
  __u32 local;       /* outer source and the address decapsulated packets must be sent to */
  __u32 tun_ifindex; /* the agent's TUN: the handover hold and the kernel's slow path */
  __u16 tunnel_mtu;  /* largest inner packet tunnelled in the fast path (RFC 2003 §4) */
  __u8 ttl;          /* outer TTL (RFC 2003 §3.1: "the TTL of the outer header") */
  __u8 pad;
};

enum vmr_encap {
  VMR_ENCAP_IPIP = 1, /* RFC 2003 */
  VMR_ENCAP_UDP = 2,  /* RFC 3519 */
};

/* vmr_peer_v1: key __u32 peer address (CoA at the HA, HA at the FA). */
struct vmr_peer {
  __u8 encap; /* enum vmr_encap */
  __u8 pad;
  __u16 udp_port; /* the peer's UDP port (NAT may have changed it), network order */
};

#define VMR_ROUTE_HOLD 1u /* handover hold: redirect to the TUN instead of tunnelling */
#define VMR_ROUTE_TAP 2u  /* prepare-time recording: a copy of each tunnelled packet to the TUN */

/* skb->mark of a tapped copy on its way to the TUN: the TUN's egress program lets it through
 * to the agent instead of tunnelling it a second time. (The original keeps its own mark.) */
#define VMR_TAP_MARK 0x766d7274u /* "vmrt" */

/* skb->mark of a decapsulated IPv6 packet the HA hands to its TUN's ingress (the link it came
 * on may have IPv6 off): the TUN's ingress program clears it and treats the packet as one
 * just received, not as one released from a hold. */
#define VMR_DECAP_MARK 0x766d7264u /* "vmrd" */

/* skb->mark of a held packet redirected from a link's ingress to the TUN: it passes the TUN's
 * egress program on its way into the agent's queue, which lets it through without counting it
 * again (VMR_PASS_HELD counts each held packet once, at the redirect). */
#define VMR_HELD_MARK 0x766d7268u /* "vmrh" */

/* vmr_route_v1: key __u32 home address (HoA). At the HA it selects by inner destination, at
 * the FA by inner source (RFC 3024 §5.2); inbound packets for the HoA are accepted only from
 * `peer`, or from `grace_peer` during a handover (docs/dataplane.md "Handover grace"). */
struct vmr_route {
  __u32 peer;       /* 0 = not routed (kept only for its grace peer, or to hold it) */
  __u32 grace_peer; /* 0 = none */
  __u32 flags;      /* VMR_ROUTE_* */
};

/* vmr_addr6_v1: a dual-stack VM's IPv6 home address (RFC 5454) → the IPv4 HoA (network order)
 * whose route (vmr_route_v1) it follows: an IPv6 inner packet is looked up by its destination
 * (HA) or source (FA) here, then tunnelled, held, tapped and accepted exactly as the HoA's
 * IPv4 (docs/dataplane.md "IPv6 in the kernel data plane"). */
struct vmr_addr6 {
  __u8 addr[16];
};

/* vmr_peer_st_v1 (key: peer) and vmr_hoa_st_v1 (key: HoA), per-CPU: sum over CPUs. */
struct vmr_traffic {
  __u64 tx_packets; /* encapsulated and sent */
  __u64 tx_bytes;   /* outer bytes (without the Ethernet header) */
  __u64 rx_packets; /* decapsulated and accepted */
  __u64 rx_bytes;   /* inner bytes */
};

/* vmr_cnt_v2: per-CPU array of __u64 indexed by this enum. Drops first, then packets that
 * were passed to the kernel or the agent instead of the fast path. */
enum vmr_counter {
  VMR_DROP_UNKNOWN_PEER = 0, /* tunnel packet to us from an unregistered address */
  VMR_DROP_MALFORMED,        /* tunnel packet with a bad outer/inner header */
  VMR_DROP_PEER_MISMATCH,    /* inner address not bound to the sending peer (anti-spoof) */
  VMR_DROP_NO_ENDPOINT,      /* HoA routed to a peer that has no endpoint */
  VMR_DROP_TOO_BIG,          /* larger than the path to the peer, at the slow path */
  VMR_DROP_NO_ROUTE,         /* no route to the peer (FIB lookup failed) */
  VMR_DROP_ENCAP_FAILED,     /* the kernel refused to grow or shrink the packet */
  VMR_DROP_FRAGMENT,         /* an outer fragment of a tunnel packet (never reassembled) */
  VMR_DROP_NO_TUN,           /* a held packet but no TUN configured */
  VMR_PASS_HELD,             /* redirected to the TUN (handover hold) */
  VMR_PASS_TTL,              /* inner TTL <= 1: the kernel answers Time Exceeded */
  VMR_PASS_TOO_BIG,          /* over the tunnel MTU: the kernel sends Frag Needed or fragments */
  VMR_PASS_GRO,              /* an aggregated RFC 3519 skb: the agent's socket splits it */
  VMR_PASS_LOCAL,            /* from a visitor to the FA itself or a broadcast */
  VMR_NO_NEIGH,              /* next hop unresolved: sent with bpf_redirect_neigh */
  VMR_TAPPED,                /* a copy of a tunnelled packet cloned to the TUN (tap) */
  VMR_TAP_FAILED,            /* the clone to the TUN failed: the recording misses one */
  VMR_COUNTER_MAX,
};

#endif /* VMROAM_BPF_SHARED_H */
