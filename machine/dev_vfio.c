// SPDX-License-Identifier: MIT
/*
 * Assigned devices: `--device vfio-pci,host=BDF|pf=PF[,...]`, opened through
 * the VM's one VFIO backend (vfio/backend.h) and built as the passthrough
 * device (vfio/vfio.h); a pooled VF leased from sriov/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/pci/host.h"
#include "core/util.h"
#include "machine/dev_opts.h"
#include "machine/devtypes.h"
#include "sriov/sriov.h"
#include "vfio/backend.h"
#include "vfio/sysfs.h"
#include "vfio/vfio.h"

/*
 * A pf= pool's VF setting (mac, vlan, qos, vlan-proto, spoofchk, trust,
 * max-rate, min-rate, link): sriov/ parses and validates the value, so
 * `iovmm sriov set` and --device accept exactly the same things. Returns
 * -ENOENT (no message) for a key that is not a VF setting.
 */
static int vfio_setting(struct machine_vfio_opts *v, const char *key,
			const char *val, unsigned *seen, char *err,
			size_t errlen)
{
	static const char *const keys[] = {
		"mac", "vlan", "qos", "vlan-proto", "spoofchk", "trust",
		"max-rate", "min-rate", "link",
	};
	char msg[256] = "";
	unsigned i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(keys) && strcmp(key, keys[i]); i++)
		;
	if (i == ARRAY_SIZE(keys))
		return -ENOENT;
	if (*seen & (1u << i))
		return machine_opt_error(err, errlen, "vfio-pci: %s= given twice", key);
	*seen |= 1u << i;
	ret = sriov_settings_parse(&v->vf_settings, key, val, msg, sizeof(msg));
	if (ret)
		return machine_opt_error(err, errlen, "vfio-pci: %s",
					 msg[0] ? msg : "invalid VF setting");
	return 0;
}

/* host=, then the checks that need every option: exactly one of host= and
 * pf=, VF settings only with pf= and consistent among themselves. */
static int vfio_opts_check(const struct machine_vfio_opts *v, unsigned seen,
			   char *err, size_t errlen)
{
	char msg[256] = "";

	if (v->host[0] && v->pf[0])
		return machine_opt_error(err, errlen, "--device vfio-pci: host= and pf= exclude each other (host= assigns that function, pf= takes a free VF of the PF)");
	if (!v->host[0] && !v->pf[0])
		return machine_opt_error(err, errlen, "--device vfio-pci: host=BDF or pf=PF is required (e.g. host=0000:01:00.1 or pf=enp59s0f0)");
	if (v->host[0] && seen)
		return machine_opt_error(err, errlen, "--device vfio-pci: VF settings (mac=, vlan=, trust=...) need pf=; for a host= VF use iovmm sriov set");
	if (sriov_settings_check(&v->vf_settings, msg, sizeof(msg)))
		return machine_opt_error(err, errlen, "vfio-pci: %s", msg);
	return 0;
}

/*
 * host=env:NAME[:N]: the N-th (0-based; N may be left out when the list
 * holds one) of the comma-separated PCI addresses in environment variable
 * NAME. The Kubernetes SR-IOV network device plugin hands a pod the VFs it
 * allocated that way (PCIDEVICE_<RESOURCE>=0000:3b:02.1,0000:3b:02.2), as
 * KubeVirt's launcher reads them. Resolved here, once: the device then
 * holds a BDF like any host= device.
 */
