/* Encapsulation (RFC 2003 IP-in-IP, RFC 3519 UDP) and decapsulation for the tc programs.
 *
 * Outer header policy (RFC 2003 §3.1, docs/dataplane.md "eBPF"): TOS copied from the inner
 * header (ECN included, RFC 6040 normal mode); DF copied (§5.1: the outer is never fragmented
 * by us); TTL from the agent's config; ID random per packet (segmentation increments it per
 * segment); RFC 3519 UDP from port 434 to the peer's port with checksum 0 (§3.1 allows it,
 * and nothing would recompute a checksum per GSO segment) and the 4-byte data header
 * 04 04 00 00 (type 4, next header IPv4).
 *
 * A dual-stack VM's IPv6 (RFC 5454) goes in the same encapsulation as its HoA's IPv4: outer
 * protocol 41 (IPv6 in IPv4, RFC 4213 §3.5: TOS from the Traffic Class, DF clear, §3.2.1) or
 * RFC 3519 with Next Header 41 (04 29 00 00).
 *
 * Both encapsulations keep GSO: bpf_skb_adjust_room at the MAC layer with FIXED_GSO (segments
 * keep their payload size, the outer header goes on each) and the ENCAP_* flags (they set the
 * tunnel GSO type so segmentation rebuilds outer headers per segment). */
#ifndef VMROAM_TUNNEL_BPF_H
#define VMROAM_TUNNEL_BPF_H

#include "packet.bpf.h"

/* Which inner address names the HoA: the destination at the HA, the source at the FA
 * (RFC 3024 §5.2: the reverse tunnel is chosen by the visitor's source address). */
enum vmr_key { VMR_KEY_DST, VMR_KEY_SRC };

/* Where the packet comes from, which decides what the program does in the kernel's place. */
enum vmr_path {
  VMR_FAST,     /* link ingress: bypasses ip_forward, so TTL and MTU are checked here */
  VMR_KERNEL,   /* TUN egress: the kernel forwarded it (TTL, MTU, ICMP already done) */
  VMR_RELEASED, /* TUN ingress: written back by the agent at the end of a hold */
};

#define VMR_NOT_TUNNEL (-1)

struct vmr_outer {
  struct iphdr ip;
  struct udphdr udp;
  struct vmr_mip_hdr mip;
};
_Static_assert(sizeof(struct vmr_outer) == VMR_UDP_OVERHEAD, "outer headers have no padding");

/* What the outbound path needs of an inner packet of either version, read once. A dual-stack
 * VM's IPv6 is tunnelled as its IPv4 HoA's (docs/dataplane.md "IPv6 in the kernel data
 * plane"): same route, peer, encapsulation and flags. */
struct vmr_inner {
  __u32 hoa;      /* the route key: the IPv4 address, or the owner of the IPv6 one */
  __u32 len;      /* the largest packet it becomes on the wire (one segment of a GSO skb) */
  __u16 outer_df; /* the outer header's frag_off: DF copied from IPv4 (RFC 2003 §5.1), clear
                     for IPv6 (RFC 4213 §3.2.1: a static tunnel MTU) */
  __u8 tos;       /* TOS or Traffic Class: copied to the outer TOS (RFC 2003 §3.1, RFC 4213 §3.5) */
  __u8 ttl;       /* TTL or Hop Limit */
  __u8 proto;     /* the outer protocol for IP-in-IP and RFC 3519's Next Header: 4 or 41 */
  __u8 ipv6;
  __u16 pad;
  struct iphdr ip; /* IPv4 only: for the TTL decrement's checksum update */
};

