// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the sysfs readers and the pci.ids lookups:
 * core/sysfs.c under vfio/host.c (device, group and viability reads),
 * vfio/sysfs.c, sriov/discovery.c (PF and VF discovery, the SR-IOV
 * capability read by libpci from the config file, PF netdevs, the VF
 * and VF use from leases and groups) and
 * vfio/host_names.c (the pci.ids database through libpci). The host is
 * the SR-IOV unit tests' fake (tests/unit/sriov/fake_host.c on
 * tests/unit/fakes/fake_sysfs: an 82599 PF with 4 VFs, an NVMe PF with 2,
 * an AHCI controller, on a temporary /sys laid out and linked as the
 * kernel does), built once per process; the input rewrites its files
 * (attributes, the binary config file, driver/iommu_group/physfn/virtfn
 * links) before the readers run, and every file is put back before the
 * next input.
 *
 * Input: a flags byte (bit 1: a pci.ids database follows the edits; bits
 * 2-4: which readers run, see read_some), u8 group number to read (and,
 * modulo five, the function to read), u8 length and a string given to the
 * BDF and PF-name parsers, then edits: u8 file index
 * (modulo the table below; a link's new target, a file's new contents),
 * le16 length and the bytes (length 0xffff: the file is removed). With bit
 * 1, after an edit with file index 0xff: the pci.ids text, and le16
 * vendor, le16 device, le24 class looked up.
 * The readers must fail cleanly (0 or -errno with a reason), never crash.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fz.h"
#include "sriov/sriov.h"
#include "tests/unit/sriov/fake_host.h"
#include "vfio/host.h"
#include "vfio/sysfs.h"

#define FUZZ_NIC_VF "0000:3b:10.0"
#define FUZZ_NVME_VF "0000:01:00.1"
#define FUZZ_MAX_FILE 4096

static const char *const bdfs[] = {
	FH_NIC_PF, FH_NVME_PF, FH_AHCI, FUZZ_NIC_VF, FUZZ_NVME_VF,
};
static const char *const attrs[] = {
	"vendor", "device", "class", "config", "sriov_totalvfs",
	"sriov_numvfs", "sriov_drivers_autoprobe", "driver_override",
	"driver", "iommu_group", "physfn", "virtfn0", "net/" FH_NIC_NETDEV "/ifindex",
	"net/" FH_NIC_NETDEV "/address",
};
#define NR_BDFS (sizeof(bdfs) / sizeof(bdfs[0]))
#define NR_ATTRS (sizeof(attrs) / sizeof(attrs[0]))
#define NR_FILES (NR_BDFS * NR_ATTRS)

/* What a file was at set-up: contents or link target; absent. */
struct saved {
	char path[256];
	bool exists, link, dirty;
	size_t len;
	char *data;
};

static struct saved files[NR_FILES];
static char ids_path[256];

static void save(struct saved *s)
{
	struct stat st;
	char buf[FUZZ_MAX_FILE];
	ssize_t n;
	int fd;

	if (lstat(s->path, &st))
		return;
	s->exists = true;
	s->link = S_ISLNK(st.st_mode);
	if (s->link) {
		n = readlink(s->path, buf, sizeof(buf));
	} else {
		fd = open(s->path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
		if (fd >= 0)
			close(fd);
	}
	if (n < 0)
		n = 0;
	s->data = malloc((size_t)n + 1);
	if (!s->data)
		abort();
	memcpy(s->data, buf, (size_t)n);
	s->data[n] = 0;
	s->len = (size_t)n;
}

static void put_file(struct saved *s, const void *p, size_t n, bool link)
{
	char target[FUZZ_MAX_FILE + 1];
	int fd;

	unlink(s->path);
	if (link) {
		memcpy(target, p, n);
		target[n] = 0;
		if (symlink(target, s->path))
			return; /* an empty target: the link stays absent */
		return;
	}
	fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, p, n) < 0)
		n = 0;
	close(fd);
}

/*
 * The fake host asserts with Check (ck_assert needs a running test), so it
 * is built inside a one-test suite, in this process (CK_NOFORK). Nothing
 * the readers do afterwards reaches an assertion: they only read, and the
 * fake PF driver's netlink side is left out.
 */
START_TEST(build_host)
{
	fh_setup();
	fake_sysfs_enable_vfs(&fh.fs, FH_NIC_PF, 4, false);
	fake_sysfs_enable_vfs(&fh.fs, FH_NVME_PF, 2, false);
}
END_TEST

START_TEST(remove_host)
{
	fh_teardown();
}
END_TEST

static void in_check(const TTest *test)
{
	Suite *suite = suite_create("fuzz-sysfs");
	TCase *tc = tcase_create("host");
	SRunner *sr;

	tcase_add_test(tc, test);
	suite_add_tcase(suite, tc);
	sr = srunner_create(suite);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	if (srunner_ntests_failed(sr))
		abort();
	srunner_free(sr);
}

