/* SPDX-License-Identifier: MIT */
/*
 * NVMe tests (driver: guest/nvme.c).
 *
 * `nvme`: Identify Controller + Namespace, one I/O queue pair, then
 * `count` Writes of a pattern followed by `count` Reads that must bring
 * it back. Transfers rotate through three shapes so every PRP form is
 * used: one page (PRP1 only), two aligned pages (PRP1 + PRP2) and `xfer`
 * bytes starting 512 bytes into a page (PRP1 with an offset + a PRP list).
 * The pattern mixes a per-run seed (the TSC unless seed= is given) with
 * the LBA, so stale data, a misplaced block or a read that never reached
 * memory all fail. Completions are polled (phase bit); with irq=1 (the
 * default) every completion must also raise MSI-X vector `vector`, counted
 * by the kit's IDT handler at KIT_IRQ_VECTOR.
 *   keys: vendor=0x1b36 device=0x0010 nsid=1 lba=0 count=12 xfer=65536
 *         irq=1 vector=0 qdepth=16 timeout_ms=5000 seed=N pingpong=0
 * pingpong=1: every transfer is one 4 KiB page (PRP1 only), and each Read
 * is timed from submission to its completion seen; RESULT adds
 * iops_read= and the p50/p99 (lat_* keys, lat.c). One command is in
 * flight in every mode (the driver submits and polls).
 *   RESULT: model serial mdts max_xfer nn lba_size cmds bytes irqs
 *           us_per_cmd (ns_per_op-style, one decimal; TSC rate known) or
 *           cycles_per_cmd
 *
 * `nvme-dma-fault`: a Read (or, without a usable namespace, an Identify)
 * whose PRP1 points outside guest RAM (gpa=, default 0x3f00000000).
 * Behind VFIO the host IOMMU must block the DMA (the lab checks L1's
 * dmesg for the DMAR fault); the completion the controller posts is only
 * reported (QEMU's NVMe may even report success). The test then proves the
 * controller and the VMM still work: a normal Identify (and Read) into RAM
 * must succeed (`after=ok`), else it fails with reason=dead-after-fault.
 */
#include "guest/lat.h"
#include "guest/nvme.h"

#define NVME_VENDOR 0x1b36 /* QEMU's NVMe, PF and SR-IOV VF alike */
#define NVME_DEVICE 0x0010
#define NVME_DEFAULT_COUNT 12
#define NVME_DEFAULT_XFER 65536
#define NVME_DEFAULT_TIMEOUT_MS 5000
#define NVME_FAULT_GPA 0x3f00000000ULL
#define NVME_LIST_OFFSET 512

typedef uint64_t __attribute__((may_alias)) nvme_u64;

struct nvme_params {
	uint64_t vendor, device, nsid, lba, count, xfer, irq, vector, qdepth;
	uint64_t timeout_ms, seed, gpa, pingpong;
};

static int nvme_params(struct nvme_params *p, struct kit_result *r)
{
	bool bad = false;

	p->vendor = kit_cmdline_u64("vendor", NVME_VENDOR, &bad);
	p->device = kit_cmdline_u64("device", NVME_DEVICE, &bad);
	p->nsid = kit_cmdline_u64("nsid", 1, &bad);
	p->lba = kit_cmdline_u64("lba", 0, &bad);
	p->count = kit_cmdline_u64("count", NVME_DEFAULT_COUNT, &bad);
	p->xfer = kit_cmdline_u64("xfer", NVME_DEFAULT_XFER, &bad);
	p->irq = kit_cmdline_u64("irq", 1, &bad);
	p->vector = kit_cmdline_u64("vector", 0, &bad);
	p->qdepth = kit_cmdline_u64("qdepth", 16, &bad);
	p->timeout_ms = kit_cmdline_u64("timeout_ms", NVME_DEFAULT_TIMEOUT_MS,
					&bad);
	p->seed = kit_cmdline_u64("seed", kit_rdtsc(), &bad);
	p->gpa = kit_cmdline_u64("gpa", NVME_FAULT_GPA, &bad);
	p->pingpong = kit_cmdline_u64("pingpong", 0, &bad);
	if (bad || p->vendor > 0xffff || p->device > 0xffff ||
	    p->nsid == 0 || p->nsid > 0xffffffffULL || p->count == 0 ||
	    p->count > 100000 || p->xfer < 512 || p->xfer > KIT_NVME_MAX_XFER ||
	    p->irq > 1 || p->vector > 2047 || p->qdepth < 2 ||
	    p->qdepth > 1024 || p->timeout_ms == 0 ||
	    p->timeout_ms > 600000 || (p->gpa & (KIT_NVME_PAGE - 1)) ||
	    p->pingpong > 1)
		return kit_fail(r, "bad-param");
	return 0;
}

