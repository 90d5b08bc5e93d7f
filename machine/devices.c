// SPDX-License-Identifier: MIT
/*
 * The device table: every device type a user can add, in one const table
 * (no constructor lists, no linker sets), and what the machine does with
 * it that is the same for every type: finding a type from how the user
 * spelled it, holding its parsed options, numbering NICs, plugging.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pci/host.h"
#include "core/util.h"
#include "machine/devtypes.h"

static const struct machine_device_type *const machine_device_types[] = {
	&machine_pci_testdev,
	&machine_edu,
	&machine_vfio_pci,
	&machine_virtio_net,
	&machine_e1000,
	&machine_vhost_user_net,
	&machine_virtio_blk,
	&machine_nvme,
};

static const char *const front_names[] = {
	[MACHINE_FRONT_DEVICE] = "--device",
	[MACHINE_FRONT_NET] = "--net",
	[MACHINE_FRONT_DISK] = "--disk",
};

/* The type a `--net MODEL`/`--disk MODEL` or `--device NAME` names. */
static const struct machine_device_type *find(enum machine_front front,
					      const char *word, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(machine_device_types); i++) {
		const struct machine_device_type *t = machine_device_types[i];
		const char *name = front == MACHINE_FRONT_DEVICE ? t->name
								 : t->model;

		if (t->front == front && strlen(name) == len &&
		    !strncmp(name, word, len))
			return t;
	}
	return NULL;
}

/* "virtio, e1000 or vhost-user": the models of one front, for messages. */
static void models(enum machine_front front, char *buf, size_t len)
{
	size_t n = 0, count = 0, total = 0;

	for (size_t i = 0; i < ARRAY_SIZE(machine_device_types); i++)
		total += machine_device_types[i]->front == front;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(machine_device_types) && n < len; i++) {
		const struct machine_device_type *t = machine_device_types[i];

		if (t->front != front)
			continue;
		count++;
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
				      count == 1 ? "" :
				      count == total ? " or " : ", ",
				      front == MACHINE_FRONT_DEVICE ? t->name
								    : t->model);
	}
}

void machine_config_init(struct machine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->serial = LEGACY_SERIAL_STDIO;
	cfg->cancel_fd = -1;
}

int machine_config_add(struct machine_config *cfg, enum machine_front front,
		       const char *arg, char *err, size_t errlen)
{
	static const char *const what[] = {
		[MACHINE_FRONT_DEVICE] = "device type",
		[MACHINE_FRONT_NET] = "NIC model",
		[MACHINE_FRONT_DISK] = "disk model",
	};
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);
	const struct machine_device_type *t;
	struct machine_device_cfg *d;
	char list[256];
	int ret;

	if (!len)
		return machine_opt_error(err, errlen, "%s: missing %s",
					 front_names[front], what[front]);
	t = find(front, arg, len);
	if (!t && front == MACHINE_FRONT_DEVICE) {
		for (size_t i = 0; i < ARRAY_SIZE(machine_device_types); i++) {
			const struct machine_device_type *o = machine_device_types[i];

			if (strlen(o->name) == len && !strncmp(o->name, arg, len))
				return machine_opt_error(err, errlen,
							 "--device %s: use %s %s,...",
							 o->name, front_names[o->front],
							 o->model);
		}
		return machine_opt_error(err, errlen,
					 "unknown device '%.*s' (see iovmm run --help)",
					 (int)len, arg);
	}
	if (!t) {
		models(front, list, sizeof(list));
		return machine_opt_error(err, errlen, "%s %.*s: unknown %s (%s)",
					 front_names[front], (int)len, arg,
					 what[front], list);
	}
	if (cfg->nr_devices == MACHINE_MAX_DEVICES)
		return machine_opt_error(err, errlen,
					 "too many devices (at most %d)",
					 MACHINE_MAX_DEVICES);
	if (!t->parse && comma)
		return machine_opt_error(err, errlen,
					 "device %s takes no options (got '%s')",
					 t->name, comma + 1);
	d = &cfg->devices[cfg->nr_devices++];
	*d = (struct machine_device_cfg){ .type = t, .front = front,
					  .spec = strdup(arg) };
	if (!d->spec)
		return machine_opt_error(err, errlen, "%s: out of memory", t->name);
	if (!t->parse)
		return 0;
	ret = t->parse(comma ? comma + 1 : "", &d->opts, err, errlen);
	if (ret == -ENOMEM)
		machine_opt_error(err, errlen, "%s: out of memory", t->name);
	return ret;
}

void machine_config_free(struct machine_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_devices; i++) {
		struct machine_device_cfg *d = &cfg->devices[i];

		if (d->opts)
			d->type->free_opts(d->opts);
		d->opts = NULL;
		free(d->spec);
		d->spec = NULL;
	}
	cfg->nr_devices = 0;
}

/* Wrap `text` at 54 columns, indented to the help column. */
static void print_wrapped(FILE *out, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = strlen(p), cut = n;

		if (n > 54) {
			cut = 54;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (!cut)
				cut = 54;
		}
		fprintf(out, "%23s%.*s\n", "", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

void machine_print_usage(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(machine_device_types); i++) {
		const struct machine_device_type *t = machine_device_types[i];
		const char *u = t->usage;

		/* Each spelling on its own line, then the wrapped help. */
		while (*u) {
			size_t n = strcspn(u, "\n");

			fprintf(out, "  %.*s\n", (int)n, u);
			u += n + (u[n] == '\n');
		}
		print_wrapped(out, t->help);
	}
}

void machine_nic_mac(struct machine *m, const uint8_t *given, uint8_t mac[6])
{
	static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	unsigned index = m->nr_nics++;

	if (given) {
		memcpy(mac, given, 6);
		return;
	}
	memcpy(mac, base, 6);
	mac[5] = (uint8_t)(base[5] + index);
}

struct pci_dev_ctx machine_pci_ctx(const struct machine *m)
{
	return (struct pci_dev_ctx){
		.mem = m->parts->mem,
		.irq = m->parts->irq,
		.io = m->parts->io,
		.bus = m->parts->bus,
		.slots = m->parts->slots,
		.cancel_fd = m->cancel_fd,
	};
}

int machine_plug(struct machine *m, const char *type, struct pci_dev *pci,
		 char *err, size_t errlen)
{
	int ret = pci_host_add(m->parts->pci, pci);

	if (ret)
		snprintf(err, errlen, "device %s: cannot add to PCI bus: %s",
			 type, ret == -ENOSPC ? "no free slot or BAR space" :
						strerror(-ret));
	return ret;
}