static __always_inline void vmr_build_outer(struct vmr_outer* o, const struct vmr_config* cfg,
                                            const struct vmr_inner* inner, __u32 peer, const struct vmr_peer* p,
                                            __u32 outer_len) {
  bool udp = p->encap == VMR_ENCAP_UDP;
  o->ip.version = 4;
  o->ip.ihl = 5;
  o->ip.tos = inner->tos;
  o->ip.tot_len = bpf_htons(outer_len > 0xffff ? 0xffff : (__u16)outer_len);
  o->ip.id = (__u16)bpf_get_prandom_u32();
  o->ip.frag_off = inner->outer_df;
  o->ip.ttl = cfg->ttl ? cfg->ttl : 64;
  o->ip.protocol = udp ? IPPROTO_UDP : inner->proto;
  o->ip.check = 0;
  o->ip.saddr = cfg->local;
  o->ip.daddr = peer;
  o->ip.check = vmr_ip_checksum(&o->ip);
  __u32 udp_len = outer_len - sizeof(struct iphdr);
  o->udp.source = bpf_htons(VMR_UDP_PORT);
  o->udp.dest = p->udp_port ? p->udp_port : bpf_htons(VMR_UDP_PORT);
  o->udp.len = bpf_htons(udp_len > 0xffff ? 0xffff : (__u16)udp_len);
  o->udp.check = 0;
  o->mip.type = VMR_UDP_TYPE_DATA;
  o->mip.next_header = inner->proto; /* RFC 3519 §3.1: the payload's IP protocol number */
  o->mip.reserved = 0;
}

/* The outer route to `peer`: fills `fib` and returns the bpf_fib_lookup code. The inner
 * length is checked against the route's MTU (tot_len) unless the skb is GSO (its segments
 * were checked against the tunnel MTU). */
static __always_inline long vmr_route_outer(struct __sk_buff* skb, struct bpf_fib_lookup* fib,
                                            const struct vmr_config* cfg, __u32 peer, bool udp,
                                            __u32 outer_len) {
  __builtin_memset(fib, 0, sizeof(*fib));
  fib->family = VMR_AF_INET;
  fib->l4_protocol = udp ? IPPROTO_UDP : IPPROTO_IPIP;
  fib->tot_len = skb->gso_size || outer_len > 0xffff ? 0 : (__u16)outer_len;
  fib->ipv4_src = cfg->local;
  fib->ipv4_dst = peer;
  fib->ifindex = skb->ifindex;
  return bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
}

/* Grows the skb by the outer header(s) behind the Ethernet header and writes them. */
static __always_inline int vmr_push_outer(struct __sk_buff* skb, const struct vmr_outer* o, bool udp) {
  __u64 flags = BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;
  __u32 len = VMR_IPIP_OVERHEAD;
  if (udp) {
    flags |= BPF_F_ADJ_ROOM_ENCAP_L4_UDP | BPF_F_ADJ_ROOM_ENCAP_L2(0);
    len = VMR_UDP_OVERHEAD;
  }
  if (bpf_skb_adjust_room(skb, len, BPF_ADJ_ROOM_MAC, flags)) return -1;
  /* ENCAP_L3_IPV4 made an IPv6 skb's protocol IPv4; the frame's EtherType follows. */
  __u16 proto = bpf_htons(ETH_P_IP);
  if (bpf_skb_store_bytes(skb, 2 * ETH_ALEN, &proto, sizeof(proto), 0)) return -1;
  return (int)bpf_skb_store_bytes(skb, ETH_HLEN, o, len, 0);
}

/* Sends the Ethernet-framed, encapsulated skb towards the next hop the FIB gave. */
static __always_inline int vmr_send(struct __sk_buff* skb, struct bpf_fib_lookup* fib, long fib_rc) {
  if (fib_rc == BPF_FIB_LKUP_RET_SUCCESS) {
    if (bpf_skb_store_bytes(skb, 0, fib->dmac, ETH_ALEN, 0) ||
        bpf_skb_store_bytes(skb, ETH_ALEN, fib->smac, ETH_ALEN, 0))
      return vmr_drop(VMR_DROP_ENCAP_FAILED);
    return (int)bpf_redirect(fib->ifindex, 0);
  }
  /* BPF_FIB_LKUP_RET_NO_NEIGH: the neighbour subsystem resolves and queues, as for any
   * forwarded packet. */
  vmr_count(VMR_NO_NEIGH);
  struct bpf_redir_neigh nh = {.nh_family = VMR_AF_INET, .ipv4_nh = fib->ipv4_dst};
  return (int)bpf_redirect_neigh(fib->ifindex, &nh, sizeof(nh), 0);
}

