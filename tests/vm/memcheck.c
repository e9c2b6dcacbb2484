/* vmroam-memcheck: the test guest's memory integrity check (docs/testing.md, "Guest integrity").
 *
 * In the guest (started by /init when the kernel command line has vmroam.memcheck=SEED:MIB):
 *
 *   vmroam-memcheck SEED MIB [PERIOD_MS]
 *
 * fills MIB MiB of anonymous memory with a pattern derived from SEED, prints
 * "vmroam-memcheck seeded seed=SEED mib=MIB chunks=N sum=HEX", at nice 19, then every
 * PERIOD_MS (1000; the guest's /init hook passes 2000)
 * runs one round R = 1, 2, …: it rewrites one chunk (chunk mod N, its generation + 1, so
 * that the region keeps a few dirty pages through every migration pass) and verifies the whole
 * region against the pattern, printing "vmroam-memcheck ok round=R sum=HEX" or
 * "vmroam-memcheck BAD round=R chunk=C word=W" (the first wrong 8-byte word). A page that a
 * migration lost, duplicated or left stale fails the round that follows.
 *
 * The busy writer (vmroam.membusy=SEED:KIB), a reproduction of lost guest stores:
 *
 *   vmroam-memcheck --busy SEED KIB
 *
 * rewrites KIB KiB without pause, sweep after sweep (every word of sweep G is a function of
 * SEED, its index and G), at nice 10, and after each sweep verifies that every word holds sweep
 * G. A page whose latest stores a migration did not carry holds an older sweep at the
 * destination, and the sweep in progress at the switchover fails: "vmroam-memcheck BAD busy
 * sweep=G page=P". Every 2 s it prints "vmroam-memcheck busy ok sweeps=G". The region is kept
 * small (256 KiB) so that its pages stay in the vCPU's TLB between context switches: this is
 * what QEMU before 9.0 under TCG loses (docs/migration.md, "A tighter downtime-limit, and guests
 * that break").
 *
 * On the host:   vmroam-memcheck --expect SEED MIB ROUND
 * prints the sum the guest must show after round ROUND (0: the seeded fill), so that the test
 * compares the guest's checksum with one it computed itself.
 *
 * Pattern: chunk c at generation g is a xorshift64* stream seeded by splitmix64 of
 * (SEED, c, g); the sum is FNV-1a over the region's 64-bit words. Static, no libc beyond stdio.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#define CHUNK_BYTES (16u * 1024u) /* 4 pages rewritten per round */
#define WORDS (CHUNK_BYTES / 8u)

static uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static uint64_t stream_seed(uint64_t seed, uint64_t chunk, uint64_t gen) {
  uint64_t s = splitmix64(seed ^ splitmix64((chunk << 20) ^ gen));
  return s ? s : 1;
}

static uint64_t next_word(uint64_t* s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545f4914f6cdd1dull;
}

static void fill_chunk(uint64_t* p, uint64_t seed, uint64_t chunk, uint64_t gen) {
  uint64_t s = stream_seed(seed, chunk, gen);
  for (unsigned i = 0; i < WORDS; i++) p[i] = next_word(&s);
}

static uint64_t fnv(uint64_t h, uint64_t w) { return (h ^ w) * 0x100000001b3ull; }

#define FNV_BASIS 0xcbf29ce484222325ull

/* Verifies chunk c against generation g, folding it into *sum; the first bad word, or -1. */
static long check_chunk(const uint64_t* p, uint64_t seed, uint64_t chunk, uint64_t gen, uint64_t* sum) {
  uint64_t s = stream_seed(seed, chunk, gen);
  long bad = -1;
  for (unsigned i = 0; i < WORDS; i++) {
    uint64_t want = next_word(&s);
    if (p[i] != want && bad < 0) bad = (long)i;
    *sum = fnv(*sum, p[i]);
  }
  return bad;
}

/* Generation of chunk c after `round` rounds (round r rewrites chunk (r-1) mod n). */
static uint64_t gen_after(uint64_t c, uint64_t n, uint64_t round) {
  return round > c ? (round - 1 - c) / n + 1 : 0;
}

static uint64_t expected_sum(uint64_t seed, uint64_t n, uint64_t round) {
  uint64_t sum = FNV_BASIS;
  for (uint64_t c = 0; c < n; c++) {
    uint64_t s = stream_seed(seed, c, gen_after(c, n, round));
    for (unsigned i = 0; i < WORDS; i++) sum = fnv(sum, next_word(&s));
  }
  return sum;
}

static int usage(void) {
  fprintf(stderr, "usage: vmroam-memcheck SEED MIB [PERIOD_MS] | --expect SEED MIB ROUND\n");
  return 2;
}

