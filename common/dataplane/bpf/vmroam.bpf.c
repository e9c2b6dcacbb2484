// SPDX-License-Identifier: GPL-2.0-or-later
/* vmroam's tc (clsact) programs: one per hook, each a few lines over tunnel.bpf.h.
 * docs/dataplane.md "eBPF" has the life of a packet in each direction.
 *
 *   home agent                              foreign agent
 *   WAN ingress   vmr_ha_wan_in             WAN ingress      vmr_fa_wan_in
 *   home ingress  vmr_ha_home_in            VM-link ingress  vmr_fa_vm_in
 *   TUN egress    vmr_ha_tun_out            TUN egress       vmr_fa_tun_out
 *   TUN ingress   vmr_ha_tun_in
 *
 * Link ingress is the fast path: the packet never enters the kernel's forwarding. The TUN's
 * egress is the slow path for what the fast path leaves to the kernel (TTL expiry, packets
 * over the tunnel MTU, traffic the agent's host sends itself): the agent routes the HoAs into
 * its TUN, so those packets arrive there after ip_forward has done its checks. The TUN's
 * ingress sees what the agent writes back at the end of a handover hold. */
#include "tunnel.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline bool vmr_is_ipv4(struct __sk_buff* skb) {
  return skb->protocol == bpf_htons(ETH_P_IP);
}

/* IPv4, or the IPv6 of a dual-stack VM (RFC 5454), which tunnels inside IPv4. */
static __always_inline bool vmr_is_ip(struct __sk_buff* skb) {
  return vmr_is_ipv4(skb) || skb->protocol == bpf_htons(ETH_P_IPV6);
}

/* HA, WAN: reverse-tunnelled packets from care-of addresses (RFC 3024 §4.2) are
 * decapsulated; correspondents' packets for a HoA away from home, or for one of its VM's IPv6
 * home addresses, are tunnelled (RFC 5944 §4.2.3); everything else passes untouched. */
SEC("tc")
int vmr_ha_wan_in(struct __sk_buff* skb) {
  const struct vmr_config* cfg = vmr_config();
  if (!cfg || !vmr_is_ip(skb)) return TC_ACT_OK;
  if (vmr_is_ipv4(skb)) {
    int verdict = vmr_tunnel_in(skb, cfg, VMR_KEY_SRC);
    if (verdict != VMR_NOT_TUNNEL) return verdict;
  }
  return vmr_route_packet(skb, cfg, ETH_HLEN, VMR_KEY_DST, VMR_FAST);
}

/* HA, home link: hosts at home sending to a HoA that is away (the HA answers ARP for it). */
SEC("tc")
int vmr_ha_home_in(struct __sk_buff* skb) {
  const struct vmr_config* cfg = vmr_config();
  if (!cfg || !vmr_is_ip(skb)) return TC_ACT_OK;
  return vmr_route_packet(skb, cfg, ETH_HLEN, VMR_KEY_DST, VMR_FAST);
}

/* HA, TUN egress: the kernel routed a HoA's packet into the TUN (slow path). Held HoAs stay
 * in the TUN's queue for the agent, and so do tapped copies (vmr_tap). */
SEC("tc")
int vmr_ha_tun_out(struct __sk_buff* skb) {
  const struct vmr_config* cfg = vmr_config();
  if (!cfg || !vmr_is_ip(skb) || skb->mark == VMR_TAP_MARK) return TC_ACT_OK;
  return vmr_route_packet(skb, cfg, 0, VMR_KEY_DST, VMR_KERNEL);
}

/* HA, TUN ingress: the agent releases a hold by writing the queued packets back into the
 * TUN; they go to the HoA's new care-of address, or (no route: the VM came home) on to the
 * kernel, which delivers them on the home link. Decapsulated IPv6 enters here too (marked by
 * vmr_tunnel_in): a packet like any the WAN brings, held or tunnelled if it is for a VM away. */
SEC("tc")
int vmr_ha_tun_in(struct __sk_buff* skb) {
  const struct vmr_config* cfg = vmr_config();
  if (!cfg || !vmr_is_ip(skb)) return TC_ACT_OK;
  if (skb->mark == VMR_DECAP_MARK) {
    skb->mark = 0;
    return vmr_route_packet(skb, cfg, 0, VMR_KEY_DST, VMR_FAST);
  }
  return vmr_route_packet(skb, cfg, 0, VMR_KEY_DST, VMR_RELEASED);
}

/* FA, WAN: packets for a visitor from its home agent are decapsulated; the kernel delivers
 * them to the VM over its host route (RFC 5944 §4.2.2). */