/* Prepare-time recording (docs/dataplane.md "Handover hold"): a copy of the packet about to
 * be tunnelled goes to the TUN's egress, marked so that the TUN's program hands it to the
 * agent (which stamps and keeps it) instead of tunnelling it again. A GSO skb is segmented on
 * the way (the TUN has no offloads), so the agent gets packets it can reinject one by one. */
static __always_inline void vmr_tap(struct __sk_buff* skb, const struct vmr_config* cfg) {
  if (!cfg->tun_ifindex) {
    vmr_count(VMR_TAP_FAILED);
    return;
  }
  __u32 mark = skb->mark;
  skb->mark = VMR_TAP_MARK;
  long rc = bpf_clone_redirect(skb, cfg->tun_ifindex, 0);
  skb->mark = mark;
  vmr_count(rc ? VMR_TAP_FAILED : VMR_TAPPED);
}

/* Decrements the inner TTL or Hop Limit (what ip_forward or ip6_forward would have done). */
static __always_inline int vmr_decrement_hops(struct __sk_buff* skb, __u32 l3off, const struct vmr_inner* in) {
  if (!in->ipv6) return vmr_decrement_ttl(skb, l3off, &in->ip);
  __u8 hops = in->ttl - 1;
  return (int)bpf_skb_store_bytes(skb, l3off + offsetof(struct ipv6hdr, hop_limit), &hops, 1, 0);
}

/* Tunnels the inner packet at `l3off` (0 on the TUN, an L3 device; ETH_HLEN elsewhere) to
 * the peer of `route`, the route of in->hoa. */
static __always_inline int vmr_tunnel_out(struct __sk_buff* skb, const struct vmr_config* cfg,
                                          const struct vmr_inner* in, __u32 l3off,
                                          const struct vmr_route* route, enum vmr_path path) {
  __u32 peer_addr = route->peer;
  const struct vmr_peer* p = bpf_map_lookup_elem(&vmr_peer_v1, &peer_addr);
  if (!p) return vmr_drop(VMR_DROP_NO_ENDPOINT);
  bool udp = p->encap == VMR_ENCAP_UDP;
  __u32 inner_len = skb->len - l3off;
  __u32 outer_len = inner_len + (udp ? VMR_UDP_OVERHEAD : VMR_IPIP_OVERHEAD);
  if (path == VMR_FAST) {
    /* What ip_forward (ip6_forward) would refuse goes to it: it answers Time Exceeded,
     * Fragmentation Needed or Packet Too Big (with the TUN's MTU, the tunnel MTU) or
     * fragments, then routes the packet into the TUN, whose egress program tunnels it. */
    if (in->ttl <= 1) return vmr_pass(VMR_PASS_TTL);
    if (in->len > cfg->tunnel_mtu) return vmr_pass(VMR_PASS_TOO_BIG);
  }
  struct bpf_fib_lookup fib;
  long rc = vmr_route_outer(skb, &fib, cfg, peer_addr, udp, outer_len);
  if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
    return path == VMR_FAST ? vmr_pass(VMR_PASS_TOO_BIG) : vmr_drop(VMR_DROP_TOO_BIG);
  if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) return vmr_drop(VMR_DROP_NO_ROUTE);
  if (path == VMR_FAST && vmr_decrement_hops(skb, l3off, in)) return vmr_drop(VMR_DROP_ENCAP_FAILED);
  if (l3off == 0) {
    /* An L3 skb (TUN): give it an Ethernet header to redirect it to an Ethernet device. */
    __u16 proto = in->ipv6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
    if (bpf_skb_change_head(skb, ETH_HLEN, 0) || bpf_skb_store_bytes(skb, 2 * ETH_ALEN, &proto, 2, 0))
      return vmr_drop(VMR_DROP_ENCAP_FAILED);
  }
  /* Copies what is tunnelled now, the TTL as the peer sees it; not what a hold releases
   * (the recording already has it). */
  if ((route->flags & VMR_ROUTE_TAP) && path != VMR_RELEASED) vmr_tap(skb, cfg);
  struct vmr_outer o;
  vmr_build_outer(&o, cfg, in, peer_addr, p, outer_len);
  if (vmr_push_outer(skb, &o, udp)) return vmr_drop(VMR_DROP_ENCAP_FAILED);
  vmr_count_tx(peer_addr, in->hoa, outer_len);
  return vmr_send(skb, &fib, rc);
}

