/* SPDX-License-Identifier: MIT */
/*
 * Cloud Hypervisor's VmConfig (its OpenAPI document, components/schemas)
 * mapped onto iovmm's machine_config, both ways.
 *
 * Every field iovmm honours is in a table; a field that is not is refused
 * with a sentence naming it ("net[0].rate_limiter_config is not supported
 * by iovmm"), never ignored. A few CH fields are accepted only with the
 * value iovmm's behaviour already matches (iommu: false, mergeable: false).
 * Devices are translated into the command line's device strings and parsed
 * by the device table (machine_config_add), so a device option means the
 * same through the API and the CLI. docs/api.md lists the mapping.
 */
#ifndef IOVMM_API_CONFIG_H
#define IOVMM_API_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "machine/machine.h"

struct api_vm_config {
	/*
	 * The VmConfig as accepted, with iovmm's defaults written in (what
	 * vm.info reports); owned. The strings in mc point into it.
	 */
	json_t *json;
	struct machine_config mc;
};

/*
 * Parse a VmConfig body. 0, or -EINVAL with a one-line reason in err (bad
 * JSON, a field iovmm does not support, a value out of range, a device
 * option its type refuses). out is initialised in every case; free it with
 * api_config_free().
 */
int api_config_parse(const char *body, size_t len, struct api_vm_config *out,
		     char *err, size_t errlen);
void api_config_free(struct api_vm_config *cfg);

/*
 * The VmConfig of a machine built from the command line (iovmm run): CPUs,
 * memory, payload and serial in CH's fields, every device as its command
 * line string in the "iovmm" extension object. A new reference, or NULL.
 */
json_t *api_config_from_machine(const struct machine_config *mc);

#endif
