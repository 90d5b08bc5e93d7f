/* SPDX-License-Identifier: MIT */
/*
 * Logging. Every line names its module (and device, when there is one):
 *   iovmm: uart0: ...
 * Data-path call sites use log_ratelimited() so a hostile guest cannot flood
 * the host's log; LOG_DEBUG lines compile away unless IOVMM_DEBUG is defined.
 */
#ifndef IOVMM_LOG_H
#define IOVMM_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

__attribute__((format(printf, 3, 4)))
void log_msg(enum log_level level, const char *who, const char *fmt, ...);

/*
 * Token bucket for data-path messages: at most `burst` lines, refilled at one
 * line per `interval_ms`. Returns true when the caller may log. Lock-free.
 */
struct log_ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	uint64_t window_start_ms; /* atomically updated */
	uint32_t printed;         /* atomically updated */
};
#define LOG_RATELIMIT_INIT { .interval_ms = 5000, .burst = 5 }
bool log_ratelimit_ok(struct log_ratelimit *rl);

/*
 * Library functions that fail report one human-readable sentence through
 * a caller's (char *err, size_t errlen); this writes it, truncated to fit.
 * Nothing is written when err is NULL or errlen is 0 (callers that only
 * want the -errno). It prints nothing: the caller that handles the error
 * decides whether and where to show it.
 */
__attribute__((format(printf, 3, 4)))
void log_errf(char *err, size_t errlen, const char *fmt, ...);
/* The same for wrappers that take their own arguments. */
__attribute__((format(printf, 3, 0)))
void log_verrf(char *err, size_t errlen, const char *fmt, va_list ap);

#define log_err(who, ...) log_msg(LOG_ERR, who, __VA_ARGS__)
#define log_warn(who, ...) log_msg(LOG_WARN, who, __VA_ARGS__)
#define log_info(who, ...) log_msg(LOG_INFO, who, __VA_ARGS__)
#ifdef IOVMM_DEBUG
#define log_debug(who, ...) log_msg(LOG_DEBUG, who, __VA_ARGS__)
#else
#define log_debug(who, ...) do { if (0) log_msg(LOG_DEBUG, who, __VA_ARGS__); } while (0)
#endif

/* One rate-limited line per call site. */
#define log_ratelimited(level, who, ...)                                    \
	do {                                                                \
		static struct log_ratelimit rl__ = LOG_RATELIMIT_INIT;      \
		if (log_ratelimit_ok(&rl__))                                \
			log_msg(level, who, __VA_ARGS__);                   \
	} while (0)

#endif