static int vfio_host_env(const char *spec, char out[MACHINE_VFIO_HOST_MAX],
			 char *err, size_t errlen)
{
	char name[128], bdf[VFIO_HOST_BDF_SIZE], msg[128];
	const char *colon = strchr(spec, ':'), *list, *p;
	size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned long idx = 0, count = 1;
	char *end;

	if (!nlen || nlen >= sizeof(name) ||
	    strspn(spec, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != nlen)
		return machine_opt_error(err, errlen, "vfio-pci: host=env:%s: expected env:NAME or env:NAME:INDEX", spec);
	memcpy(name, spec, nlen);
	name[nlen] = '\0';
	if (colon) {
		idx = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end)
			return machine_opt_error(err, errlen, "vfio-pci: host=env:%s: the index after ':' must be a number", spec);
	}
	list = getenv(name);
	if (!list || !list[0])
		return machine_opt_error(err, errlen, "vfio-pci: host=env:%s: %s is not set (the SR-IOV device plugin sets PCIDEVICE_<RESOURCE> in the pod)", spec, name);
	for (p = list; (p = strchr(p, ',')); p++)
		count++;
	if (!colon && count > 1)
		return machine_opt_error(err, errlen, "vfio-pci: host=env:%s: %s holds %lu addresses; say which: env:%s:0 to env:%s:%lu", spec, name, count, name, name, count - 1);
	if (idx >= count)
		return machine_opt_error(err, errlen, "vfio-pci: host=env:%s: %s holds %lu address%s", spec, name, count, count == 1 ? "" : "es");
	for (p = list; idx--; p = strchr(p, ',') + 1)
		;
	snprintf(out, MACHINE_VFIO_HOST_MAX, "%.*s", (int)strcspn(p, ","), p);
	if (vfio_host_parse_bdf(out, bdf, msg, sizeof(msg)))
		return machine_opt_error(err, errlen, "vfio-pci: host=env:%s: %s", spec, msg);
	snprintf(out, MACHINE_VFIO_HOST_MAX, "%s", bdf);
	return 0;
}

static int vfio_parse(const char *cursor, void **out, char *err,
		      size_t errlen)
{
	struct machine_vfio_opts *o = calloc(1, sizeof(*o));
	char key[32], val[MACHINE_VFIO_HOST_MAX];
	unsigned seen = 0;
	int ret;

	if (!o)
		return -ENOMEM;
	*out = o;
	while ((ret = machine_opt_next(&cursor, key, sizeof(key), val,
				       sizeof(val)))) {
		char *end;
		long n;

		if (ret < 0)
			return machine_opt_error(err, errlen, "vfio-pci: option too long");
		if (!strcmp(key, "host") || !strcmp(key, "pf")) {
			char *dst = key[0] == 'h' ? o->host : o->pf;

			if (!val[0] || dst[0])
				return machine_opt_error(err, errlen, "vfio-pci: %s= missing or given twice", key);
			if (dst == o->host && !strncmp(val, "env:", 4)) {
				ret = vfio_host_env(val + 4, dst, err, errlen);
				if (ret)
					return ret;
				continue;
			}
			snprintf(dst, MACHINE_VFIO_HOST_MAX, "%s", val);
		} else if (!strcmp(key, "no-mmap")) {
			n = strtol(val, &end, 10);
			if (!*val || *end || n < 0 || n > 5)
				return machine_opt_error(err, errlen, "vfio-pci: no-mmap=%s: expected a BAR number 0-5", val);
			o->no_mmap_bars |= 1u << n;
		} else if (!strcmp(key, "rom")) {
			if (strcmp(val, "on") && strcmp(val, "off"))
				return machine_opt_error(err, errlen, "vfio-pci: rom=%s: expected on or off", val);
			o->rom_off = !strcmp(val, "off");
		} else if (!strcmp(key, "x-keep-vendor-caps")) {
			o->keep_vendor_caps = !val[0] || !strcmp(val, "on");
		} else {
			ret = vfio_setting(o, key, val, &seen, err, errlen);
			if (ret == -ENOENT)
				return machine_opt_error(err, errlen, "vfio-pci: unknown option '%s'", key);
			if (ret)
				return ret;
		}
	}
	return vfio_opts_check(o, seen, err, errlen);
}

/*
 * A pooled VF's lease, handed to the VM's VFIO backend with the VF's open:
 * the VF may only go back to its pool (unbound from vfio-pci) once the
 * backend has closed what it opened the VF through (its IOMMU group for
 * type1), and only the backend knows when that is.
 */
struct vfio_lease_hold {
	struct vfio_group_hook hook;
	struct sriov_lease *lease;
};

static void vfio_lease_closed(struct vfio_group_hook *h)
{
	struct vfio_lease_hold *lh = container_of(h, struct vfio_lease_hold, hook);

	sriov_pool_release(lh->lease);
	free(lh);
}

static void vfio_backend_release(void *obj)
{
	vfio_backend_destroy(obj);
}

/*
 * The kind of VFIO backend a device asks for. Only the kernel's type1
 * container today; an option (iommufd=, a vfio-user socket) picks another.
 */