static void teardown(void)
{
	in_check(remove_host);
}

static void setup(void)
{
	in_check(build_host);
	for (size_t i = 0; i < NR_FILES; i++) {
		snprintf(files[i].path, sizeof(files[i].path),
			 "%s/bus/pci/devices/%s/%s", fh.fs.sys,
			 bdfs[i / NR_ATTRS], attrs[i % NR_ATTRS]);
		save(&files[i]);
	}
	snprintf(ids_path, sizeof(ids_path), "%s/pci.ids", fh.fs.root);
	atexit(teardown);
}

static void restore(void)
{
	for (size_t i = 0; i < NR_FILES; i++) {
		struct saved *s = &files[i];

		if (!s->dirty)
			continue;
		s->dirty = false;
		if (s->exists)
			put_file(s, s->data, s->len, s->link);
		else
			unlink(s->path);
	}
}

/* Edits until the input ends or the pci.ids marker. */
static bool edit(struct fz_in *in)
{
	while (in->n >= 3) {
		uint8_t idx = fz_u8(in);
		uint16_t len = fz_u16(in);
		struct saved *s;

		if (idx == 0xff)
			return true;
		s = &files[idx % NR_FILES];
		s->dirty = true;
		if (len == 0xffff) {
			unlink(s->path);
			continue;
		}
		len %= FUZZ_MAX_FILE + 1;
		if (in->n < len)
			len = (uint16_t)in->n;
		put_file(s, in->p, len, s->link);
		in->p += len;
		in->n -= len;
	}
	return false;
}

/* One family of readers per input (flags bits 2-4), so that each input
 * stays cheap: a full pass is a few hundred file system calls. */
static void read_some(uint8_t flags, int group, const char *str)
{
	char err[256], out[VFIO_HOST_BDF_SIZE], drv[64];
	char (*pfs)[SRIOV_BDF_SIZE] = NULL;
	struct sriov_pf *pf = NULL;
	struct vfio_host_list list;
	struct vfio_host_group g;
	struct vfio_host_dev d;
	struct sriov_cap cap;
	const char *bdf = bdfs[group % NR_BDFS];
	size_t n;
	int ret;

	switch ((flags >> 2) % 6) {
	case 0:
		ret = vfio_host_dev_read(&fh.env.host, bdf, &d, err, sizeof(err));
		CHECK(ret <= 0);
		vfio_sysfs_driver(fh.fs.sys, bdf, drv, sizeof(drv));
		break;
	case 1:
		if (vfio_host_list_groups(&fh.env.host, &list, err,
					  sizeof(err)) == 0)
			vfio_host_list_free(&list);
		break;
	case 2:
		if (vfio_host_group_read(&fh.env.host, group, &g, err,
					 sizeof(err)) == 0)
			vfio_host_group_free(&g);
		vfio_host_group_check(&fh.env.host, group, err, sizeof(err));
		vfio_sysfs_group_blocker(fh.fs.sys, group, out, drv,
					 sizeof(drv));
		break;
	case 3:
		if (sriov_pf_list(&fh.env, &pfs, &n, err, sizeof(err)) == 0)
			free(pfs);
		ret = sriov_pf_read(&fh.env, bdfs[group & 1], 0, &pf, err,
				    sizeof(err));
		CHECK(ret <= 0);
		sriov_pf_free(pf);
		break;
	case 4:
		sriov_cap_read(&fh.env, bdf, &cap);
		break;
	default:
		sriov_pf_resolve(&fh.env, str, out, err, sizeof(err));
		break;
	}
	vfio_host_parse_bdf(str, out, err, sizeof(err));
	vfio_sysfs_parse_bdf(str, out);
}

static void names(struct fz_in *in)
{
	struct vfio_host_names *db;
	uint16_t len = fz_u16(in), vendor, device;
	uint32_t class_code;
	char buf[256];
	struct saved s = { .dirty = true };

	if (in->n < len)
		len = (uint16_t)in->n;
	snprintf(s.path, sizeof(s.path), "%s", ids_path);
	put_file(&s, in->p, len, false);
	in->p += len;
	in->n -= len;
	vendor = fz_u16(in);
	device = fz_u16(in);
	class_code = (uint32_t)fz_le(in, 3);
	if (vfio_host_names_create(ids_path, &db))
		return;
	vfio_host_names_vendor(db, vendor, buf, sizeof(buf));
	vfio_host_names_device(db, vendor, device, buf, sizeof(buf));
	vfio_host_names_class(db, class_code, buf, sizeof(buf));
	vfio_host_names_destroy(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	char str[256];
	uint8_t flags, group, n;

	if (!files[0].path[0])
		setup();
	restore();
	flags = fz_u8(&in);
	group = fz_u8(&in);
	n = fz_u8(&in);
	if (!fz_take(&in, str, n))
		return 0;
	str[n] = 0;
	if (edit(&in) && (flags & 2))
		names(&in);
	read_some(flags, group, str);
	return 0;
}
