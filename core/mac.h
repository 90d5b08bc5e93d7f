/* SPDX-License-Identifier: MIT */
/* Ethernet MAC addresses as users write them: "52:54:00:12:34:56". */
#ifndef IOVMM_MAC_H
#define IOVMM_MAC_H

#include <stdbool.h>
#include <stdint.h>

#define MAC_STR_SIZE 18 /* "xx:xx:xx:xx:xx:xx" and the NUL */

/*
 * Six colon-separated pairs of hex digits, nothing before or after.
 * 0, or -EINVAL (mac untouched on error). Any address is accepted; see
 * mac_is_station() for what a NIC may use as its own.
 */
int mac_parse(const char *s, uint8_t mac[6]);
/* Lower-case "xx:xx:xx:xx:xx:xx". */
void mac_format(const uint8_t mac[6], char out[MAC_STR_SIZE]);
/* Unicast (I/G bit clear) and not all zero: usable as a station address. */
bool mac_is_station(const uint8_t mac[6]);

#endif