static const struct vfio_backend_type *
vfio_backend_type_of(const struct machine_vfio_opts *o)
{
	return &vfio_type1_backend;
}

/*
 * The VM's VFIO backend: one per VM, made with its first vfio-pci device
 * and handed to the VM before that device is. vm_destroy() releases in
 * reverse, so the backend outlives every vfio-pci device and then gives
 * the leases back as it closes their groups.
 */
static int vfio_backend_get(struct machine *m,
			    const struct vfio_backend_type *type,
			    struct vfio_backend **out, char *err, size_t errlen)
{
	const struct vfio_backend_cfg cfg = { .mem = m->parts->mem };
	struct vfio_backend *b;
	int ret;

	if (m->vfio && m->vfio->type != type) {
		log_errf(err, errlen, "vfio-pci: all assigned devices of a VM share one VFIO backend (%s, not %s)",
			 m->vfio->type->name, type->name);
		return -EINVAL;
	}
	if (!m->vfio) {
		ret = type->create(&cfg, &b, err, errlen);
		if (ret)
			return ret;
		ret = vm_adopt(m->vm, b, vfio_backend_release);
		if (ret) {
			vfio_backend_destroy(b);
			log_errf(err, errlen, "vfio-pci: too many devices");
			return ret;
		}
		m->vfio = b;
	}
	*out = m->vfio;
	return 0;
}

/*
 * pf=: lease a free VF of the PF, apply the VF settings and bind it to
 * vfio-pci (sriov_pool_acquire() repairs what crashed iovmm processes left
 * on the VFs it considers). The lease is an flock()ed file, so it ends with
 * this process however it ends; *out holds it for the backend.
 */
static int vfio_dev_lease(const struct machine_vfio_opts *cfg,
			  struct vfio_lease_hold **out, char bdf[SRIOV_BDF_SIZE],
			  char *err, size_t errlen)
{
	const struct sriov_vf_settings *s = &cfg->vf_settings;
	uint64_t t0 = util_now_ms();
	struct vfio_lease_hold *lh = calloc(1, sizeof(*lh));
	struct sriov_env env;
	char msg[384] = "";
	int ret;

	if (!lh)
		return -ENOMEM;
	sriov_env_default(&env);
	ret = sriov_pool_acquire(&env, cfg->pf, s->set ? s : NULL, &lh->lease,
				 bdf, SRIOV_BDF_SIZE, msg, sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "vfio-pci: pf=%s: %s", cfg->pf,
			 msg[0] ? msg : strerror(-ret));
		free(lh);
		return ret;
	}
	lh->hook.closed = vfio_lease_closed;
	log_info("vfio-pci", "VF %s from the pool of %s (leased and bound in "
		 "%llu ms)", bdf, cfg->pf,
		 (unsigned long long)(util_now_ms() - t0));
	*out = lh;
	return 0;
}

/*
 * The VF token when `host` is a VF of a PF owned by vfio-pci. A host the
 * sriov/ code cannot find is left to the backend, whose message about a
 * missing device is the better one.
 */
static int vfio_dev_token(const char *host, char token[SRIOV_TOKEN_SIZE],
			  char *err, size_t errlen)
{
	char msg[384] = "", bdf[VFIO_BDF_LEN];
	int ret;

	token[0] = '\0';
	if (vfio_sysfs_parse_bdf(host, bdf))
		return 0;
	ret = sriov_vf_token(bdf, token, msg, sizeof(msg));
	if (ret == -ENODEV || ret == -EINVAL || ret == -ENAMETOOLONG) {
		token[0] = '\0';
		return 0;
	}
	if (ret)
		snprintf(err, errlen, "vfio-pci: %s", msg[0] ? msg :
			 strerror(-ret));
	return ret;
}

/*
 * Open the function (a leased VF with pf=) through the VM's backend. The
 * lease goes to the backend with the open, whatever happens to it.
 */
static int vfio_dev_open(struct machine *m, const struct machine_vfio_opts *o,
			 struct vfio_device **out, char *err, size_t errlen)
{
	char bdf[SRIOV_BDF_SIZE], token[SRIOV_TOKEN_SIZE];
	struct vfio_open_req req = { .host = o->host };
	struct vfio_lease_hold *lh = NULL;
	struct vfio_backend *b;
	int ret;

