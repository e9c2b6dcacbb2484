/* Encapsulation (RFC 2003 IP-in-IP, RFC 3519 UDP) and decapsulation for the tc programs.
 *
 * Outer header policy (RFC 2003 §3.1, docs/dataplane.md "eBPF"): TOS copied from the inner
 * header (ECN included, RFC 6040 normal mode); DF copied (§5.1: the outer is never fragmented
 * by us); TTL from the agent's config; ID random per packet (segmentation increments it per
 * segment); RFC 3519 UDP from port 434 to the peer's port with checksum 0 (§3.1 allows it,
 * and nothing would recompute a checksum per GSO segment) and the 4-byte data header
 * 04 04 00 00 (type 4, next header IPv4).
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

static __always_inline void vmr_build_outer(struct vmr_outer* o, const struct vmr_config* cfg,
                                            const struct iphdr* inner, __u32 peer, const struct vmr_peer* p,
                                            __u32 outer_len) {
  bool udp = p->encap == VMR_ENCAP_UDP;
  o->ip.version = 4;
  o->ip.ihl = 5;
  o->ip.tos = inner->tos;
  o->ip.tot_len = bpf_htons(outer_len > 0xffff ? 0xffff : (__u16)outer_len);
  o->ip.id = (__u16)bpf_get_prandom_u32();
  o->ip.frag_off = inner->frag_off & bpf_htons(VMR_IP_DF);
  o->ip.ttl = cfg->ttl ? cfg->ttl : 64;
  o->ip.protocol = udp ? IPPROTO_UDP : IPPROTO_IPIP;
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
  o->mip.next_header = IPPROTO_IPIP; /* the payload is IPv4: protocol number 4 */
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

/* Tunnels the IPv4 packet at `l3off` (0 on the TUN, an L3 device; ETH_HLEN elsewhere) to
 * the peer of `route`. `hoa` is the key the route was found under. */
static __always_inline int vmr_tunnel_out(struct __sk_buff* skb, const struct vmr_config* cfg,
                                          const struct iphdr* ip, __u32 l3off, __u32 hoa,
                                          const struct vmr_route* route, enum vmr_path path) {
  __u32 peer_addr = route->peer;
  const struct vmr_peer* p = bpf_map_lookup_elem(&vmr_peer_v1, &peer_addr);
  if (!p) return vmr_drop(VMR_DROP_NO_ENDPOINT);
  bool udp = p->encap == VMR_ENCAP_UDP;
  __u32 inner_len = skb->len - l3off;
  __u32 outer_len = inner_len + (udp ? VMR_UDP_OVERHEAD : VMR_IPIP_OVERHEAD);
  if (path == VMR_FAST) {
    /* What ip_forward would refuse goes to it: it answers Time Exceeded, Fragmentation
     * Needed (with the TUN's MTU, the tunnel MTU) or fragments, then routes the packet into
     * the TUN, whose egress program tunnels it. */
    if (ip->ttl <= 1) return vmr_pass(VMR_PASS_TTL);
    if (vmr_segment_len(skb, ip, l3off) > cfg->tunnel_mtu) return vmr_pass(VMR_PASS_TOO_BIG);
  }
  struct bpf_fib_lookup fib;
  long rc = vmr_route_outer(skb, &fib, cfg, peer_addr, udp, outer_len);
  if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
    return path == VMR_FAST ? vmr_pass(VMR_PASS_TOO_BIG) : vmr_drop(VMR_DROP_TOO_BIG);
  if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) return vmr_drop(VMR_DROP_NO_ROUTE);
  if (path == VMR_FAST && vmr_decrement_ttl(skb, l3off, ip)) return vmr_drop(VMR_DROP_ENCAP_FAILED);
  if (l3off == 0) {
    /* An L3 skb (TUN): give it an Ethernet header to redirect it to an Ethernet device. */
    __u16 proto = bpf_htons(ETH_P_IP);
    if (bpf_skb_change_head(skb, ETH_HLEN, 0) || bpf_skb_store_bytes(skb, 2 * ETH_ALEN, &proto, 2, 0))
      return vmr_drop(VMR_DROP_ENCAP_FAILED);
  }
  /* Copies what is tunnelled now, the TTL as the peer sees it; not what a hold releases
   * (the recording already has it). */
  if ((route->flags & VMR_ROUTE_TAP) && path != VMR_RELEASED) vmr_tap(skb, cfg);
  struct vmr_outer o;
  vmr_build_outer(&o, cfg, ip, peer_addr, p, outer_len);
  if (vmr_push_outer(skb, &o, udp)) return vmr_drop(VMR_DROP_ENCAP_FAILED);
  vmr_count_tx(peer_addr, hoa, outer_len);
  return vmr_send(skb, &fib, rc);
}

