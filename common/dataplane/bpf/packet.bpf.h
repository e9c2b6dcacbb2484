/* Packet helpers shared by every program: header loads (IPv4, and the IPv6 of dual-stack VMs),
 * the IPv4 header checksum, counters.
 * Headers are copied out with bpf_skb_load_bytes (works on non-linear skbs, e.g. GRO'd ones,
 * and keeps the verifier's job simple); packets are changed with the skb helpers only. */
#ifndef VMROAM_PACKET_BPF_H
#define VMROAM_PACKET_BPF_H

#include <linux/bpf.h>
/* libbpf's headers need the kernel's types first */
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <stddef.h>

#include "maps.bpf.h"

#define VMR_IP_DF 0x4000
#define VMR_IP_MF 0x2000
#define VMR_IP_OFFSET 0x1fff
#define VMR_AF_INET 2 /* <sys/socket.h> is not for BPF targets */
#define VMR_AF_INET6 10
#define VMR_IPV6_HLEN 40 /* the fixed header (RFC 8200 §3) */

/* The RFC 3519 tunnel data header. */
struct vmr_mip_hdr {
  __u8 type;
  __u8 next_header;
  __u16 reserved;
};

static __always_inline void vmr_count(__u32 counter) {
  __u64* v = bpf_map_lookup_elem(&vmr_cnt_v2, &counter);
  if (v) *v += 1; /* per-CPU: no atomics needed */
}

static __always_inline int vmr_drop(__u32 counter) {
  vmr_count(counter);
  return TC_ACT_SHOT;
}

static __always_inline int vmr_pass(__u32 counter) {
  vmr_count(counter);
  return TC_ACT_OK;
}

/* The agent creates the entries with the endpoint or route; a missing one (e.g. after a map
 * was cleared by hand) is created here so that nothing goes uncounted. */
static __always_inline struct vmr_traffic* vmr_traffic(void* map, __u32 key) {
  struct vmr_traffic* t = bpf_map_lookup_elem(map, &key);
  if (t) return t;
  struct vmr_traffic zero = {};
  bpf_map_update_elem(map, &key, &zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(map, &key);
}

static __always_inline void vmr_count_tx(__u32 peer, __u32 hoa, __u64 bytes) {
  struct vmr_traffic* t = vmr_traffic(&vmr_peer_st_v1, peer);
  if (t) {
    t->tx_packets++;
    t->tx_bytes += bytes;
  }
  t = vmr_traffic(&vmr_hoa_st_v1, hoa);
  if (t) {
    t->tx_packets++;
    t->tx_bytes += bytes;
  }
}

static __always_inline void vmr_count_rx(__u32 peer, __u32 hoa, __u64 bytes) {
  struct vmr_traffic* t = vmr_traffic(&vmr_peer_st_v1, peer);
  if (t) {
    t->rx_packets++;
    t->rx_bytes += bytes;
  }
  t = vmr_traffic(&vmr_hoa_st_v1, hoa);
  if (t) {
    t->rx_packets++;
    t->rx_bytes += bytes;
  }
}

/* The agent's configuration, or NULL until the agent has written it. */
static __always_inline const struct vmr_config* vmr_config(void) {
  __u32 zero = 0;
  const struct vmr_config* c = bpf_map_lookup_elem(&vmr_cfg_v1, &zero);
  return c && c->local ? c : NULL;
}

/* Copies the IPv4 header at `off`; false unless it is plausible (version 4, IHL >= 5, a
 * total length that covers the header). Options are not copied. */
static __always_inline bool vmr_load_ipv4(struct __sk_buff* skb, __u32 off, struct iphdr* ip) {
  if (bpf_skb_load_bytes(skb, off, ip, sizeof(*ip))) return false;
  return ip->version == 4 && ip->ihl >= 5 && bpf_ntohs(ip->tot_len) >= ip->ihl * 4;
}

static __always_inline bool vmr_is_fragment(const struct iphdr* ip) {
  return (ip->frag_off & bpf_htons(VMR_IP_MF | VMR_IP_OFFSET)) != 0;
}

/* RFC 1071 checksum of a 20-byte IPv4 header whose check field is 0. */
static __always_inline __u16 vmr_ip_checksum(struct iphdr* ip) {
  __u32 sum = (__u32)bpf_csum_diff(0, 0, (__be32*)ip, sizeof(*ip), 0);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)~sum;
}