/* Reads the inner packet at `l3off` for the outbound path: false when it is neither a HoA's
 * IPv4 packet nor one of a dual-stack VM's IPv6 addresses' (then it is none of ours). */
static __always_inline bool vmr_load_inner(struct __sk_buff* skb, __u32 l3off, enum vmr_key key,
                                           struct vmr_inner* in) {
  __builtin_memset(in, 0, sizeof(*in));
  if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr ip6;
    if (!vmr_load_ipv6(skb, l3off, &ip6)) return false;
    in->hoa = vmr_owner6(key == VMR_KEY_DST ? &ip6.daddr : &ip6.saddr);
    in->len = vmr_segment_len6(skb, &ip6, l3off);
    in->tos = vmr_traffic_class(&ip6);
    in->ttl = ip6.hop_limit;
    in->proto = VMR_IPPROTO_IPV6;
    in->ipv6 = 1;
    return in->hoa != 0;
  }
  if (!vmr_load_ipv4(skb, l3off, &in->ip)) return false;
  in->hoa = key == VMR_KEY_DST ? in->ip.daddr : in->ip.saddr;
  in->len = vmr_segment_len(skb, &in->ip, l3off);
  in->outer_df = in->ip.frag_off & bpf_htons(VMR_IP_DF);
  in->tos = in->ip.tos;
  in->ttl = in->ip.ttl;
  in->proto = IPPROTO_IPIP;
  return true;
}

/* The outbound decision for the inner packet at `l3off`: not a routed HoA's → pass
 * untouched; held → the TUN (the agent queues it); otherwise tunnelled. */
static __always_inline int vmr_route_packet(struct __sk_buff* skb, const struct vmr_config* cfg, __u32 l3off,
                                            enum vmr_key key, enum vmr_path path) {
  /* At the TUN's egress: a held packet the fast path redirected here (counted there). */
  bool redirected_held = path == VMR_KERNEL && skb->mark == VMR_HELD_MARK;
  if (redirected_held) skb->mark = 0;
  struct vmr_inner in;
  if (!vmr_load_inner(skb, l3off, key, &in)) return TC_ACT_OK;
  const struct vmr_route* route = bpf_map_lookup_elem(&vmr_route_v1, &in.hoa);
  if (!route) return TC_ACT_OK;
  if ((route->flags & VMR_ROUTE_HOLD) && path != VMR_RELEASED) {
    /* Already on its way into the TUN; one the kernel routed there (slow path) counts now. */
    if (path == VMR_KERNEL) return redirected_held ? TC_ACT_OK : vmr_pass(VMR_PASS_HELD);
    if (!cfg->tun_ifindex) return vmr_drop(VMR_DROP_NO_TUN);
    vmr_count(VMR_PASS_HELD);
    skb->mark = VMR_HELD_MARK;
    return (int)bpf_redirect(cfg->tun_ifindex, 0);
  }
  if (!route->peer) return TC_ACT_OK; /* unrouted, in its handover grace: the kernel delivers */
  return vmr_tunnel_out(skb, cfg, &in, l3off, route, path);
}

/* Finds the tunnel overhead of an outer packet addressed to us, or VMR_NOT_TUNNEL, and the
 * inner packet's protocol (4, or 41 for a dual-stack VM's IPv6) in *inner_proto. A verdict
 * (> VMR_NOT_TUNNEL) is returned in *verdict for tunnel packets that end here. */