/* Model/serial as one RESULT word: spaces become underscores. */
static void res_word(struct kit_result *r, const char *key, const char *s)
{
	char w[48];
	size_t i;

	for (i = 0; s[i] && i < sizeof(w) - 1; i++)
		w[i] = s[i] == ' ' ? '_' : s[i];
	w[i] = '\0';
	kit_res_add(r, "%s=%s", key, i ? w : "none");
}

static int nvme_open(struct kit_nvme *n, const struct nvme_params *p,
		     struct kit_result *r)
{
	struct kit_pci_dev *d = kit_pci_find((uint16_t)p->vendor,
					     (uint16_t)p->device);
	const char *why = NULL;

	if (!d)
		return kit_fail(r, "no-nvme");
	if (kit_nvme_init(n, d, 32, p->timeout_ms, &why) < 0 ||
	    kit_nvme_identify_ctrl(n, &why) < 0)
		return kit_fail(r, why);
	kit_printf("nvme: %02x:%02x.%x %04x:%04x model='%s' serial='%s' "
		   "fw='%s' vs=%x cntlid=%u mdts=%u nn=%u bar0=0x%lx\n",
		   d->bus, d->dev, d->fn, d->vendor, d->device, n->model,
		   n->serial, n->firmware, n->vs, n->cntlid, n->mdts, n->nn,
		   n->regs);
	res_word(r, "model", n->model);
	res_word(r, "serial", n->serial);
	kit_res_add(r, "mdts=%u max_xfer=%u nn=%u", n->mdts, n->max_xfer,
		    n->nn);
	return 0;
}

/* Mask the 8259s, enable the local APIC, hook KIT_IRQ_VECTOR, set IF. */
static void irq_arm(void)
{
	kit_out(0x21, 1, 0xff);
	kit_out(0xa1, 1, 0xff);
	kit_lapic_write(0xf0, 0x100 | KIT_SPURIOUS_VECTOR); /* SVR enable */
	kit_lapic_write(0x80, 0);                           /* TPR */
	/* With no device to acknowledge, the CPL0 handler just counts and
	 * EOIs (it also bumps kit_irq_spurious: see the irqs key below). */
	kit_syscall(KIT_SYS_IRQ_HOOK, 0, 0, 0);
	kit_syscall(KIT_SYS_IRQ_ENABLE, 1, 0, 0);
}

static void irq_disarm(void)
{
	kit_syscall(KIT_SYS_IRQ_ENABLE, 0, 0, 0);
}

static uint64_t pattern_word(uint64_t seed, uint64_t lba, uint64_t w)
{
	uint64_t x = seed ^ (lba * 0x9e3779b97f4a7c15ULL) ^ (w << 48);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return w == 0 ? lba ^ seed : x;
}

static void pattern_fill(uint8_t *buf, uint64_t lba, uint32_t nblk,
			 uint32_t lba_size, uint64_t seed)
{
	for (uint32_t b = 0; b < nblk; b++) {
		nvme_u64 *w = (nvme_u64 *)(buf + (uint64_t)b * lba_size);

		for (uint32_t i = 0; i < lba_size / 8; i++)
			w[i] = pattern_word(seed, lba + b, i);
	}
}

