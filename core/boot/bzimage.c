// SPDX-License-Identifier: MIT
/*
 * Linux bzImage loader, 64-bit boot protocol (Documentation/arch/x86/boot.rst,
 * "64-bit Boot Protocol"): the protected-mode kernel is loaded at its
 * preferred address (or 1 MiB), boot_params ("zero page", zero-page.rst)
 * carries a copy of the image's setup header plus our fields, and the CPU
 * starts at load address + 0x200 in long mode with identity paging,
 * __BOOT_CS/__BOOT_DS and RSI = boot_params.
 *
 * Offsets below are the documented ones (boot.rst "The Real-Mode Kernel
 * Header", zero-page.rst), in the zero page / image.
 */
#include <errno.h>
#include <string.h>

#include "core/boot/boot_priv.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"

#define BP_ACPI_RSDP_ADDR   0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES     0x1e8
#define BP_HDR              0x1f1 /* setup_header starts here */
#define BP_E820_TABLE       0x2d0
#define BP_E820_MAX         128
#define BP_EDD_MBR_SIG      0x290 /* first field after the setup header area */

#define HDR_SETUP_SECTS     0x1f1
#define HDR_SYSSIZE         0x1f4
#define HDR_BOOT_FLAG       0x1fe
#define HDR_JUMP            0x200 /* 0xeb, then the offset of the header end */
#define HDR_HEADER          0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_CODE32_START    0x214
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGN    0x230
#define HDR_RELOCATABLE     0x234
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_SETUP_DATA      0x250
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260

#define LOADFLAG_LOADED_HIGH 0x01
#define XLF_KERNEL_64        0x01
#define BOOT_PROTO_MIN       0x020c /* 2.12: xloadflags, 64-bit entry */
#define ENTRY64_OFFSET       0x200

/* Page-table entry bits (SDM Vol. 3A §4.5): present, writable, 2 MiB page. */
#define PTE_P  0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

struct linux_image {
	uint8_t hdr[1024];   /* first 1 KiB: boot sector + setup header */
	uint64_t setup_size; /* bytes of real-mode code before the kernel */
	uint64_t kernel_size;
	uint64_t need;       /* bytes needed at the load address */
	uint64_t load;
	uint16_t version;
};

