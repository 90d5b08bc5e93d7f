// SPDX-License-Identifier: MIT
/*
 * nvme-admin: the few NVMe admin commands the lab needs to turn on an SR-IOV
 * virtual function of QEMU's emulated NVMe controller, sent through the Linux
 * nvme driver's passthrough ioctl (NVME_IOCTL_ADMIN_CMD) on /dev/nvmeN.
 * Runs inside the lab's L1 (a static executable: L1 has no libc).
 *
 *   nvme-admin DEV primary-caps
 *   nvme-admin DEV secondary-list
 *   nvme-admin DEV virt-mgmt CNTLID ACTION RESOURCE COUNT
 *
 * ACTION: prim-flex | sec-offline | sec-assign | sec-online
 * RESOURCE: vq (queue resources) | vi (interrupt resources)
 *
 * Output is key=value words (one line per structure or list entry) so the
 * lab's shell scripts can pick fields with sed. Exit status: 0 on success,
 * 1 when the command failed (ioctl error or NVMe status), 2 for bad usage.
 *
 * Why these commands: a secondary (VF) controller of a controller that
 * supports Virtualization Enhancements has no queue or interrupt resources
 * until the host moves flexible resources from the primary controller to it
 * and brings it online (NVMe Base Specification 2.0, "Virtualization
 * Enhancements"); until then the VF's controller never becomes ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/nvme_ioctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define NVME_ADMIN_IDENTIFY	0x06
#define NVME_ADMIN_VIRT_MGMT	0x1c

/* Identify CNS values (NVMe Base 2.0, Identify command, CNS 14h/15h). */
#define NVME_CNS_PRIMARY_CAPS	0x14
#define NVME_CNS_SECONDARY_LIST	0x15

#define IDENTIFY_LEN		4096

/* Virtualization Management command, CDW10/CDW11 (NVMe Base 2.0). */
#define VM_ACT_SHIFT		0
#define VM_ACT_MASK		0xfu
#define VM_RT_SHIFT		8
#define VM_RT_MASK		0x7u
#define VM_CNTLID_SHIFT		16

struct name_value {
	const char *name;
	unsigned int value;
};

/* Action field (ACT) of the Virtualization Management command. */
static const struct name_value vm_actions[] = {
	{ .name = "prim-flex", .value = 0x1 },	/* primary flexible allocation */
	{ .name = "sec-offline", .value = 0x7 },
	{ .name = "sec-assign", .value = 0x8 },
	{ .name = "sec-online", .value = 0x9 },
};

/* Resource Type field (RT). */
static const struct name_value vm_resources[] = {
	{ .name = "vq", .value = 0x0 },	/* VQ resources: queues */
	{ .name = "vi", .value = 0x1 },	/* VI resources: interrupts */
};

static int lookup(const struct name_value *tab, size_t n, const char *name,
		  unsigned int *out)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(tab[i].name, name) == 0) {
			*out = tab[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || end == s || *end || *out > max)
		return -EINVAL;
	return 0;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | (uint32_t)le16(p + 2) << 16;
}

/*
 * Send one admin command. The ioctl returns -1/errno for a transport
 * failure and a positive NVMe status for a command the controller failed.
 */
static int admin(int fd, struct nvme_admin_cmd *cmd, const char *what)
{
	int r = ioctl(fd, NVME_IOCTL_ADMIN_CMD, cmd);

	if (r < 0) {
		fprintf(stderr, "nvme-admin: %s: %s\n", what, strerror(errno));
		return -1;
	}
	if (r > 0) {
		fprintf(stderr, "nvme-admin: %s: NVMe status 0x%x\n", what, r);
		return -1;
	}
	return 0;
}

static int identify(int fd, uint32_t cns, uint8_t *buf, const char *what)
{
	struct nvme_admin_cmd cmd = {
		.opcode = NVME_ADMIN_IDENTIFY,
		.addr = (uintptr_t)buf,
		.data_len = IDENTIFY_LEN,
		.cdw10 = cns,
	};

	memset(buf, 0, IDENTIFY_LEN);
	return admin(fd, &cmd, what);
}

