/*
 * flood_gen - drive flood_gen.bpf.c: a SYN flood out of a veth.
 *
 *   flood_gen sink IFACE PREFIX
 *       attach flood_sink (native XDP) to IFACE: drop what comes back to
 *       the flood's /64 PREFIX. Stays until the interface is deleted.
 *   flood_gen run IFACE DST_MAC DST_ADDR PREFIX PORT COUNT SECONDS SOURCES BATCH METER_CPU
 *       send at most COUNT SYNs for at most SECONDS (whichever ends first)
 *       from SOURCES (a power of two) addresses of PREFIX to DST_ADDR:PORT
 *       via IFACE, BATCH (1-256) frames per flush to the receiver, and
 *       print "sent=N ... batch=B". METER_CPU -1, or a CPU whose NET_RX
 *       softirq time is measured from just before the flood until it stops
 *       growing after it (3 s at most), printed as rx_softirq_ns= and
 *       rx_softirq_runs=.
 *
 * Run inside the sender's namespace (nsenter --net=...). The frames are
 * made by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES in chunks, so
 * the time bound is checked between chunks (a chunk is ~0.1 s or less).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flood_gen.skel.h"
#include "packet_build.h"

#define CHUNK (1 << 18)
/*
 * test_run's largest batch (TEST_XDP_MAX_BATCH), also veth's ring size. The
 * frames of a batch reach the receiver in one flush, and each flush wakes
 * a threaded NAPI once (see tests/bench/README.md, "Receiver").
 */
#define BATCH_MAX 256

static int fail(const char *what, int err)
{
	fprintf(stderr, "flood_gen: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_prefix64(const char *s, struct in6_addr *a)
{
	if (inet_pton(AF_INET6, s, a) != 1 || a->s6_addr32[2] || a->s6_addr32[3]) {
		fprintf(stderr, "flood_gen: %s: expected an IPv6 /64 prefix like 2001:db8:f00d::\n", s);
		return -1;
	}
	return 0;
}

/* Open the object, with the softirq meter only when it is wanted. */
static struct flood_gen_bpf *open_gen(int meter_cpu)
{
	struct flood_gen_bpf *skel = flood_gen_bpf__open();

	if (!skel)
		return NULL;
	if (meter_cpu < 0) {
		bpf_program__set_autoload(skel->progs.rx_meter_enter, false);
		bpf_program__set_autoload(skel->progs.rx_meter_exit, false);
	} else {
		skel->rodata->meter_cpu = (__u32)meter_cpu;
	}
	return skel;
}

static __u64 softirq_ns(const struct flood_gen_bpf *skel)
{
	return *(volatile __u64 *)&skel->bss->rx_softirq_ns;
}

/* The receiver's backlog drains after the last frame: until its softirq
 * time stops growing for 100 ms, 3 s at most. */
static void meter_settle(const struct flood_gen_bpf *skel)
{
	__u64 before = softirq_ns(skel);

	for (int i = 0; i < 30; i++) {
		usleep(100 * 1000);
		if (softirq_ns(skel) == before)
			return;
		before = softirq_ns(skel);
	}
	fprintf(stderr, "flood_gen: the receiver's softirq is still busy 3 s after the flood\n");
}

static int cmd_sink(char **argv)
{
	struct flood_gen_bpf *skel;
	struct in6_addr prefix;
	int ifindex = if_nametoindex(argv[0]), err;

	if (!ifindex)
		return fail(argv[0], errno);
	if (parse_prefix64(argv[1], &prefix))
		return 2;
	skel = open_gen(-1);
	if (!skel)
		return fail("opening the BPF object", errno);
	memcpy((void *)&skel->rodata->sink_prefix, prefix.s6_addr, 8);
	err = flood_gen_bpf__load(skel);
	if (!err)
		err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.flood_sink),
				     XDP_FLAGS_DRV_MODE, NULL);
	flood_gen_bpf__destroy(skel);
	return err ? fail("loading/attaching flood_sink", err) : 0;
}

static int own_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* The template SYN, with the fields flood_gen rewrites zeroed, and the
 * checksum base that goes with it. */