/* Index of the first bad block, or -1 when all match. */
static int64_t pattern_check(const uint8_t *buf, uint64_t lba, uint32_t nblk,
			     uint32_t lba_size, uint64_t seed)
{
	for (uint32_t b = 0; b < nblk; b++) {
		const nvme_u64 *w =
			(const nvme_u64 *)(buf + (uint64_t)b * lba_size);

		for (uint32_t i = 0; i < lba_size / 8; i++)
			if (w[i] != pattern_word(seed, lba + b, i))
				return b;
	}
	return -1;
}

/* The three PRP shapes (pingpong: the first only): command i's size. */
static void shape(const struct kit_nvme *n, const struct nvme_params *p,
		  uint64_t i, uint32_t *nblk, uint32_t *off)
{
	uint64_t bytes, xfer = p->xfer;

	switch (p->pingpong ? 0 : i % 3) {
	case 0:
		bytes = KIT_NVME_PAGE;
		*off = 0;
		break;
	case 1:
		bytes = 2 * KIT_NVME_PAGE;
		*off = 0;
		break;
	default:
		bytes = xfer;
		*off = NVME_LIST_OFFSET;
		break;
	}
	if (bytes > n->max_xfer)
		bytes = n->max_xfer;
	*nblk = (uint32_t)(bytes / n->lba_size);
	if (*nblk == 0)
		*nblk = 1;
}

struct io_stats {
	uint64_t cycles, cmds, bytes, irqs, missed;
	uint64_t rcycles, reads;
	struct kit_lat *lat;	/* pingpong: every Read's time */
};

/* Wait (bounded) for the interrupt of a completion already seen. */
static void irq_wait(struct io_stats *s, uint64_t before, uint64_t limit)
{
	uint64_t t0 = kit_rdtsc();

	while (kit_irq_count == before) {
		if (kit_rdtsc() - t0 > limit) {
			s->missed++;
			return;
		}
		kit_pause();
	}
}

static int io_one(struct kit_nvme *n, bool write, uint64_t lba,
		  uint32_t nblk, uint8_t *buf, bool irq, struct io_stats *s,
		  struct kit_result *r)
{
	struct kit_nvme_cqe cqe;
	uint64_t before = kit_irq_count, t0 = kit_rdtsc();
	int rc = kit_nvme_rw(n, write, lba, nblk, buf, &cqe);
	uint64_t dt = kit_rdtsc() - t0;

	s->cycles += dt;
	s->cmds++;
	if (!write) {
		s->rcycles += dt;
		s->reads++;
		if (s->lat && rc == 0)
			kit_lat_add(s->lat, dt);
	}
	if (rc == KIT_NVME_TIMEOUT)
		return kit_fail(r, write ? "write-timeout" : "read-timeout");
	if (rc != 0) {
		kit_res_add(r, "lba=%lu sc=0x%x sct=%u", lba, rc & 0xff,
			    (rc >> 8) & 7);
		return kit_fail(r, write ? "write-error" : "read-error");
	}
	s->bytes += (uint64_t)nblk * n->lba_size;
	/* After one interrupt went missing, do not wait for the others. */
	if (irq)
		irq_wait(s, before, s->missed ? 0 : n->timeout);
	return 0;
}

static int io_rounds(struct kit_nvme *n, const struct nvme_params *p,
		     struct io_stats *s, struct kit_result *r)
{
	uint8_t *wbuf = kit_alloc(n->max_xfer + KIT_NVME_PAGE, KIT_NVME_PAGE);
	uint8_t *rbuf = kit_alloc(n->max_xfer + KIT_NVME_PAGE, KIT_NVME_PAGE);
	uint64_t lba, total = 0;
	uint32_t nblk, off;