/* The outbound decision for the IPv4 packet at `l3off`: not a routed HoA → pass untouched;
 * held → the TUN (the agent queues it); otherwise tunnelled. */
static __always_inline int vmr_route_packet(struct __sk_buff* skb, const struct vmr_config* cfg, __u32 l3off,
                                            enum vmr_key key, enum vmr_path path) {
  struct iphdr ip;
  if (!vmr_load_ipv4(skb, l3off, &ip)) return TC_ACT_OK;
  __u32 hoa = key == VMR_KEY_DST ? ip.daddr : ip.saddr;
  const struct vmr_route* route = bpf_map_lookup_elem(&vmr_route_v1, &hoa);
  if (!route) return TC_ACT_OK;
  if ((route->flags & VMR_ROUTE_HOLD) && path != VMR_RELEASED) {
    if (path == VMR_KERNEL) return vmr_pass(VMR_PASS_HELD); /* already on its way into the TUN */
    if (!cfg->tun_ifindex) return vmr_drop(VMR_DROP_NO_TUN);
    vmr_count(VMR_PASS_HELD);
    return (int)bpf_redirect(cfg->tun_ifindex, 0);
  }
  if (!route->peer) return TC_ACT_OK; /* unrouted, in its handover grace: the kernel delivers */
  return vmr_tunnel_out(skb, cfg, &ip, l3off, hoa, route, path);
}

/* Finds the tunnel overhead of an outer packet addressed to us, or VMR_NOT_TUNNEL. A verdict
 * (> VMR_NOT_TUNNEL) is returned in *verdict for tunnel packets that end here. */