	ret = vfio_backend_get(m, vfio_backend_type_of(o), &b, err, errlen);
	if (ret)
		return ret;
	if (o->pf[0]) {
		ret = vfio_dev_lease(o, &lh, bdf, err, errlen);
		if (ret)
			return ret;
		req.host = bdf;
		req.on_closed = &lh->hook;
	}
	ret = vfio_dev_token(req.host, token, err, errlen);
	if (ret) {
		if (lh)
			vfio_lease_closed(&lh->hook); /* nothing opened yet */
		return ret;
	}
	req.vf_token = token[0] ? token : NULL;
	return b->ops->open_device(b, &req, out, err, errlen);
}

static int vfio_dev_create(struct machine *m, const void *opts,
			   struct pci_dev **dev, char *err, size_t errlen)
{
	const struct machine_vfio_opts *o = opts;
	const struct vfio_ctx ctx = {
		.irq = m->parts->irq,
		.bus = m->parts->bus,
		.slots = m->parts->slots,
	};
	const struct vfio_pci_config vcfg = {
		.no_mmap_bars = o->no_mmap_bars,
		.rom_off = o->rom_off,
		.keep_vendor_caps = o->keep_vendor_caps,
	};
	struct vfio_device *vdev;
	struct vfio_pci *v;
	int ret;

	/* Whatever fails, the backend keeps what it opened until the VM goes. */
	ret = vfio_dev_open(m, o, &vdev, err, errlen);
	if (ret)
		return ret;
	ret = vfio_pci_create(vdev, &vcfg, &ctx, &v, err, errlen);
	if (ret)
		return ret;
	*dev = vfio_pci_dev(v);
	return 0;
}

/* The host side, read only: the function (host=) or the PF (pf=) exists
 * and is usable, before anything is leased, bound or opened. */
static int vfio_dev_check(const void *opts, char *err, size_t errlen)
{
	const struct machine_vfio_opts *o = opts;
	char bdf[SRIOV_BDF_SIZE], msg[384] = "";
	struct sriov_env env;
	int ret;

	if (!o->pf[0])
		return vfio_backend_type_of(o)->host_check(
			&(struct vfio_backend_cfg){ 0 }, o->host, err, errlen);
	sriov_env_default(&env);
	ret = sriov_pf_resolve(&env, o->pf, bdf, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "vfio-pci: pf=%s: %s", o->pf,
			 msg[0] ? msg : strerror(-ret));
	return ret;
}


/* vfio-pci options: host=BDF|PATH or pf=PF (one of them), no-mmap=N
 * (repeatable), rom=on|off, x-keep-vendor-caps[=on|off], and with pf= the
 * VF settings of vfio_setting(). */
const struct machine_device_type machine_vfio_pci = {
	.name = "vfio-pci",
	.front = MACHINE_FRONT_DEVICE,
	.usage = "--device vfio-pci,host=BDF|env:NAME[:N][,no-mmap=N][,rom=off]\n"
		 "--device vfio-pci,pf=PF[,mac=MAC][,vlan=N[,qos=N]][,trust=on|off]\n"
		 "    [,spoofchk=on|off][,max-rate=M][,min-rate=M][,link=L]",
	.help = "host=: assign host PCI function BDF (or its sysfs path), bound "
		"to vfio-pci (iovmm vfio bind BDF); no-mmap=N traps BAR N "
		"(repeatable), rom=off hides the ROM. pf=: assign a free SR-IOV "
		"VF of PF (PCI address or network interface; iovmm sriov list): "
		"leased for this VM (two iovmm never share one), bound to "
		"vfio-pci, given the settings (iovmm sriov --help; network PFs "
		"only), all undone when the VM ends; a crashed iovmm's VF is "
		"repaired by the next user or iovmm sriov repair. Not with host=. "
		"A VF of a PF owned by vfio-pci opens with the PF's VF token "
		"(iovmm sriov token), with pf= and host= alike. "
		"host=env:NAME[:N]: the N-th address in variable NAME (the "
		"Kubernetes SR-IOV device plugin's PCIDEVICE_<RESOURCE>; "
		"docs/sriov.md)",
	.parse = vfio_parse,
	.free_opts = free,
	.check = vfio_dev_check,
	.create_pci = vfio_dev_create,
};
