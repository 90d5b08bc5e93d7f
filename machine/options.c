// SPDX-License-Identifier: MIT
/* The option helpers every device type's parser shares (devtypes.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mac.h"
#include "machine/devtypes.h"

int machine_opt_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verrf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int machine_opt_next(const char **cursor, char *key, size_t keylen,
		     char *val, size_t vallen)
{
	const char *p = *cursor, *end, *eq;
	size_t klen, vlen;

	if (!p || !*p)
		return 0;
	end = strchr(p, ',');
	if (!end)
		end = p + strlen(p);
	eq = memchr(p, '=', (size_t)(end - p));
	klen = (size_t)((eq ? eq : end) - p);
	vlen = eq ? (size_t)(end - eq - 1) : 0;
	*cursor = *end ? end + 1 : end;
	if (klen >= keylen || vlen >= vallen)
		return -EINVAL;
	memcpy(key, p, klen);
	key[klen] = '\0';
	if (eq)
		memcpy(val, eq + 1, vlen);
	val[vlen] = '\0';
	return 1;
}

int machine_opt_key(const char *const *keys, unsigned nkeys, const char *key,
		    unsigned *seen)
{
	for (unsigned i = 0; i < nkeys; i++) {
		if (strcmp(key, keys[i]))
			continue;
		if (*seen & (1u << i))
			return -EEXIST;
		*seen |= 1u << i;
		return (int)i;
	}
	return -ENOENT;
}

int machine_opt_parse(const char *opts, const char *what,
		      const char *const *keys, unsigned nkeys,
		      machine_opt_fn fn, void *ctx, char *err, size_t errlen)
{
	char key[32], val[PATH_MAX], list[256] = "";
	unsigned seen = 0;
	size_t n = 0;
	int ret;

	while ((ret = machine_opt_next(&opts, key, sizeof(key), val,
				       sizeof(val)))) {
		if (ret < 0)
			return machine_opt_error(err, errlen, "%s: option too long",
						 what);
		ret = machine_opt_key(keys, nkeys, key, &seen);
		if (ret == -EEXIST)
			return machine_opt_error(err, errlen, "%s: %s= given twice",
						 what, key);
		if (ret == -ENOENT) {
			for (unsigned i = 0; i < nkeys && n < sizeof(list); i++)
				n += (size_t)snprintf(list + n, sizeof(list) - n,
						      "%s%s=", i ? ", " : "",
						      keys[i]);
			return machine_opt_error(err, errlen,
						 "%s: unknown option '%s' (%s)",
						 what, key, list);
		}
		ret = fn(ctx, ret, val, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int machine_opt_mac(const char *val, uint8_t mac[6], char *err, size_t errlen)
{
	if (mac_parse(val, mac))
		return machine_opt_error(err, errlen,
					 "mac=%s: invalid MAC address (expected xx:xx:xx:xx:xx:xx)",
					 val);
	/* Multicast, broadcast or zero: not a station address. */
	if (!mac_is_station(mac))
		return machine_opt_error(err, errlen,
					 "mac=%s: not a unicast station address",
					 val);
	return 0;
}

int machine_opt_queues(const char *val, unsigned *out, char *err,
		       size_t errlen)
{
	char *end;
	long n = strtol(val, &end, 10);

	if (!*val || *end || n < 1 || n > MACHINE_NET_MAX_QUEUES)
		return machine_opt_error(err, errlen, "queues=%s: expected 1 to %d",
					 val, MACHINE_NET_MAX_QUEUES);
	*out = (unsigned)n;
	return 0;
}

int machine_opt_ring(const char *val, bool *packed, char *err, size_t errlen)
{
	if (strcmp(val, "split") && strcmp(val, "packed"))
		return machine_opt_error(err, errlen,
					 "ring=%s: expected split or packed", val);
	*packed = !strcmp(val, "packed");
	return 0;
}

int machine_opt_bool(const char *val, bool bare)
{
	if ((bare && !*val) || !strcmp(val, "on"))
		return 1;
	if (!strcmp(val, "off"))
		return 0;
	return -EINVAL;
}