static int build_template(struct pkt *p, __u32 *base_sum, const __u8 dmac[6],
			  const __u8 smac[6], const char *dst, const char *prefix, __u16 port)
{
	struct pkt_spec s = {
		.fam = 6, .src = prefix, .dst = dst, .dport = port,
		.flags = TH_SYN, .tcp_opt = 4,
	};
	__u8 *tcp;
	__u32 sum;

	if (pkt_build(&s, p))
		return -EINVAL;
	memcpy(p->d, dmac, 6);
	memcpy(p->d + 6, smac, 6);
	tcp = p->d + p->l4;
	memset(tcp, 0, 2);      /* source port */
	memset(tcp + 4, 0, 4);  /* sequence */
	memset(tcp + 16, 0, 2); /* checksum */
	sum = pkt_pseudo_sum(6, p->d + p->l3 + 8, p->d + p->l3 + 24, IPPROTO_TCP,
			     p->len - p->l4);
	*base_sum = pkt_csum_add(sum, tcp, p->len - p->l4);
	return 0;
}

static int cmd_run(char **argv)
{
	const char *ifname = argv[0];
	long long count = atoll(argv[5]);
	double seconds = atof(argv[6]), t0, t;
	unsigned long sources = strtoul(argv[7], NULL, 0);
	int batch = atoi(argv[8]), meter_cpu = atoi(argv[9]);
	int ifindex = if_nametoindex(ifname), err;
	struct flood_gen_bpf *skel;
	struct in6_addr prefix;
	__u8 dmac[6], smac[6];
	long long sent = 0;
	struct rusage ru;
	struct pkt p;
	__u32 base;

	if (!ifindex)
		return fail(ifname, errno);
	if (sscanf(argv[1], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dmac[0], &dmac[1], &dmac[2],
		   &dmac[3], &dmac[4], &dmac[5]) != 6 || parse_prefix64(argv[3], &prefix) ||
	    count <= 0 || seconds <= 0 || !sources || (sources & (sources - 1)) ||
	    sources > (1ul << 32) - 1 || batch < 1 || batch > BATCH_MAX || meter_cpu < -1) {
		fprintf(stderr, "flood_gen: run: bad arguments (see the header of flood_gen.c)\n");
		return 2;
	}
	err = own_mac(ifname, smac);
	if (err)
		return fail(ifname, err);
	if (build_template(&p, &base, dmac, smac, argv[2], argv[3], (__u16)atoi(argv[4])))
		return fail("building the template frame", EINVAL);

	skel = open_gen(meter_cpu);
	if (!skel)
		return fail("opening the BPF object", errno);
	skel->rodata->src_mask = (__u32)(sources - 1);
	skel->rodata->base_sum = base;
	err = flood_gen_bpf__load(skel);
	if (err) {
		flood_gen_bpf__destroy(skel);
		return fail("loading flood_gen", err);
	}
	if (meter_cpu >= 0 && (err = flood_gen_bpf__attach(skel))) {
		flood_gen_bpf__destroy(skel);
		return fail("attaching the softirq meter", err);
	}

	t0 = t = now_s();
	while (sent < count && t - t0 < seconds) {
		/* The frames enter on IFACE, so XDP_TX leaves through it; the
		 * kernel wants data_end to match the frame's length. */
		struct xdp_md ctx = { .data_end = p.len, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = p.d, .data_size_in = p.len,
			.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = batch,
			.repeat = count - sent < CHUNK ? (int)(count - sent) : CHUNK);

		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flood_gen), &opts);
		if (err) {
			flood_gen_bpf__destroy(skel);
			return fail("BPF_PROG_TEST_RUN (live frames)", err);
		}
		sent += opts.repeat;
		t = now_s();
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("sent=%lld made=%llu gen_seconds=%.3f gen_cpu=%d gen_sys_s=%.3f batch=%d", sent,
	       (unsigned long long)skel->bss->made, t - t0, sched_getcpu(),
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, batch);
	if (meter_cpu >= 0) {
		meter_settle(skel);
		printf(" rx_softirq_ns=%llu rx_softirq_runs=%llu",
		       (unsigned long long)softirq_ns(skel),
		       (unsigned long long)skel->bss->rx_softirq_runs);
	}
	printf("\n");
	flood_gen_bpf__destroy(skel);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return cmd_sink(argv + 2);
	if (argc == 12 && !strcmp(argv[1], "run"))
		return cmd_run(argv + 2);
	fprintf(stderr, "usage: flood_gen sink IFACE PREFIX\n"
		"       flood_gen run IFACE DST_MAC DST_ADDR PREFIX PORT COUNT SECONDS SOURCES BATCH\n"
		"           METER_CPU\n");
	return 2;
}