static __always_inline int vmr_tunnel_overhead(struct __sk_buff* skb, const struct iphdr* outer,
                                               int* verdict, __u8* inner_proto) {
  __u32 ohl = outer->ihl * 4;
  if (outer->protocol == IPPROTO_IPIP || outer->protocol == VMR_IPPROTO_IPV6) {
    if (vmr_is_fragment(outer)) *verdict = vmr_drop(VMR_DROP_FRAGMENT);
    *inner_proto = outer->protocol;
    return (int)ohl;
  }
  if (outer->protocol != IPPROTO_UDP || (outer->frag_off & bpf_htons(VMR_IP_OFFSET))) return VMR_NOT_TUNNEL;
  struct udphdr udp;
  struct vmr_mip_hdr mip;
  if (bpf_skb_load_bytes(skb, ETH_HLEN + ohl, &udp, sizeof(udp)) || udp.dest != bpf_htons(VMR_UDP_PORT) ||
      bpf_skb_load_bytes(skb, ETH_HLEN + ohl + sizeof(udp), &mip, sizeof(mip)) ||
      mip.type != VMR_UDP_TYPE_DATA)
    return VMR_NOT_TUNNEL; /* a registration message (RFC 3519 §3.3): the agent's socket */
  if (vmr_is_fragment(outer))
    *verdict = vmr_drop(VMR_DROP_FRAGMENT);
  else if (mip.next_header != IPPROTO_IPIP && mip.next_header != VMR_IPPROTO_IPV6)
    *verdict = vmr_drop(VMR_DROP_MALFORMED);
  *inner_proto = mip.next_header;
  return (int)(ohl + sizeof(udp) + sizeof(mip));
}

/* bpf_skb_adjust_room flags newer than the uapi header we build against (values from the
 * kernel's enum bpf_adj_room_flags). DECAP_L3_IPV4 (Linux 6.3) only matches skb->protocol to
 * the inner header, which is IPv4 already; DECAP_L3_IPV6 (6.3 too) makes it IPv6, which
 * decapsulating a dual-stack VM's IPv6 needs (the kernel hands the packet to the protocol
 * skb->protocol names). DECAP_IPXIP4 and DECAP_L4_UDP (after 6.18) also
 * clear what the encapsulation left on a GSO skb — skb->encapsulation and the tunnel GSO type
 * (SKB_GSO_IPXIP4, SKB_GSO_UDP_TUNNEL) — as the kernel's own tunnel devices do when they
 * decapsulate. Without them the decapsulated skb still claims to be a tunnel packet: every
 * device on its way whose tunnel offloads (hw_enc_features) lack TSO and checksumming — a
 * bridge, a tap — segments it in software and checksums each segment, and the receiver gets
 * ~45 packets instead of one (docs/dataplane.md "Cost"). */
#define VMR_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define VMR_ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)
#define VMR_ADJ_ROOM_DECAP_L4_UDP (1ULL << 10)
#define VMR_ADJ_ROOM_DECAP_IPXIP4 (1ULL << 11)
#define VMR_EINVAL 22

/* Removes the outer header(s) (`overhead` bytes behind the Ethernet header), keeping GSO:
 * FIXED_GSO keeps gso_size, which counted only the inner payload. With the flags that clear
 * the tunnel state where the kernel has them; a kernel without them refuses unknown flags
 * with -EINVAL before it touches the packet, and then the shrink is done without them. An
 * IPv6 inner packet needs DECAP_L3_IPV6 (Linux 6.3): without it the decapsulation fails. */
static __always_inline long vmr_pop_outer(struct __sk_buff* skb, int overhead, bool udp, bool ipv6) {
  const __u64 keep = BPF_F_ADJ_ROOM_FIXED_GSO | (ipv6 ? VMR_ADJ_ROOM_DECAP_L3_IPV6 : 0);
  const __u64 clear = (ipv6 ? 0 : VMR_ADJ_ROOM_DECAP_L3_IPV4) |
                      (udp ? VMR_ADJ_ROOM_DECAP_L4_UDP : VMR_ADJ_ROOM_DECAP_IPXIP4);
  long rc = bpf_skb_adjust_room(skb, -overhead, BPF_ADJ_ROOM_MAC, keep | clear);
  if (rc == -VMR_EINVAL) rc = bpf_skb_adjust_room(skb, -overhead, BPF_ADJ_ROOM_MAC, keep);
  if (rc || !ipv6) return rc;
  __u16 proto = bpf_htons(ETH_P_IPV6); /* the frame's EtherType follows skb->protocol */
  return bpf_skb_store_bytes(skb, 2 * ETH_ALEN, &proto, sizeof(proto), 0);
}

/* The inner packet of a tunnel packet: its length, and the HoA whose route it must match — the
 * inner source at the HA, the destination at the FA, or for IPv6 the HoA owning that address
 * (0: none, so no binding's). False when the inner header is not a plausible one of `proto`. */