SEC("tc")
int vmr_fa_wan_in(struct __sk_buff* skb) {
  const struct vmr_config* cfg = vmr_config();
  if (!cfg || !vmr_is_ipv4(skb)) return TC_ACT_OK;
  int verdict = vmr_tunnel_in(skb, cfg, VMR_KEY_DST);
  return verdict == VMR_NOT_TUNNEL ? TC_ACT_OK : verdict;
}

/* True for a destination the FA itself answers: broadcast, multicast, or one of its own
 * addresses (the FIB says "not forwarded"). Those are not reverse-tunnelled. */
static __always_inline bool vmr_for_us(struct __sk_buff* skb, const struct iphdr* ip) {
  __u32 dst = bpf_ntohl(ip->daddr);
  if ((dst >> 28) == 0xe || dst == 0xffffffffu) return true;
  struct bpf_fib_lookup fib = {};
  fib.family = VMR_AF_INET;
  fib.tos = ip->tos;
  fib.l4_protocol = ip->protocol;
  fib.ipv4_src = ip->saddr;
  fib.ipv4_dst = ip->daddr;
  fib.ifindex = skb->ifindex;
  return bpf_fib_lookup(skb, &fib, sizeof(fib), 0) == BPF_FIB_LKUP_RET_NOT_FWDED;
}

/* The same for IPv6: multicast (the VM's neighbour discovery and MLD), link-local (never
 * forwarded, RFC 4291 §2.5.6), or one of the FA's own addresses. */
static __always_inline bool vmr_for_us6(struct __sk_buff* skb, const struct ipv6hdr* ip6) {
  const __u8* dst = ip6->daddr.s6_addr;
  if (dst[0] == 0xff || (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80)) return true;
  struct bpf_fib_lookup fib = {};
  fib.family = VMR_AF_INET6;
  fib.l4_protocol = ip6->nexthdr;
  __builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
  __builtin_memcpy(fib.ipv6_dst, &ip6->daddr, sizeof(fib.ipv6_dst));
  fib.ifindex = skb->ifindex;
  return bpf_fib_lookup(skb, &fib, sizeof(fib), 0) == BPF_FIB_LKUP_RET_NOT_FWDED;
}

/* A visitor's packet (by its IPv4 source, or an IPv6 source that is one of its VM's home
 * addresses) that is for the FA itself: -1 when the packet is no visitor's at all. */
static __always_inline int vmr_visitor_local(struct __sk_buff* skb) {
  if (vmr_is_ipv4(skb)) {
    struct iphdr ip;
    if (!vmr_load_ipv4(skb, ETH_HLEN, &ip)) return -1;
    __u32 hoa = ip.saddr;
    const struct vmr_route* route = bpf_map_lookup_elem(&vmr_route_v1, &hoa);
    if (!route || !route->peer) return -1;
    return vmr_for_us(skb, &ip);
  }
  struct ipv6hdr ip6;
  if (!vmr_load_ipv6(skb, ETH_HLEN, &ip6)) return -1;
  __u32 hoa = vmr_owner6(&ip6.saddr);
  const struct vmr_route* route = hoa ? bpf_map_lookup_elem(&vmr_route_v1, &hoa) : NULL;
  if (!route || !route->peer) return -1;
  return vmr_for_us6(skb, &ip6);
}

/* FA, VM link: a visitor's packets are reverse-tunnelled to its home agent (RFC 3024 §5.2),
 * chosen by the inner source (IPv4 HoA, or one of the VM's IPv6 home addresses); packets to
 * the FA itself pass. */
SEC("tc")
int vmr_fa_vm_in(struct __sk_buff* skb) {
  const struct vmr_config* cfg = vmr_config();
  if (!cfg || !vmr_is_ip(skb)) return TC_ACT_OK;
  int local = vmr_visitor_local(skb);
  if (local < 0) return TC_ACT_OK;
  if (local) return vmr_pass(VMR_PASS_LOCAL);
  return vmr_route_packet(skb, cfg, ETH_HLEN, VMR_KEY_SRC, VMR_FAST);
}

/* FA, TUN egress: a visitor's packet the kernel forwarded (slow path) into the TUN. */
SEC("tc")
int vmr_fa_tun_out(struct __sk_buff* skb) {
  const struct vmr_config* cfg = vmr_config();
  if (!cfg || !vmr_is_ip(skb)) return TC_ACT_OK;
  return vmr_route_packet(skb, cfg, 0, VMR_KEY_SRC, VMR_KERNEL);
}
