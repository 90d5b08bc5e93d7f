// SPDX-License-Identifier: MIT
/*
 * Assigned devices: `--device vfio-pci,host=BDF|pf=PF[,...]` through the
 * VFIO passthrough device (vfio/vfio.h), a pooled VF leased from sriov/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/pci/host.h"
#include "core/util.h"
#include "machine/dev_opts.h"
#include "machine/devtypes.h"
#include "sriov/sriov.h"
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
 * An assigned function and the pool leases it answers for. A pooled VF
 * (pf=) may only go back to its pool once its IOMMU group is closed, and
 * groups stay open in the VM's VFIO container until the container's last
 * device is gone (vfio/container.h). So a device whose container outlives
 * it passes its leases on to an earlier vfio-pci device of the VM, which
 * vm_destroy() (reverse order) destroys later; the device that closes the
 * container gives every lease back.
 */
struct vfio_dev {
	struct machine *m;
	struct vfio_pci *v;
	unsigned nleases;
	struct sriov_lease *leases[MACHINE_MAX_DEVICES];
};

/* Release `leases` now if the machine's container is closed, else hand
 * them to the last vfio-pci device among m->devices[0, below). */
static void vfio_leases_drop(struct machine *m, unsigned below,
			     struct sriov_lease **leases, unsigned n)
{
	for (unsigned i = below; m->vfio && i-- > 0;) {
		struct vfio_dev *o = m->devices[i].state;

		if (m->devices[i].type != &machine_vfio_pci)
			continue;
		for (unsigned k = 0; k < n; k++)
			o->leases[o->nleases++] = leases[k];
		return;
	}
	for (unsigned k = 0; k < n; k++)
		sriov_pool_release(leases[k]);
}

/*
 * pf=: lease a free VF of the PF, apply the VF settings and bind it to
 * vfio-pci (sriov_pool_acquire() repairs what crashed iovmm processes left
 * on the VFs it considers). The lease is an flock()ed file, so it ends with
 * this process however it ends.
 */
static int vfio_dev_lease(struct vfio_dev *vd,
			  const struct machine_vfio_opts *cfg,
			  char bdf[SRIOV_BDF_SIZE], char *err, size_t errlen)
{
	const struct sriov_vf_settings *s = &cfg->vf_settings;
	uint64_t t0 = util_now_ms();
	struct sriov_env env;
	char msg[384] = "";
	int ret;

	sriov_env_default(&env);
	ret = sriov_pool_acquire(&env, cfg->pf, s->set ? s : NULL,
				 &vd->leases[0], bdf, SRIOV_BDF_SIZE, msg,
				 sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "vfio-pci: pf=%s: %s", cfg->pf,
			 msg[0] ? msg : strerror(-ret));
		return ret;
	}
	vd->nleases = 1;
	log_info("vfio-pci", "VF %s from the pool of %s (leased and bound in "
		 "%llu ms)", bdf, cfg->pf,
		 (unsigned long long)(util_now_ms() - t0));
	return 0;
}

/*
 * The VF token when `host` is a VF of a PF owned by vfio-pci. A host the
 * sriov/ code cannot find is left to vfio_pci_create(), whose message
 * about a missing device is the better one.
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

static int vfio_dev_create(struct machine *m, const void *opts, void **state,
			   char *err, size_t errlen)
{
	const struct machine_vfio_opts *o = opts;
	const struct vfio_ctx ctx = {
		.mem = m->parts->mem,
		.irq = m->parts->irq,
		.bus = m->parts->bus,
		.slots = m->parts->slots,
		.container = &m->vfio,
	};
	char bdf[SRIOV_BDF_SIZE], token[SRIOV_TOKEN_SIZE];
	struct vfio_pci_config vcfg = {
		.host = o->host,
		.no_mmap_bars = o->no_mmap_bars,
		.rom_off = o->rom_off,
		.keep_vendor_caps = o->keep_vendor_caps,
	};
	struct vfio_dev *vd = calloc(1, sizeof(*vd));
	struct vfio_pci *v;
	int ret;

	if (!vd)
		return -ENOMEM;
	vd->m = m;
	if (o->pf[0]) {
		ret = vfio_dev_lease(vd, o, bdf, err, errlen);
		if (ret)
			goto err_free;
		vcfg.host = bdf;
	}
	ret = vfio_dev_token(vcfg.host, token, err, errlen);
	if (ret)
		goto err_lease;
	vcfg.vf_token = token[0] ? token : NULL;
	ret = vfio_pci_create(&vcfg, &ctx, &v, err, errlen);
	if (ret)
		goto err_lease;
	ret = machine_plug(m, "vfio-pci", vfio_pci_dev(v), err, errlen);
	if (ret) {
		vfio_pci_destroy(v);
		goto err_lease;
	}
	/*
	 * INTx where the function has it, on the GSI the DSDT's _PRT names
	 * for its slot and pin. Guests that use MSI/MSI-X never need it, so a
	 * failure only costs INTx (the device is on the bus already and must
	 * stay alive until the host bridge is gone).
	 */
	if (vfio_pci_intx_pin(v)) {
		unsigned slot = vfio_pci_dev(v)->devfn >> 3;

		ret = vfio_pci_set_intx_gsi(v, layout_pci_intx_gsi(slot,
						vfio_pci_intx_pin(v) - 1));
		if (ret && ret != -ENOTSUP)
			log_warn("vfio-pci", "%s: no INTx: %s", vcfg.host,
				 strerror(-ret));
	}
	vd->v = v;
	*state = vd;
	return 0;

err_lease:
	/* The VF's group may stay open in the container of earlier devices. */
	vfio_leases_drop(m, m->nr_devices, vd->leases, vd->nleases);
err_free:
	free(vd);
	return ret;
}

static void vfio_dev_destroy(void *state)
{
	struct vfio_dev *vd = state;
	struct machine *m = vd->m;
	unsigned self = 0;

	vfio_pci_destroy(vd->v);
	while (self < m->nr_devices && m->devices[self].state != vd)
		self++;
	vfio_leases_drop(m, self, vd->leases, vd->nleases);
	free(vd);
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
		return vfio_pci_host_check(o->host, NULL, NULL, err, errlen);
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
	.usage = "--device vfio-pci,host=BDF[,no-mmap=N][,rom=off]\n"
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
		"(iovmm sriov token), with pf= and host= alike",
	.parse = vfio_parse,
	.free_opts = free,
	.check = vfio_dev_check,
	.create = vfio_dev_create,
	.destroy = vfio_dev_destroy,
};