static __always_inline bool vmr_load_tunnelled(struct __sk_buff* skb, __u32 off, __u8 proto, enum vmr_key key,
                                               __u32* len, __u32* hoa) {
  if (proto == VMR_IPPROTO_IPV6) {
    struct ipv6hdr ip6;
    if (!vmr_load_ipv6(skb, off, &ip6)) return false;
    *len = VMR_IPV6_HLEN + bpf_ntohs(ip6.payload_len);
    *hoa = vmr_owner6(key == VMR_KEY_SRC ? &ip6.saddr : &ip6.daddr);
    return true;
  }
  struct iphdr inner;
  if (!vmr_load_ipv4(skb, off, &inner)) return false;
  *len = bpf_ntohs(inner.tot_len);
  *hoa = key == VMR_KEY_SRC ? inner.saddr : inner.daddr;
  return true;
}

/* Decapsulates a tunnel packet addressed to us if it comes from a registered peer and its
 * inner packet belongs to a HoA routed to that peer (the HA checks the inner source, the FA
 * the inner destination; a dual-stack VM's IPv6 address counts as its HoA); the kernel then
 * routes the inner packet. Returns VMR_NOT_TUNNEL for everything else, which the caller
 * handles. */
static __always_inline int vmr_tunnel_in(struct __sk_buff* skb, const struct vmr_config* cfg,
                                         enum vmr_key key) {
  struct iphdr outer;
  if (!vmr_load_ipv4(skb, ETH_HLEN, &outer) || outer.daddr != cfg->local) return VMR_NOT_TUNNEL;
  int verdict = VMR_NOT_TUNNEL;
  __u8 proto = 0;
  int overhead = vmr_tunnel_overhead(skb, &outer, &verdict, &proto);
  if (overhead == VMR_NOT_TUNNEL || verdict != VMR_NOT_TUNNEL) return verdict;
  __u32 peer = outer.saddr;
  if (!bpf_map_lookup_elem(&vmr_peer_v1, &peer)) return vmr_drop(VMR_DROP_UNKNOWN_PEER);
  __u32 inner_len = 0, hoa = 0;
  if (!vmr_load_tunnelled(skb, ETH_HLEN + (__u32)overhead, proto, key, &inner_len, &hoa))
    return vmr_drop(VMR_DROP_MALFORMED);
  if (inner_len + (__u32)overhead != bpf_ntohs(outer.tot_len)) {
    /* A GSO skb whose outer length covers more than its first inner packet holds several
     * datagrams that UDP GRO merged: the agent's UDP 434 socket splits them. (A sender's
     * GSO skb, or an IP-in-IP GRO one, carries one inner packet, lengths consistent, and is
     * decapsulated whole.) */
    if (skb->gso_size && outer.protocol == IPPROTO_UDP) return vmr_pass(VMR_PASS_GRO);
    return vmr_drop(VMR_DROP_MALFORMED);
  }
  const struct vmr_route* route = hoa ? bpf_map_lookup_elem(&vmr_route_v1, &hoa) : NULL;
  if (!route || (route->peer != peer && route->grace_peer != peer)) return vmr_drop(VMR_DROP_PEER_MISMATCH);
  bool ipv6 = proto == VMR_IPPROTO_IPV6;
  if (vmr_pop_outer(skb, overhead, outer.protocol == IPPROTO_UDP, ipv6)) return vmr_drop(VMR_DROP_ENCAP_FAILED);
  vmr_count_rx(peer, hoa, inner_len);
  if (!ipv6 || !cfg->tun_ifindex) return TC_ACT_OK;
  /* A link that carries no IPv6 of its own has it off, and the kernel would discard the
   * inner packet there: it enters through the agent's TUN instead, which has IPv6 on (where
   * the userspace driver writes it too). At the HA it may be for another VM away from home:
   * the mark has the TUN's ingress program tunnel it as one just received. */
  if (key == VMR_KEY_SRC) skb->mark = VMR_DECAP_MARK;
  return (int)bpf_redirect(cfg->tun_ifindex, BPF_F_INGRESS);
}

#endif /* VMROAM_TUNNEL_BPF_H */