/* The largest IP packet this skb becomes on the wire: its length, or for a GSO skb one
 * segment (gso_size of payload behind the IP and TCP/UDP headers). */
static __always_inline __u32 vmr_segment_len(struct __sk_buff* skb, const struct iphdr* ip, __u32 l3off) {
  if (!skb->gso_size) return bpf_ntohs(ip->tot_len);
  __u32 hl = ip->ihl * 4;
  if (ip->protocol == IPPROTO_TCP) {
    __u8 doff = 0;
    if (bpf_skb_load_bytes(skb, l3off + hl + 12, &doff, 1)) return 0xffff;
    hl += (doff >> 4) * 4;
  } else if (ip->protocol == IPPROTO_UDP) {
    hl += sizeof(struct udphdr);
  }
  return hl + skb->gso_size;
}

/* Copies the IPv6 fixed header at `off`; false unless its version is 6. */
static __always_inline bool vmr_load_ipv6(struct __sk_buff* skb, __u32 off, struct ipv6hdr* ip6) {
  if (bpf_skb_load_bytes(skb, off, ip6, sizeof(*ip6))) return false;
  return ip6->version == 6;
}

static __always_inline __u8 vmr_traffic_class(const struct ipv6hdr* ip6) {
  return (__u8)(ip6->priority << 4 | ip6->flow_lbl[0] >> 4);
}

/* The IPv4 HoA that owns an IPv6 home address (vmr_addr6_v1), 0 for none. */
static __always_inline __u32 vmr_owner6(const struct in6_addr* a) {
  struct vmr_addr6 key;
  __builtin_memcpy(key.addr, a, sizeof(key.addr));
  const __u32* hoa = bpf_map_lookup_elem(&vmr_addr6_v1, &key);
  return hoa ? *hoa : 0;
}

/* vmr_segment_len for IPv6: the packet, or for a GSO skb one segment. Extension headers are
 * not walked: a GSO skb is TCP or UDP right behind the fixed header (the kernel builds them). */
static __always_inline __u32 vmr_segment_len6(struct __sk_buff* skb, const struct ipv6hdr* ip6, __u32 l3off) {
  if (!skb->gso_size) return VMR_IPV6_HLEN + bpf_ntohs(ip6->payload_len);
  __u32 hl = VMR_IPV6_HLEN;
  if (ip6->nexthdr == IPPROTO_TCP) {
    __u8 doff = 0;
    if (bpf_skb_load_bytes(skb, l3off + hl + 12, &doff, 1)) return 0xffff;
    hl += (doff >> 4) * 4;
  } else if (ip6->nexthdr == IPPROTO_UDP) {
    hl += sizeof(struct udphdr);
  }
  return hl + skb->gso_size;
}

/* Decrements the TTL of the IPv4 header at `l3off` and patches its checksum (RFC 1624). */
static __always_inline int vmr_decrement_ttl(struct __sk_buff* skb, __u32 l3off, const struct iphdr* ip) {
  __u16 old = bpf_htons((__u16)(ip->ttl << 8 | ip->protocol));
  __u16 new = bpf_htons((__u16)((ip->ttl - 1) << 8 | ip->protocol));
  __u8 ttl = ip->ttl - 1;
  if (bpf_skb_store_bytes(skb, l3off + offsetof(struct iphdr, ttl), &ttl, 1, 0)) return -1;
  return (int)bpf_l3_csum_replace(skb, l3off + offsetof(struct iphdr, check), old, new, sizeof(new));
}

#endif /* VMROAM_PACKET_BPF_H */