/* Primary Controller Capabilities data structure (Identify CNS 14h). */
static int cmd_primary_caps(int fd, uint8_t *buf)
{
	if (identify(fd, NVME_CNS_PRIMARY_CAPS, buf, "identify primary-caps"))
		return 1;
	printf("cntlid=%u portid=%u crt=0x%x vqfrt=%" PRIu32 " vqrfa=%" PRIu32
	       " vqrfap=%u vqprt=%u vqfrsm=%u vqgran=%u vifrt=%" PRIu32
	       " virfa=%" PRIu32 " virfap=%u viprt=%u vifrsm=%u vigran=%u\n",
	       le16(buf), le16(buf + 2), buf[4], le32(buf + 32),
	       le32(buf + 36), le16(buf + 40), le16(buf + 42), le16(buf + 44),
	       le16(buf + 46), le32(buf + 64), le32(buf + 68), le16(buf + 72),
	       le16(buf + 74), le16(buf + 76), le16(buf + 78));
	return 0;
}

/*
 * Secondary Controller List (Identify CNS 15h): byte 0 is the number of
 * entries; 32-byte Secondary Controller Entries start at byte 32.
 */
static int cmd_secondary_list(int fd, uint8_t *buf)
{
	unsigned int n;

	if (identify(fd, NVME_CNS_SECONDARY_LIST, buf,
		     "identify secondary-list"))
		return 1;
	n = buf[0];
	if (n > 127)
		n = 127;
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *e = buf + 32 + 32 * i;

		printf("scid=%u pcid=%u online=%u vfn=%u nvq=%u nvi=%u\n",
		       le16(e), le16(e + 2), e[4] & 1, le16(e + 8),
		       le16(e + 10), le16(e + 12));
	}
	return 0;
}

static int cmd_virt_mgmt(int fd, char **argv)
{
	unsigned long cntlid, count;
	unsigned int act, rt;
	struct nvme_admin_cmd cmd = { .opcode = NVME_ADMIN_VIRT_MGMT };

	if (parse_uint(argv[0], 0xffff, &cntlid) ||
	    lookup(vm_actions, sizeof(vm_actions) / sizeof(vm_actions[0]),
		   argv[1], &act) ||
	    lookup(vm_resources,
		   sizeof(vm_resources) / sizeof(vm_resources[0]), argv[2],
		   &rt) ||
	    parse_uint(argv[3], 0xffff, &count)) {
		fprintf(stderr, "nvme-admin: bad virt-mgmt arguments\n");
		return 2;
	}
	cmd.cdw10 = (act & VM_ACT_MASK) << VM_ACT_SHIFT |
		    (rt & VM_RT_MASK) << VM_RT_SHIFT |
		    (uint32_t)cntlid << VM_CNTLID_SHIFT;
	cmd.cdw11 = (uint32_t)count;
	if (admin(fd, &cmd, "virt-mgmt"))
		return 1;
	printf("virt-mgmt cntlid=%lu action=%s resource=%s count=%lu "
	       "result=0x%x\n", cntlid, argv[1], argv[2], count, cmd.result);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: nvme-admin DEV primary-caps\n"
		"       nvme-admin DEV secondary-list\n"
		"       nvme-admin DEV virt-mgmt CNTLID ACTION RESOURCE COUNT\n"
		"ACTION: prim-flex|sec-offline|sec-assign|sec-online, "
		"RESOURCE: vq|vi\n");
}

int main(int argc, char **argv)
{
	static uint8_t buf[IDENTIFY_LEN] __attribute__((aligned(4096)));
	int fd, ret;

	if (argc < 3) {
		usage();
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "nvme-admin: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	if (strcmp(argv[2], "primary-caps") == 0 && argc == 3) {
		ret = cmd_primary_caps(fd, buf);
	} else if (strcmp(argv[2], "secondary-list") == 0 && argc == 3) {
		ret = cmd_secondary_list(fd, buf);
	} else if (strcmp(argv[2], "virt-mgmt") == 0 && argc == 7) {
		ret = cmd_virt_mgmt(fd, argv + 3);
	} else {
		usage();
		ret = 2;
	}
	close(fd);
	return ret;
}