	if (!wbuf || !rbuf)
		return kit_fail(r, "no-memory");
	for (uint64_t i = 0; i < p->count; i++) {
		shape(n, p, i, &nblk, &off);
		total += nblk;
	}
	if (p->lba >= n->nsze || total > n->nsze - p->lba) {
		kit_res_add(r, "nsze=%lu", n->nsze);
		return kit_fail(r, "ns-small");
	}
	for (int pass = 0; pass < 2; pass++) {
		lba = p->lba;
		for (uint64_t i = 0; i < p->count; i++, lba += nblk) {
			uint8_t *buf = pass ? rbuf : wbuf;

			shape(n, p, i, &nblk, &off);
			if (pass == 0)
				pattern_fill(buf + off, lba, nblk, n->lba_size,
					     p->seed);
			else
				memset(buf + off, 0xa5,
				       (uint64_t)nblk * n->lba_size);
			if (io_one(n, pass == 0, lba, nblk, buf + off, p->irq,
				   s, r) < 0)
				return -1;
			if (pass == 1) {
				int64_t bad = pattern_check(buf + off, lba,
							    nblk, n->lba_size,
							    p->seed);

				if (bad >= 0) {
					kit_res_add(r, "bad_lba=%lu",
						    lba + (uint64_t)bad);
					return kit_fail(r, "data-mismatch");
				}
			}
		}
	}
	return 0;
}

static void io_keys(struct kit_result *r, const struct io_stats *s,
		    uint64_t seed)
{
	uint64_t ns10 = kit_cycles_to_ns10(s->cycles, s->cmds);

	kit_res_add(r, "cmds=%lu bytes=%lu irqs=%lu", s->cmds, s->bytes,
		    s->irqs);
	if (s->missed)
		kit_res_add(r, "missed_irqs=%lu", s->missed);
	if (kit_plat.tsc_khz)
		kit_res_add(r, "us_per_cmd=%lu.%lu", ns10 / 10000,
			    (ns10 / 1000) % 10);
	else
		kit_res_add(r, "cycles_per_cmd=%lu",
			    s->cmds ? s->cycles / s->cmds : 0);
	kit_res_add(r, "seed=0x%lx", seed);
	if (s->lat) {
		kit_res_add(r, "iops_read=%lu",
			    kit_per_second(s->reads, s->rcycles));
		kit_lat_report(s->lat, r);
	}
}

int kit_test_nvme(struct kit_result *r)
{
	static struct kit_nvme n;
	struct nvme_params p;
	struct io_stats s = { 0 };
	struct kit_lat lat = { 0 };
	const char *why = NULL;
	uint64_t irq0;
	int rc;

	if (nvme_params(&p, r) < 0)
		return -1;
	if (p.pingpong) {
		if (kit_lat_init(&lat, p.count) < 0)
			return kit_fail(r, "no-memory");
		s.lat = &lat;
	}
	if (nvme_open(&n, &p, r) < 0)
		return -1;
	if (kit_nvme_identify_ns(&n, (uint32_t)p.nsid, &why) < 0) {
		kit_nvme_shutdown(&n);
		return kit_fail(r, why);
	}
	kit_res_add(r, "lba_size=%u", n.lba_size);
	/* MSI-X before the CQ that uses it: like Linux, and QEMU's NVMe
	 * only claims a vector for a CQ created while MSI-X is on. */
	if ((p.irq && kit_nvme_msix_enable(&n, (uint16_t)p.vector,
					   KIT_IRQ_VECTOR, &why) < 0) ||
	    kit_nvme_create_io(&n, (uint16_t)p.qdepth, p.irq != 0,
			       (uint16_t)p.vector, &why) < 0) {
		kit_nvme_shutdown(&n);
		return kit_fail(r, why);
	}
	if (p.irq) {
		irq_arm();
		/* Admin completions may share the vector: let any still in
		 * flight land before counting. */
		kit_delay_us(20000);
	}
	irq0 = kit_irq_count;
	rc = io_rounds(&n, &p, &s, r);
	s.irqs = kit_irq_count - irq0;
	if (p.irq)
		irq_disarm();
	io_keys(r, &s, p.seed);
	if (kit_nvme_shutdown(&n) < 0 && rc == 0)
		return kit_fail(r, "shutdown");
	if (rc < 0)
		return -1;
	if (p.irq && (s.missed || s.irqs < s.cmds))
		return kit_fail(r, "irq-missing");
	return 0;
}

