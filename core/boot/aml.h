/* SPDX-License-Identifier: MIT */
/*
 * A tiny AML writer (ACPI 6.4 §20 "ACPI Machine Language Specification"),
 * just enough for iovmm's DSDT: scopes, devices, names, integers, EISA IDs,
 * strings and buffers holding resource templates (§6.4 resource data types).
 *
 * Every writer appends to a caller-provided buffer; the first overflow sets
 * b->err = -ENOSPC and later calls become no-ops, so a builder checks once at
 * the end. Packages (Scope, Device) are opened with aml_*_begin(), which
 * returns a handle for aml_pkg_end(); the PkgLength (§20.2.4) is inserted when
 * the package is closed and its size is known.
 */
#ifndef IOVMM_AML_H
#define IOVMM_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml_buf {
	uint8_t *data; /* borrowed storage */
	size_t len;
	size_t cap;
	int err;       /* 0, or the first error (-ENOSPC, -EINVAL) */
};

void aml_init(struct aml_buf *b, uint8_t *storage, size_t cap);
void aml_bytes(struct aml_buf *b, const void *p, size_t n);
void aml_byte(struct aml_buf *b, uint8_t v);

/*
 * A NameString (§20.2.2) from ASL-like text: "\\_SB", "PCI0", "_SB.PCI0",
 * "^FOO". Segments shorter than 4 characters are padded with '_'.
 */
void aml_name(struct aml_buf *b, const char *path);
/* Shortest integer encoding (ZeroOp, OneOp, OnesOp, Byte/Word/DWord/QWord). */
void aml_integer(struct aml_buf *b, uint64_t v);
/* EisaId("PNP0A08") as a DWordConst; "PNP0A08" must be 3 letters + 4 hex. */
void aml_eisaid(struct aml_buf *b, const char *id);
void aml_string(struct aml_buf *b, const char *s);
/* Buffer (§20.2.5.4 DefBuffer) holding n bytes. */
void aml_buffer(struct aml_buf *b, const void *bytes, size_t n);

/* Name(path, <object>): writes NameOp + name; the caller writes the object. */
void aml_name_decl(struct aml_buf *b, const char *name);

/* Scope(path) { ... } and Device(name) { ... }; close with aml_pkg_end(). */
size_t aml_scope_begin(struct aml_buf *b, const char *path);
size_t aml_device_begin(struct aml_buf *b, const char *name);
void aml_pkg_end(struct aml_buf *b, size_t handle);
/* Package(nelems) { ... } (§20.2.5.4 DefPackage); close with aml_pkg_end(). */
size_t aml_package_begin(struct aml_buf *b, uint8_t nelems);

/* Resource descriptors (ACPI 6.4 §6.4), appended to a resource template. */
void aml_res_io(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len);
void aml_res_irq_noflags(struct aml_buf *b, uint16_t mask);
void aml_res_word_bus(struct aml_buf *b, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml_buf *b, uint16_t min, uint16_t max);
void aml_res_dword_mem(struct aml_buf *b, uint32_t min, uint32_t max);
void aml_res_qword_mem(struct aml_buf *b, uint64_t min, uint64_t max);
/* End tag; the template is then wrapped with aml_buffer(). */
void aml_res_end(struct aml_buf *b);

#endif