static void sleep_ms(unsigned ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

static uint64_t busy_word(uint64_t seed, uint64_t index, uint64_t sweep) {
  return splitmix64(seed ^ (index << 24) ^ sweep);
}

static int busy(uint64_t seed, uint64_t kib) {
  uint64_t words = kib * 1024 / 8;
  uint64_t* region = mmap(0, kib * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED || words == 0) {
    printf("vmroam-memcheck BAD busy: cannot allocate %llu KiB\n", (unsigned long long)kib);
    return 1;
  }
  setvbuf(stdout, 0, _IOLBF, 0);
  if (setpriority(PRIO_PROCESS, 0, 10) != 0) printf("vmroam-memcheck note: setpriority failed\n");
  printf("vmroam-memcheck busy started seed=%llu kib=%llu\n", (unsigned long long)seed, (unsigned long long)kib);
  struct timespec last, now;
  clock_gettime(CLOCK_MONOTONIC, &last);
  for (uint64_t sweep = 1;; sweep++) {
    for (uint64_t i = 0; i < words; i++) region[i] = busy_word(seed, i, sweep);
    for (uint64_t i = 0; i < words; i++) {
      if (region[i] == busy_word(seed, i, sweep)) continue;
      printf("vmroam-memcheck BAD busy sweep=%llu page=%llu word=%llu\n", (unsigned long long)sweep,
             (unsigned long long)(i * 8 / 4096), (unsigned long long)i);
      break;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - last.tv_sec >= 2) {
      printf("vmroam-memcheck busy ok sweeps=%llu\n", (unsigned long long)sweep);
      last = now;
    }
  }
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "--busy") == 0) return busy(strtoull(argv[2], 0, 10), strtoull(argv[3], 0, 10));
  if (argc == 5 && strcmp(argv[1], "--expect") == 0) {
    uint64_t seed = strtoull(argv[2], 0, 10), mib = strtoull(argv[3], 0, 10), round = strtoull(argv[4], 0, 10);
    if (mib == 0) return usage();
    printf("%016llx\n", (unsigned long long)expected_sum(seed, mib * 1024 * 1024 / CHUNK_BYTES, round));
    return 0;
  }
  if (argc < 3 || argc > 4) return usage();
  uint64_t seed = strtoull(argv[1], 0, 10), mib = strtoull(argv[2], 0, 10);
  unsigned period = argc == 4 ? (unsigned)strtoul(argv[3], 0, 10) : 1000;
  if (mib == 0 || period == 0) return usage();
  uint64_t n = mib * 1024 * 1024 / CHUNK_BYTES;
  uint64_t* region = mmap(0, mib * 1024 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint64_t* gen = calloc(n, sizeof *gen);
  if (region == MAP_FAILED || !gen) {
    printf("vmroam-memcheck BAD cannot allocate %llu MiB\n", (unsigned long long)mib);
    return 1;
  }
  setvbuf(stdout, 0, _IOLBF, 0);
  /* The guest's other work first: its serial tick loop, whose gaps the vm tests bound, was
   * delayed by up to 3 s by these reads on a loaded host under TCG. */
  if (setpriority(PRIO_PROCESS, 0, 19) != 0) printf("vmroam-memcheck note: setpriority failed\n");
  uint64_t sum = FNV_BASIS;
  for (uint64_t c = 0; c < n; c++) {
    fill_chunk(region + c * WORDS, seed, c, 0);
    check_chunk(region + c * WORDS, seed, c, 0, &sum);
  }
  printf("vmroam-memcheck seeded seed=%llu mib=%llu chunks=%llu sum=%016llx\n", (unsigned long long)seed,
         (unsigned long long)mib, (unsigned long long)n, (unsigned long long)sum);
  for (uint64_t round = 1;; round++) {
    sleep_ms(period);
    uint64_t c = (round - 1) % n;
    fill_chunk(region + c * WORDS, seed, c, ++gen[c]);
    sum = FNV_BASIS;
    long bad_word = -1;
    uint64_t bad_chunk = 0;
    for (uint64_t k = 0; k < n; k++) {
      long b = check_chunk(region + k * WORDS, seed, k, gen[k], &sum);
      if (b >= 0 && bad_word < 0) {
        bad_word = b;
        bad_chunk = k;
      }
    }
    if (bad_word >= 0)
      printf("vmroam-memcheck BAD round=%llu chunk=%llu word=%ld\n", (unsigned long long)round,
             (unsigned long long)bad_chunk, bad_word);
    else
      printf("vmroam-memcheck ok round=%llu sum=%016llx\n", (unsigned long long)round, (unsigned long long)sum);
  }
}