/* Identify Controller with PRP1 at `gpa` (one page, no PRP2). */
static int identify_at(struct kit_nvme *n, uint64_t gpa,
		       struct kit_nvme_cqe *cqe)
{
	struct kit_nvme_cmd c = { { 0x06 } };

	c.cdw[6] = (uint32_t)gpa;
	c.cdw[7] = (uint32_t)(gpa >> 32);
	c.cdw[10] = 1; /* CNS: controller */
	return kit_nvme_submit(n, &n->admin, &c, cqe);
}

static int fault_read(struct kit_nvme *n, uint64_t gpa,
		      struct kit_nvme_cqe *cqe)
{
	struct kit_nvme_cmd c = { { 0x02 } }; /* NVM Read */

	c.cdw[1] = n->nsid;
	c.cdw[6] = (uint32_t)gpa;
	c.cdw[7] = (uint32_t)(gpa >> 32);
	c.cdw[12] = 0; /* one block: fits PRP1's page (lba_size <= 4096) */
	return kit_nvme_submit(n, &n->io, &c, cqe);
}

/* After the fault: the controller must still do a DMA into RAM. */
static bool still_works(struct kit_nvme *n, const struct nvme_params *p)
{
	uint8_t *buf = kit_alloc(KIT_NVME_PAGE, KIT_NVME_PAGE);
	struct kit_nvme_cqe cqe;

	if (!buf)
		return false;
	memset(buf, 0, KIT_NVME_PAGE);
	if (identify_at(n, (uint64_t)(uintptr_t)buf, &cqe) != 0 ||
	    (buf[0] | buf[1]) == 0) /* VID must have landed */
		return false;
	if (!n->io_ready)
		return true;
	return kit_nvme_rw(n, false, p->lba, 1, buf, &cqe) == 0;
}

int kit_test_nvme_dma_fault(struct kit_result *r)
{
	static struct kit_nvme n;
	struct nvme_params p;
	struct kit_nvme_cqe cqe = { 0 };
	const char *why = NULL, *cmd = "identify";
	bool ok;
	int rc;

	if (nvme_params(&p, r) < 0 || nvme_open(&n, &p, r) < 0)
		return -1;
	/* A Read needs a namespace; without one an Identify DMAs as well. */
	if (kit_nvme_identify_ns(&n, (uint32_t)p.nsid, &why) == 0 &&
	    n.lba_size <= KIT_NVME_PAGE) {
		if (kit_nvme_create_io(&n, (uint16_t)p.qdepth, false, 0,
				       &why) < 0) {
			kit_nvme_shutdown(&n);
			return kit_fail(r, why);
		}
		cmd = "read";
	}
	rc = n.io_ready ? fault_read(&n, p.gpa, &cqe)
			: identify_at(&n, p.gpa, &cqe);
	kit_res_add(r, "gpa=0x%lx cmd=%s", p.gpa, cmd);
	if (rc == KIT_NVME_TIMEOUT)
		kit_res_add(r, "completed=0");
	else
		kit_res_add(r, "completed=1 sc=0x%x sct=%u", cqe.status & 0xff,
			    (cqe.status >> 8) & 7);
	ok = still_works(&n, &p);
	kit_res_add(r, "after=%s", ok ? "ok" : "fail");
	kit_nvme_shutdown(&n);
	return ok ? 0 : kit_fail(r, "dead-after-fault");
}
