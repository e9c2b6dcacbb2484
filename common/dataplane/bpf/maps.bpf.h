/* Every map the programs use, declared once (names and structs: vmroam_bpf_shared.h). All are
 * pinned by name under the loader's bpffs directory, so a restarted agent finds them again. */
#ifndef VMROAM_MAPS_BPF_H
#define VMROAM_MAPS_BPF_H

#include <linux/bpf.h>
/* libbpf's headers need the kernel's types first */
#include <bpf/bpf_helpers.h>

#include "vmroam_bpf_shared.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct vmr_config);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} vmr_cfg_v1 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VMR_MAX_PEERS);
  __type(key, __u32);
  __type(value, struct vmr_peer);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} vmr_peer_v1 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VMR_MAX_ROUTES);
  __type(key, __u32);
  __type(value, struct vmr_route);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} vmr_route_v1 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, VMR_MAX_ADDRS6);
  __type(key, struct vmr_addr6);
  __type(value, __u32);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} vmr_addr6_v1 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, VMR_MAX_PEERS);
  __type(key, __u32);
  __type(value, struct vmr_traffic);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} vmr_peer_st_v1 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, VMR_MAX_ROUTES);
  __type(key, __u32);
  __type(value, struct vmr_traffic);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} vmr_hoa_st_v1 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, VMR_COUNTER_MAX);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} vmr_cnt_v2 SEC(".maps");

#endif /* VMROAM_MAPS_BPF_H */
