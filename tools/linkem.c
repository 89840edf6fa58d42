// A bad network link, emulated where the kernel has no netem qdisc:
// packets that netfilter hands to an NFQUEUE are held for a fixed delay and
// then let through, in their order, and a fraction of them is dropped.
//
//   linkem --queue N --delay-ms D --loss P [--seed S]
//
// tools/cluster badlink starts it inside a host's network namespace with
// iptables rules that queue the host's traffic on its link (both
// directions), and ends it by its pid. It runs until SIGTERM or SIGINT.
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum { HELD_MAX = 1 << 16 };

typedef struct {
  uint32_t id;
  double due;
} held_t;

typedef struct {
  struct nfq_q_handle *queue;
  double delay_s;
  double loss;
  uint64_t rng;
  held_t held[HELD_MAX];  // a ring, in arrival order: every due is later
  size_t head, count;
  uint64_t passed, dropped;
} link_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// splitmix64: a uniform draw in [0, 1) per packet.
static double uniform(link_t *l) {
  uint64_t z = (l->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) * 0x1.0p-53;
}

static int on_packet(struct nfq_q_handle *queue, struct nfgenmsg *msg,
                     struct nfq_data *data, void *arg) {
  (void)msg;
  link_t *l = arg;
  struct nfqnl_msg_packet_hdr *hdr = nfq_get_msg_packet_hdr(data);
  if (hdr == NULL) return 0;
  uint32_t id = ntohl(hdr->packet_id);
  if (uniform(l) < l->loss) {
    l->dropped++;
    return nfq_set_verdict(queue, id, NF_DROP, 0, NULL);
  }
  if (l->count == HELD_MAX) {  // never expected: let it through late
    l->passed++;
    return nfq_set_verdict(queue, id, NF_ACCEPT, 0, NULL);
  }
  l->held[(l->head + l->count) % HELD_MAX] = (held_t){id, now_s() + l->delay_s};
  l->count++;
  return 0;
}

// Lets through every held packet whose delay is over; returns the wait in
// milliseconds until the next one is due (-1: none held).
static int release_due(link_t *l) {
  double t = now_s();
  while (l->count > 0) {
    held_t *h = &l->held[l->head];
    if (h->due > t) {
      return (int)((h->due - t) * 1e3) + 1;
    }
    nfq_set_verdict(l->queue, h->id, NF_ACCEPT, 0, NULL);
    l->passed++;
    l->head = (l->head + 1) % HELD_MAX;
    l->count--;
  }
  return -1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: linkem --queue N --delay-ms D --loss P [--seed S]\n"
          "  holds every packet of NFQUEUE N for D milliseconds, drops a\n"
          "  fraction P (0 to 1) of them; runs until SIGTERM or SIGINT\n");
  exit(2);
}

static double number(const char *s, double lo, double hi) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) usage();
  return v;
}

int main(int argc, char **argv) {
  static link_t l;
  int queue_num = -1;
  l.rng = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--queue") == 0) {
      queue_num = (int)number(argv[i + 1], 0, 65535);
    } else if (strcmp(argv[i], "--delay-ms") == 0) {
      l.delay_s = number(argv[i + 1], 0, 60000) * 1e-3;
    } else if (strcmp(argv[i], "--loss") == 0) {
      l.loss = number(argv[i + 1], 0, 1);
    } else if (strcmp(argv[i], "--seed") == 0) {
      l.rng = (uint64_t)number(argv[i + 1], 0, 1e18);
    } else {
      usage();
    }
  }
  if (queue_num < 0 || argc % 2 == 0) usage();

  struct nfq_handle *h = nfq_open();
  if (h == NULL) {
    perror("linkem: nfq_open");
    return 1;
  }
  if (nfq_bind_pf(h, AF_INET) < 0) {
    perror("linkem: nfq_bind_pf");
    return 1;
  }
  l.queue = nfq_create_queue(h, (uint16_t)queue_num, on_packet, &l);
  if (l.queue == NULL) {
    perror("linkem: nfq_create_queue");
    return 1;
  }
  if (nfq_set_mode(l.queue, NFQNL_COPY_META, 0) < 0 ||
      nfq_set_queue_maxlen(l.queue, HELD_MAX) < 0) {
    perror("linkem: configuring the queue");
    return 1;
  }

  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int fd = nfq_fd(h);
  int rcvbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  static char buf[1 << 16];
  printf("linkem: queue %d, delay %.0f ms, loss %.3f\n", queue_num,
         l.delay_s * 1e3, l.loss);
  fflush(stdout);
  while (!g_stop) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, release_due(&l));
    if (r > 0) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) nfq_handle_packet(h, buf, (int)n);
      // ENOBUFS: the kernel dropped queued packets; TCP resends them.
    }
    release_due(&l);
  }
  // Whatever is still held goes through: ending the emulation heals the link.
  while (l.count > 0) {
    nfq_set_verdict(l.queue, l.held[l.head].id, NF_ACCEPT, 0, NULL);
    l.head = (l.head + 1) % HELD_MAX;
    l.count--;
  }
  printf("linkem: %llu packets passed, %llu dropped\n",
         (unsigned long long)l.passed, (unsigned long long)l.dropped);
  nfq_destroy_queue(l.queue);
  nfq_close(h);
  return 0;
}