static int linux_parse(const struct boot_file *f, struct linux_image *li,
		       char *err, size_t errlen)
{
	uint8_t *h = li->hdr;
	unsigned sects;
	uint64_t sys;

	if (boot_file_read(f, 0, h, sizeof(li->hdr))) {
		log_errf(err, errlen, "%s: truncated bzImage header", f->path);
		return -EINVAL;
	}
	if (boot_get16(h, HDR_BOOT_FLAG) != 0xaa55) {
		log_errf(err, errlen, "%s: bzImage boot_flag is not 0xaa55", f->path);
		return -EINVAL;
	}
	li->version = boot_get16(h, HDR_VERSION);
	if (li->version < BOOT_PROTO_MIN ||
	    !(boot_get16(h, HDR_XLOADFLAGS) & XLF_KERNEL_64) ||
	    !(h[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH)) {
		log_errf(err, errlen, "%s: bzImage protocol %u.%02u without a 64-bit entry (need >= 2.12 and XLF_KERNEL_64)",
			 f->path, li->version >> 8, li->version & 0xff);
		return -ENOEXEC;
	}
	sects = h[HDR_SETUP_SECTS] ? h[HDR_SETUP_SECTS] : 4;
	li->setup_size = (uint64_t)(sects + 1) * 512;
	if (li->setup_size >= f->size) {
		log_errf(err, errlen, "%s: setup_sects %u runs past the end of the file",
			 f->path, sects);
		return -EINVAL;
	}
	li->kernel_size = f->size - li->setup_size;
	/* syssize counts 16-byte paragraphs of the protected-mode kernel. */
	sys = (uint64_t)boot_get32(h, HDR_SYSSIZE) * 16;
	if (sys == 0 || sys > ALIGN_UP(li->kernel_size, 16)) {
		log_errf(err, errlen, "%s: syssize says %llu kernel bytes, file has %llu (truncated?)",
			 f->path, (unsigned long long)sys,
			 (unsigned long long)li->kernel_size);
		return -EINVAL;
	}
	li->need = boot_get32(h, HDR_INIT_SIZE);
	if (li->need < li->kernel_size)
		li->need = li->kernel_size;
	return 0;
}

/* boot.rst: a relocatable kernel may go anywhere; prefer pref_address. */
static int linux_place(const struct gmem *mem, const struct boot_file *f,
		       struct linux_image *li, char *err, size_t errlen)
{
	uint64_t pref = boot_get64(li->hdr, HDR_PREF_ADDRESS);
	bool reloc = li->hdr[HDR_RELOCATABLE] != 0;
	int ret;

	if (pref >= LAYOUT_HIGH_MEM_START && IS_ALIGNED(pref, 4096) &&
	    boot_check_kernel_range(mem, pref, li->need) == 0) {
		li->load = pref;
		return 0;
	}
	if (!reloc && pref != LAYOUT_HIGH_MEM_START) {
		ret = boot_check_kernel_range(mem, pref, li->need);
		log_errf(err, errlen, "%s: non-relocatable kernel needs [0x%llx, +0x%llx), %s",
			 f->path, (unsigned long long)pref,
			 (unsigned long long)li->need,
			 ret == -EFBIG ? "beyond guest RAM" : "not loadable");
		return ret == -EFBIG ? -EFBIG : -EINVAL;
	}
	ret = boot_check_kernel_range(mem, LAYOUT_HIGH_MEM_START, li->need);
	if (ret) {
		log_errf(err, errlen, "%s: kernel needs %llu bytes at 1 MiB, more than guest RAM",
			 f->path, (unsigned long long)li->need);
		return ret == -EFBIG ? -EFBIG : -EINVAL;
	}
	li->load = LAYOUT_HIGH_MEM_START;
	return 0;
}

/* Identity map 0-3 GiB with 2 MiB pages (see boot_priv.h for why 3). */
static int linux_page_tables(struct gmem *mem)
{
	uint8_t pt[4096];

	memset(pt, 0, sizeof(pt));
	boot_put64(pt, 0, BOOT_PDPT_GPA | PTE_P | PTE_RW);
	if (gmem_write(mem, BOOT_PML4_GPA, pt, sizeof(pt)))
		return -EFAULT;
	memset(pt, 0, sizeof(pt));
	for (unsigned i = 0; i < BOOT_PD_COUNT; i++)
		boot_put64(pt, 8 * i, (BOOT_PD_GPA + 4096 * i) | PTE_P | PTE_RW);
	if (gmem_write(mem, BOOT_PDPT_GPA, pt, sizeof(pt)))
		return -EFAULT;
	for (unsigned i = 0; i < BOOT_PD_COUNT; i++) {
		for (unsigned j = 0; j < 512; j++)
			boot_put64(pt, 8 * j, ((uint64_t)i << 30) |
				   ((uint64_t)j << 21) | PTE_P | PTE_RW | PTE_PS);
		if (gmem_write(mem, BOOT_PD_GPA + 4096 * i, pt, sizeof(pt)))
			return -EFAULT;
	}
	return 0;
}

static int linux_zero_page(struct gmem *mem, const struct boot_cfg *cfg,
			   const struct linux_image *li,
			   const struct boot_entry *e)
{
	uint8_t zp[4096] = { 0 };
	struct boot_memmap_entry mm[BOOT_MEMMAP_MAX];
	unsigned n = boot_memmap(mem, mm, BOOT_MEMMAP_MAX);
	size_t hdr_end = HDR_HEADER + li->hdr[HDR_JUMP + 1];

	/* boot.rst: copy the setup header, which ends at 0x202 + byte 0x201. */
	if (hdr_end > BP_EDD_MBR_SIG)
		hdr_end = BP_EDD_MBR_SIG;
	memcpy(zp + BP_HDR, li->hdr + BP_HDR, hdr_end - BP_HDR);
	zp[HDR_TYPE_OF_LOADER] = 0xff;             /* undefined loader */
	boot_put32(zp, HDR_CODE32_START, (uint32_t)li->load);
	boot_put32(zp, HDR_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE_GPA);
	boot_put32(zp, BP_EXT_CMD_LINE_PTR, 0);
	boot_put32(zp, HDR_RAMDISK_IMAGE, (uint32_t)e->initrd_gpa);
	boot_put32(zp, HDR_RAMDISK_SIZE, (uint32_t)e->initrd_size);
	boot_put32(zp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(e->initrd_gpa >> 32));
	boot_put32(zp, BP_EXT_RAMDISK_SIZE, (uint32_t)(e->initrd_size >> 32));
	boot_put64(zp, HDR_SETUP_DATA, 0);         /* never pass the image's */
	boot_put64(zp, BP_ACPI_RSDP_ADDR, cfg->rsdp_gpa);
	if (n > BP_E820_MAX)
		n = BP_E820_MAX;
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		size_t off = BP_E820_TABLE + 20 * i; /* boot_e820_entry, packed */

		boot_put64(zp, off, mm[i].addr);
		boot_put64(zp, off + 8, mm[i].size);
		boot_put32(zp, off + 16, mm[i].type);
	}
	return gmem_write(mem, BOOT_INFO_GPA, zp, sizeof(zp));
}

