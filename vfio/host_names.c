// SPDX-License-Identifier: MIT
/*
 * PCI vendor, device and class names from the pci.ids database through
 * libpci's pci_lookup_name(). Only the name database is used: no access
 * method is initialised (pci_init() would probe /proc/bus/pci or sysfs and
 * bail out through the error hook when neither works), so it runs the same
 * on the host, in the lab's initrd and in unit tests.
 */
#include <errno.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/host.h"

struct vfio_host_names {
	struct pci_access *pacc;
	bool broken; /* the database failed to parse: answer "" from now on */
};

/*
 * libpci's error hook must not return (PCI_NONRET) and by default calls
 * exit(): a library may not do that, so the hook jumps back to the lookup
 * that is running on this thread.
 */
static __thread jmp_buf *names_jmp;

__attribute__((noreturn)) static void names_error(char *msg, ...)
{
	longjmp(*names_jmp, 1);
}

static void names_quiet(char *msg, ...)
{
}

int vfio_host_names_create(const char *ids, struct vfio_host_names **out)
{
	struct vfio_host_names *n;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->pacc = pci_alloc();
	if (!n->pacc) {
		free(n);
		return -ENOMEM;
	}
	n->pacc->error = names_error;
	n->pacc->warning = names_quiet;
	n->pacc->debug = names_quiet;
	/* No ~/.pciids-cache, no DNS: the answer depends on pci.ids only. */
	n->pacc->id_lookup_mode = 0;
	if (ids)
		pci_set_name_list_path(n->pacc, (char *)ids, 0);
	*out = n;
	return 0;
}

void vfio_host_names_destroy(struct vfio_host_names *n)
{
	if (!n)
		return;
	pci_cleanup(n->pacc);
	free(n);
}

/* pci_lookup_name() with its variadic ids; "" when unknown. */
static void names_lookup(struct vfio_host_names *n, char *buf, size_t len,
			 int flags, unsigned int a, unsigned int b)
{
	jmp_buf env, *saved = names_jmp;
	char tmp[256];
	const char *volatile r = NULL;

	if (!len)
		return;
	buf[0] = '\0';
	if (n->broken)
		return;
	flags |= PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB;
	names_jmp = &env;
	if (setjmp(env) == 0)
		r = pci_lookup_name(n->pacc, tmp, sizeof(tmp), flags, a, b);
	else
		n->broken = true;
	names_jmp = saved;
	if (r)
		snprintf(buf, len, "%s", r);
}

void vfio_host_names_vendor(struct vfio_host_names *n, uint16_t vendor,
			    char *buf, size_t len)
{
	names_lookup(n, buf, len, PCI_LOOKUP_VENDOR, vendor, 0);
}

void vfio_host_names_device(struct vfio_host_names *n, uint16_t vendor,
			    uint16_t device, char *buf, size_t len)
{
	names_lookup(n, buf, len, PCI_LOOKUP_DEVICE, vendor, device);
}

void vfio_host_names_class(struct vfio_host_names *n, uint32_t class_code,
			   char *buf, size_t len)
{
	char progif[128];
	size_t used;

	names_lookup(n, buf, len, PCI_LOOKUP_CLASS, class_code >> 8, 0);
	if (!buf[0])
		return;
	names_lookup(n, progif, sizeof(progif), PCI_LOOKUP_PROGIF,
		     class_code >> 8, class_code & 0xff);
	used = strlen(buf);
	if (progif[0] && used < len)
		snprintf(buf + used, len - used, " (%s)", progif);
}