static __always_inline int vmr_tunnel_overhead(struct __sk_buff* skb, const struct iphdr* outer,
                                               int* verdict) {
  __u32 ohl = outer->ihl * 4;
  if (outer->protocol == IPPROTO_IPIP) {
    if (vmr_is_fragment(outer)) *verdict = vmr_drop(VMR_DROP_FRAGMENT);
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
  else if (mip.next_header != IPPROTO_IPIP)
    *verdict = vmr_drop(VMR_DROP_MALFORMED);
  return (int)(ohl + sizeof(udp) + sizeof(mip));
}

/* bpf_skb_adjust_room flags newer than the uapi header we build against (values from the
 * kernel's enum bpf_adj_room_flags). DECAP_L3_IPV4 (Linux 6.3) only matches skb->protocol to
 * the inner header, which is IPv4 already. DECAP_IPXIP4 and DECAP_L4_UDP (after 6.18) also
 * clear what the encapsulation left on a GSO skb — skb->encapsulation and the tunnel GSO type
 * (SKB_GSO_IPXIP4, SKB_GSO_UDP_TUNNEL) — as the kernel's own tunnel devices do when they
 * decapsulate. Without them the decapsulated skb still claims to be a tunnel packet: every
 * device on its way whose tunnel offloads (hw_enc_features) lack TSO and checksumming — a
 * bridge, a tap — segments it in software and checksums each segment, and the receiver gets
 * ~45 packets instead of one (docs/dataplane.md "Cost"). */
#define VMR_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define VMR_ADJ_ROOM_DECAP_L4_UDP (1ULL << 10)
#define VMR_ADJ_ROOM_DECAP_IPXIP4 (1ULL << 11)
#define VMR_EINVAL 22

/* Removes the outer header(s) (`overhead` bytes behind the Ethernet header), keeping GSO:
 * FIXED_GSO keeps gso_size, which counted only the inner payload. With the flags that clear
 * the tunnel state where the kernel has them; a kernel without them refuses unknown flags
 * with -EINVAL before it touches the packet, and then the plain shrink is done. */
static __always_inline long vmr_pop_outer(struct __sk_buff* skb, int overhead, bool udp) {
  const __u64 keep = BPF_F_ADJ_ROOM_FIXED_GSO;
  const __u64 clear = VMR_ADJ_ROOM_DECAP_L3_IPV4 | (udp ? VMR_ADJ_ROOM_DECAP_L4_UDP : VMR_ADJ_ROOM_DECAP_IPXIP4);
  long rc = bpf_skb_adjust_room(skb, -overhead, BPF_ADJ_ROOM_MAC, keep | clear);
  if (rc == -VMR_EINVAL) rc = bpf_skb_adjust_room(skb, -overhead, BPF_ADJ_ROOM_MAC, keep);
  return rc;
}

/* Decapsulates a tunnel packet addressed to us if it comes from a registered peer and its
 * inner packet belongs to a HoA routed to that peer (the HA checks the inner source, the FA
 * the inner destination); the kernel then routes the inner packet. Returns VMR_NOT_TUNNEL
 * for everything else, which the caller handles. */
static __always_inline int vmr_tunnel_in(struct __sk_buff* skb, const struct vmr_config* cfg,
                                         enum vmr_key key) {
  struct iphdr outer, inner;
  if (!vmr_load_ipv4(skb, ETH_HLEN, &outer) || outer.daddr != cfg->local) return VMR_NOT_TUNNEL;
  int verdict = VMR_NOT_TUNNEL;
  int overhead = vmr_tunnel_overhead(skb, &outer, &verdict);
  if (overhead == VMR_NOT_TUNNEL || verdict != VMR_NOT_TUNNEL) return verdict;
  __u32 peer = outer.saddr;
  if (!bpf_map_lookup_elem(&vmr_peer_v1, &peer)) return vmr_drop(VMR_DROP_UNKNOWN_PEER);
  if (!vmr_load_ipv4(skb, ETH_HLEN + (__u32)overhead, &inner)) return vmr_drop(VMR_DROP_MALFORMED);
  if (bpf_ntohs(inner.tot_len) + (__u32)overhead != bpf_ntohs(outer.tot_len)) {
    /* A GSO skb whose outer length covers more than its first inner packet holds several
     * datagrams that UDP GRO merged: the agent's UDP 434 socket splits them. (A sender's
     * GSO skb, or an IP-in-IP GRO one, carries one inner packet, lengths consistent, and is
     * decapsulated whole.) */
    if (skb->gso_size && outer.protocol == IPPROTO_UDP) return vmr_pass(VMR_PASS_GRO);
    return vmr_drop(VMR_DROP_MALFORMED);
  }
  __u32 hoa = key == VMR_KEY_SRC ? inner.saddr : inner.daddr;
  const struct vmr_route* route = bpf_map_lookup_elem(&vmr_route_v1, &hoa);
  if (!route || (route->peer != peer && route->grace_peer != peer)) return vmr_drop(VMR_DROP_PEER_MISMATCH);
  if (vmr_pop_outer(skb, overhead, outer.protocol == IPPROTO_UDP)) return vmr_drop(VMR_DROP_ENCAP_FAILED);
  vmr_count_rx(peer, hoa, bpf_ntohs(inner.tot_len));
  return TC_ACT_OK;
}

#endif /* VMROAM_TUNNEL_BPF_H */
