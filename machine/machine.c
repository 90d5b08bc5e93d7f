// SPDX-License-Identifier: MIT
/*
 * Machine assembly: checks, the VM, the legacy PC devices, then every
 * device in command-line order, each handed to the VM for teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "machine/devtypes.h"
#include "vfio/backend.h"

/*
 * Everything the configuration names that can be refused without a VM:
 * each device type's host check, and the serial file, opened here
 * (*serial_fd) so the legacy devices take it later.
 */
static int machine_check(const struct machine_config *cfg, int *serial_fd,
			 char *err, size_t errlen)
{
	int ret;

	*serial_fd = -1;
	if (cfg->nr_devices > MACHINE_MAX_DEVICES) {
		log_errf(err, errlen, "too many devices (at most %d)",
			 MACHINE_MAX_DEVICES);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->nr_devices; i++) {
		const struct machine_device_cfg *d = &cfg->devices[i];

		if (d->type->check && (ret = d->type->check(d->opts, err, errlen)))
			return ret;
	}
	if (cfg->serial == LEGACY_SERIAL_FILE) {
		*serial_fd = open(cfg->serial_path,
				  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (*serial_fd < 0) {
			ret = -errno;
			log_errf(err, errlen, "serial output %s: %s",
				 cfg->serial_path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Devices (debug-exit, i8042 reset) end the VM through this. */
static void machine_stop_cb(void *opaque, int status)
{
	vm_request_stop(opaque, status);
}

static void machine_legacy_release(void *obj)
{
	legacy_devices_destroy(obj);
}

static int machine_add_legacy(struct machine *m, const struct machine_config *cfg,
			      int serial_fd, char *err, size_t errlen)
{
	struct legacy_config lcfg = {
		.serial = cfg->serial,
		.serial_fd = serial_fd,
		.on_stop = machine_stop_cb,
		.opaque = m->vm,
	};
	int ret = legacy_devices_create(m->parts->bus, m->parts->irq,
					m->parts->io, &lcfg, &m->legacy, err,
					errlen);

	if (ret)
		return ret;
	ret = vm_adopt(m->vm, m->legacy, machine_legacy_release);
	if (ret) {
		legacy_devices_destroy(m->legacy);
		m->legacy = NULL;
	}
	return ret;
}

static void machine_device_release(void *obj)
{
	struct machine_device *d = obj;

	pci_dev_destroy(d->dev);
}

/* Build one device and plug it: the host places it and wires its INTx. */
static int machine_build(struct machine *m, const struct machine_device_cfg *c,
			 struct pci_dev **out, char *err, size_t errlen)
{
	struct pci_dev *dev;
	int ret = c->type->create_pci(m, c->opts, &dev, err, errlen);

	if (ret)
		return ret;
	ret = machine_plug(m, c->type->name, dev, err, errlen);
	if (ret) {
		pci_dev_destroy(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

static int machine_add_devices(struct machine *m,
			       const struct machine_config *cfg, char *err,
			       size_t errlen)
{
	for (unsigned i = 0; i < cfg->nr_devices; i++) {
		const struct machine_device_cfg *c = &cfg->devices[i];
		struct machine_device *d = &m->devices[m->nr_devices];
		int ret = machine_build(m, c, &d->dev, err, errlen);

		if (ret)
			return ret;
		d->type = c->type;
		ret = vm_adopt(m->vm, d, machine_device_release);
		if (ret) {
			machine_device_release(d);
			log_errf(err, errlen, "%s: too many devices", d->type->name);
			return ret;
		}
		m->nr_devices++;
	}
	return 0;
}

int machine_create(const struct machine_config *cfg, struct machine **out,
		   char *err, size_t errlen)
{
	struct machine *m;
	int serial_fd, ret;

	/* The user's own mistakes first, and on hosts without KVM too. */
	ret = machine_check(cfg, &serial_fd, err, errlen);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m) {
		if (serial_fd >= 0)
			close(serial_fd);
		return -ENOMEM;
	}
	m->cancel_fd = cfg->cancel_fd;
	ret = vm_create(&cfg->vm, &m->vm, err, errlen);
	if (ret) {
		if (serial_fd >= 0)
			close(serial_fd);
		free(m);
		return ret;
	}
	m->parts = vm_parts(m->vm);
	/* legacy_devices_create() takes serial_fd, also when it fails. */
	ret = machine_add_legacy(m, cfg, serial_fd, err, errlen);
	if (!ret)
		ret = machine_add_devices(m, cfg, err, errlen);
	if (ret) {
		machine_destroy(m);
		return ret;
	}
	*out = m;
	return 0;
}

int machine_run(struct machine *m)
{
	int status = vm_run(m->vm);

	legacy_devices_flush(m->legacy);
	return status;
}

int machine_start(struct machine *m)
{
	return vm_start(m->vm);
}

int machine_wait(struct machine *m)
{
	int status = vm_wait(m->vm);

	legacy_devices_flush(m->legacy);
	return status;
}

int machine_reset(struct machine *m, char *err, size_t errlen)
{
	/* What the guest printed before the reset comes out first. */
	legacy_devices_flush(m->legacy);
	return vm_reset(m->vm, err, errlen);
}

int machine_device_info(const struct machine *m, unsigned i,
			struct machine_device_info *out)
{
	if (i >= m->nr_devices)
		return -ENOENT;
	out->type = m->devices[i].type->name;
	out->name = m->devices[i].dev->name;
	out->devfn = m->devices[i].dev->devfn;
	return 0;
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	/* Threads, host bridge, then devices in reverse (vm_adopt). */
	vm_destroy(m->vm);
	free(m);
}

struct vm *machine_vm(const struct machine *m)
{
	return m->vm;
}

void machine_vfio_dma_stats(const struct machine *m, unsigned *entries,
			    uint64_t *bytes, uint64_t *map_ns)
{
	struct iommu_dma_stats st;

	vfio_backend_dma_stats(m->vfio, &st);
	*entries = st.entries;
	*bytes = st.bytes;
	*map_ns = st.map_ns;
}
