// SPDX-License-Identifier: MIT
/*
 * Disks on a raw file or block device: virtio-blk (emul-devices/virtio)
 * and the emulated NVMe controller (emul-devices/nvme).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emul-devices/nvme/nvme.h"
#include "emul-devices/virtio/blk.h"
#include "machine/dev_opts.h"
#include "machine/devtypes.h"

static void disk_free(void *opts)
{
	struct machine_disk_opts *o = opts;

	if (o) {
		free(o->path);
		free(o->serial);
	}
	free(o);
}

/* One option of --disk MODEL: path=, readonly, serial=, ring= (virtio). */
static int disk_opt(void *ctx, int key, const char *val, char *err,
		    size_t errlen)
{
	struct machine_disk_opts *o = ctx;
	int on;

	switch (key) {
	case 0:
		o->path = strdup(val);
		return o->path ? 0 : -ENOMEM;
	case 1:
		on = machine_opt_bool(val, true);
		if (on < 0)
			return machine_opt_error(err, errlen,
						 "readonly=%s: expected on or off", val);
		o->readonly = on;
		return 0;
	case 2:
		if (strlen(val) > 20)
			return machine_opt_error(err, errlen,
						 "serial=%s: at most 20 characters", val);
		o->serial = strdup(val);
		return o->serial ? 0 : -ENOMEM;
	default:
		return machine_opt_ring(val, &o->packed, err, errlen);
	}
}

/*
 * --disk MODEL,path=FILE[,readonly[=on|off]][,serial=S][,ring=split|packed]
 * (paths cannot contain ','; ring= is virtio's only).
 */
static int disk_parse(const char *opts, bool virtio, void **out, char *err,
		      size_t errlen)
{
	static const char *const keys[] = { "path", "readonly", "serial", "ring" };
	struct machine_disk_opts *o = calloc(1, sizeof(*o));
	int ret;

	if (!o)
		return -ENOMEM;
	*out = o;
	ret = machine_opt_parse(opts, "--disk", keys, virtio ? 4 : 3, disk_opt,
				o, err, errlen);
	if (!ret && (!o->path || !*o->path))
		return machine_opt_error(err, errlen, "--disk %s: path= is required",
					 virtio ? "virtio" : "nvme");
	return ret;
}

static int virtio_disk_parse(const char *opts, void **out, char *err,
			     size_t errlen)
{
	return disk_parse(opts, true, out, err, errlen);
}

static int nvme_disk_parse(const char *opts, void **out, char *err,
			   size_t errlen)
{
	return disk_parse(opts, false, out, err, errlen);
}

/* A disk must exist, be a regular file or block device, and be openable
 * with the access the guest will get. */
static int disk_check(const void *opts, char *err, size_t errlen)
{
	const struct machine_disk_opts *o = opts;
	struct stat st;
	int fd = open(o->path, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0)
		return machine_opt_error(err, errlen, "disk %s: %s%s", o->path,
					 strerror(errno),
					 errno == EACCES || errno == EROFS ?
						 " (add ,readonly for read-only access)" : "");
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		close(fd);
		return machine_opt_error(err, errlen,
					 "disk %s: not a file or block device",
					 o->path);
	}
	close(fd);
	return 0;
}

static int virtio_blk_dev_create(struct machine *m, const void *opts,
				 struct pci_dev **dev, char *err, size_t errlen)
{
	const struct machine_disk_opts *o = opts;
	struct pci_dev_ctx ctx = machine_pci_ctx(m);
	struct virtio_blk_config bcfg = {
		.path = o->path,
		.readonly = o->readonly,
		.serial = o->serial,
		.packed = o->packed,
	};
	struct virtio_blk *b;
	int ret = virtio_blk_create(&ctx, &bcfg, &b, err, errlen);

	if (!ret)
		*dev = virtio_blk_pci(b);
	return ret;
}

const struct machine_device_type machine_virtio_blk = {
	.name = "virtio-blk",
	.front = MACHINE_FRONT_DISK,
	.model = "virtio",
	.usage = "--disk virtio,path=FILE[,readonly][,serial=S][,ring=split|packed]",
	.help = "virtio-blk on a raw file or block device",
	.parse = virtio_disk_parse,
	.free_opts = disk_free,
	.check = disk_check,
	.create_pci = virtio_blk_dev_create,
};

static int nvme_dev_create(struct machine *m, const void *opts,
			   struct pci_dev **dev, char *err, size_t errlen)
{
	const struct machine_disk_opts *o = opts;
	struct pci_dev_ctx ctx = machine_pci_ctx(m);
	struct nvme_config ncfg = {
		.path = o->path,
		.readonly = o->readonly,
		.serial = o->serial,
	};
	struct nvme *n;
	int ret = nvme_create(&ctx, &ncfg, &n, err, errlen);

	if (ret)
		return ret;
	*dev = nvme_pci(n);
	return 0;
}

const struct machine_device_type machine_nvme = {
	.name = "nvme",
	.front = MACHINE_FRONT_DISK,
	.model = "nvme",
	.usage = "--disk nvme,path=FILE[,readonly][,serial=S]",
	.help = "emulated NVMe controller (1b36:0010, as QEMU's nvme): one "
		"namespace of 512-byte blocks, MSI-X, doorbells trapped",
	.parse = nvme_disk_parse,
	.free_opts = disk_free,
	.check = disk_check,
	.create_pci = nvme_dev_create,
};