int boot_linux_load(struct gmem *mem, const struct boot_cfg *cfg,
		    const struct boot_file *kernel, struct boot_entry *out,
		    char *err, size_t errlen)
{
	struct linux_image li;
	size_t cmax;
	int ret;

	memset(&li, 0, sizeof(li));
	ret = linux_parse(kernel, &li, err, errlen);
	if (!ret)
		ret = linux_place(mem, kernel, &li, err, errlen);
	if (ret)
		return ret;
	/* cmdline_size excludes the NUL (boot.rst, protocol 2.06+). */
	cmax = (size_t)boot_get32(li.hdr, HDR_CMDLINE_SIZE) + 1;
	ret = boot_write_cmdline(mem, cfg->cmdline, cmax, err, errlen);
	if (ret)
		return ret;
	ret = boot_file_to_guest(mem, kernel, li.setup_size, li.kernel_size,
				 li.load);
	if (ret) {
		log_errf(err, errlen, "%s: loading the kernel failed: %s",
			 kernel->path, strerror(-ret));
		return ret;
	}
	out->kernel_start = li.load;
	out->kernel_end = li.load + li.need;
	if (cfg->initrd_path) {
		/* initrd_addr_max is the highest address the initrd may use. */
		uint64_t max_end = (uint64_t)boot_get32(li.hdr,
							HDR_INITRD_ADDR_MAX) + 1;
		uint64_t low_end = boot_low_ram_end(mem);

		ret = boot_load_initrd(mem, cfg->initrd_path, out->kernel_end,
				       max_end < low_end ? max_end : low_end,
				       out, err, errlen);
		if (ret)
			return ret;
	}
	ret = linux_zero_page(mem, cfg, &li, out);
	if (!ret)
		ret = linux_page_tables(mem);
	if (!ret)
		ret = boot_write_gdt(mem, true, out);
	if (ret) {
		log_errf(err, errlen, "cannot write boot data: %s", strerror(-ret));
		return ret;
	}
	out->protocol = BOOT_LINUX64;
	out->rip = li.load + ENTRY64_OFFSET;
	out->rsi = BOOT_INFO_GPA;
	out->boot_info_gpa = BOOT_INFO_GPA;
	boot_entry_regs(out, true);
	log_errf(err, errlen, "%s: bzImage protocol %u.%02u at 0x%llx",
		 kernel->path, li.version >> 8, li.version & 0xff,
		 (unsigned long long)li.load);
	return 0;
}
