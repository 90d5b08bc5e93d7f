/* SPDX-License-Identifier: MIT */
/* Internals shared by the boot loaders (boot.c, pvh.c, bzimage.c). */
#ifndef IOVMM_BOOT_PRIV_H
#define IOVMM_BOOT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/boot/boot.h"
#include "core/gmem.h"

/*
 * Boot-data layout inside [LAYOUT_BOOT_DATA_START, LAYOUT_BOOT_DATA_END):
 *   0x1000  start_info + module list + memory map (PVH) or boot_params (Linux)
 *   0x2000  GDT (null, null, __BOOT_CS 0x10, __BOOT_DS 0x18)
 *   0x2100  command line (NUL-terminated)
 *   0x2e00  scratch stack, RSP = 0x3000 at entry
 *   0x3000  PML4, 0x4000 PDPT, 0x5000-0x7fff three PDs (Linux only):
 *           2 MiB identity pages for 0-3 GiB, which is all of low RAM
 *           (LAYOUT_LOW_RAM_MAX); 3-4 GiB is device MMIO the early kernel
 *           does not touch, and a fourth PD would not fit in boot data.
 */
#define BOOT_INFO_GPA        0x1000ULL
#define BOOT_PVH_MODLIST_GPA 0x1040ULL
#define BOOT_PVH_MEMMAP_GPA  0x1080ULL
#define BOOT_GDT_GPA         0x2000ULL
#define BOOT_GDT_ENTRIES     4
#define BOOT_CMDLINE_GPA     0x2100ULL
#define BOOT_CMDLINE_MAX     (0x2e00ULL - BOOT_CMDLINE_GPA) /* with NUL */
#define BOOT_STACK_TOP       0x3000ULL
#define BOOT_PML4_GPA        0x3000ULL
#define BOOT_PDPT_GPA        0x4000ULL
#define BOOT_PD_GPA          0x5000ULL
#define BOOT_PD_COUNT        3

/* Memory-map types: identical in E820 and hvm_memmap_table_entry. */
#define BOOT_MEM_RAM       1
#define BOOT_MEM_RESERVED  2
#define BOOT_MEM_ACPI      3

#define BOOT_MEMMAP_MAX    32

struct boot_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* Sorted memory map of mem (see boot.h). Returns the entry count. */
unsigned boot_memmap(const struct gmem *mem, struct boot_memmap_entry *e,
		     unsigned max);

/* Highest end of the RAM region holding 1 MiB, capped at 4 GiB. */
uint64_t boot_low_ram_end(const struct gmem *mem);

/* An open image file; the size is taken once at open (fstat). */
struct boot_file {
	int fd;
	uint64_t size;
	const char *path; /* borrowed, for messages */
};

int boot_file_open(struct boot_file *f, const char *path, char *err,
		   size_t errlen);
void boot_file_close(struct boot_file *f);
/* Copy [off, off + len) of the file; -EINVAL if it is not all in the file. */
int boot_file_read(const struct boot_file *f, uint64_t off, void *buf,
		   size_t len);
/* Copy [off, off + len) of the file into guest RAM at gpa. */
int boot_file_to_guest(struct gmem *mem, const struct boot_file *f,
		       uint64_t off, uint64_t len, uint64_t gpa);

/*
 * Check that a kernel range may be loaded: 0 if it is RAM at or above
 * 0x8000 and clear of boot data, the legacy hole and the ACPI area;
 * -EFBIG if it starts at a RAM-capable address (>= 1 MiB, outside the
 * MMIO hole) but RAM is too small; -EINVAL otherwise.
 */
int boot_check_kernel_range(const struct gmem *mem, uint64_t gpa,
			    uint64_t len);

/* Load an initrd high in low RAM: page aligned, >= min_gpa, end <= max_end. */
int boot_load_initrd(struct gmem *mem, const char *path, uint64_t min_gpa,
		     uint64_t max_end, struct boot_entry *out, char *err,
		     size_t errlen);

/* Write the command line (NULL = ""); -E2BIG if strlen >= max. */
int boot_write_cmdline(struct gmem *mem, const char *cmdline, size_t max,
		       char *err, size_t errlen);

/* Control registers, EFER and RSP of each protocol's entry state. */
void boot_entry_regs(struct boot_entry *e, bool long_mode);

/* Write the boot GDT and point e at it. */
int boot_write_gdt(struct gmem *mem, bool long_mode, struct boot_entry *e);

int boot_pvh_load(struct gmem *mem, const struct boot_cfg *cfg,
		  const struct boot_file *kernel, struct boot_entry *out,
		  char *err, size_t errlen);
int boot_linux_load(struct gmem *mem, const struct boot_cfg *cfg,
		    const struct boot_file *kernel, struct boot_entry *out,
		    char *err, size_t errlen);

/* Little-endian field access for spec-offset structures. */
static inline void boot_put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static inline void boot_put32(uint8_t *p, size_t off, uint32_t v)
{
	boot_put16(p, off, (uint16_t)v);
	boot_put16(p, off + 2, (uint16_t)(v >> 16));
}

static inline void boot_put64(uint8_t *p, size_t off, uint64_t v)
{
	boot_put32(p, off, (uint32_t)v);
	boot_put32(p, off + 4, (uint32_t)(v >> 32));
}

static inline uint16_t boot_get16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | (p[off + 1] << 8));
}

static inline uint32_t boot_get32(const uint8_t *p, size_t off)
{
	return boot_get16(p, off) | ((uint32_t)boot_get16(p, off + 2) << 16);
}

static inline uint64_t boot_get64(const uint8_t *p, size_t off)
{
	return boot_get32(p, off) | ((uint64_t)boot_get32(p, off + 4) << 32);
}

#endif
