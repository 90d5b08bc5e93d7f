// SPDX-License-Identifier: MIT
/* Disks: virtio-blk on a raw file or block device (emul-devices/virtio). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emul-devices/virtio/blk.h"
#include "machine/dev_opts.h"
#include "machine/devtypes.h"

static void disk_free(void *opts)
{
	struct machine_disk_opts *o = opts;

	if (o)
		free(o->path);
	free(o);
}

/* --disk virtio,path=FILE[,readonly[=on|off]][,ring=split|packed]
 * (paths cannot contain ','). */
static int disk_parse(const char *cursor, void **out, char *err, size_t errlen)
{
	static const char *const keys[] = { "path", "ring", "readonly" };
	struct machine_disk_opts *o = calloc(1, sizeof(*o));
	char key[32], val[PATH_MAX];
	unsigned seen = 0;
	int ret;

	if (!o)
		return -ENOMEM;
	*out = o;
	while ((ret = machine_opt_next(&cursor, key, sizeof(key), val,
				       sizeof(val)))) {
		if (ret < 0)
			return machine_opt_error(err, errlen, "--disk: option too long");
		ret = machine_opt_key(keys, 3, key, &seen);
		if (ret == -ENOENT)
			return machine_opt_error(err, errlen,
						 "--disk: unknown option '%s'", key);
		if (ret == -EEXIST)
			return machine_opt_error(err, errlen,
						 "--disk: %s= given twice", key);
		switch (ret) {
		case 0:
			o->path = strdup(val);
			if (!o->path)
				return -ENOMEM;
			break;
		case 1:
			if (strcmp(val, "split") && strcmp(val, "packed"))
				return machine_opt_error(err, errlen,
							 "ring=%s: expected split or packed",
							 val);
			o->packed = !strcmp(val, "packed");
			break;
		case 2:
			ret = machine_opt_bool(val, true);
			if (ret < 0)
				return machine_opt_error(err, errlen,
							 "readonly=%s: expected on or off",
							 val);
			o->readonly = ret;
			break;
		}
	}
	if (!o->path || !*o->path)
		return machine_opt_error(err, errlen,
					 "--disk virtio: path= is required");
	return 0;
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
				 void **state, char *err, size_t errlen)
{
	const struct machine_disk_opts *o = opts;
	const struct vm_parts *p = m->parts;
	struct virtio_blk_config bcfg = {
		.path = o->path,
		.readonly = o->readonly,
		.packed = o->packed,
	};

	return virtio_blk_create(&bcfg, p->mem, p->irq, p->io, p->pci,
				 (struct virtio_blk **)state, err, errlen);
}

static void virtio_blk_dev_destroy(void *state)
{
	virtio_blk_destroy(state);
}

const struct machine_device_type machine_virtio_blk = {
	.name = "virtio-blk",
	.front = MACHINE_FRONT_DISK,
	.model = "virtio",
	.usage = "--disk virtio,path=FILE[,readonly][,ring=split|packed]",
	.help = "virtio-blk on a raw file or block device",
	.parse = disk_parse,
	.free_opts = disk_free,
	.check = disk_check,
	.create = virtio_blk_dev_create,
	.destroy = virtio_blk_dev_destroy,
};
