/* SPDX-License-Identifier: MIT */
/*
 * Freestanding helpers: the mem* functions the compiler may call, a small
 * printf (%s %c %d %u %x %p with l/ll/z and zero-padded widths), the CPL3
 * console and command-line number parsing.
 */
#include "guest/kit.h"

/* rep movsb/stosb: short, and immune to the compiler turning a byte loop
 * back into a call to ourselves. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb"
			 : "+D"(d), "+S"(src), "+c"(n)
			 :
			 : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t kit_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

struct kit_out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_c(struct kit_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_num(struct kit_out *o, uint64_t v, unsigned int base,
		    bool neg, unsigned int width, char pad)
{
	char tmp[24];
	unsigned int n = 0;

	do {
		unsigned int d = v % base;

		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width > n) {
		out_c(o, pad);
		width--;
	}
	while (n)
		out_c(o, tmp[--n]);
}

static uint64_t fetch_arg(va_list *ap, int lng, bool sgn, bool *neg)
{
	*neg = false;
	if (sgn) {
		int64_t v = lng ? va_arg(*ap, int64_t) : va_arg(*ap, int);

		if (v < 0) {
			*neg = true;
			return (uint64_t)0 - (uint64_t)v;
		}
		return (uint64_t)v;
	}
	return lng ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned int);
}

int kit_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap0)
{
	struct kit_out o = { buf, size, 0 };
	va_list ap;

	va_copy(ap, ap0);
	for (; *fmt; fmt++) {
		unsigned int width = 0;
		char pad = ' ';
		int lng = 0;
		bool neg;

		if (*fmt != '%') {
			out_c(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned int)(*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z')
			lng = 1, fmt++;
		switch (*fmt) {
		case 'd':
		case 'i': {
			uint64_t v = fetch_arg(&ap, lng, true, &neg);

			out_num(&o, v, 10, neg, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = fetch_arg(&ap, lng, false, &neg);

			out_num(&o, v, *fmt == 'u' ? 10 : 16, false, width, pad);
			break;
		}
		case 'p':
			out_c(&o, '0');
			out_c(&o, 'x');
			out_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 16,
				false, 0, ' ');
			break;
		case 'c':
			out_c(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			while (*s)
				out_c(&o, *s++);
			break;
		}
		case '\0':
			fmt--;
			break;
		default:
			out_c(&o, *fmt);
			break;
		}
	}
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int kit_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kit_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void kit_printf(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kit_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	kit_syscall(KIT_SYS_WRITE, (uint64_t)(uintptr_t)line, (uint64_t)n, 0);
}

void kit_exit(int code)
{
	kit_syscall(KIT_SYS_EXIT, (uint64_t)code, 0, 0);
	for (;;)
		kit_pause();
}

bool kit_parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		unsigned int d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}
