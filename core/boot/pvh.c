// SPDX-License-Identifier: MIT
/*
 * PVH loader (Xen docs/misc/pvh.pandoc): an ELF whose XEN_ELFNOTE_PHYS32_ENTRY
 * note gives a 32-bit entry point; PT_LOAD segments go to p_paddr; EBX points
 * to an hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h,
 * version 1 with a memory map).
 *
 * The ELF is hostile: the header, program headers and notes are copied out of
 * the file with pread and every offset/size is checked (in 64-bit arithmetic)
 * against the file size before use; nothing is loaded until every PT_LOAD has
 * been validated.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/boot/boot_priv.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"

#define PVH_MAX_PHDRS       64
#define PVH_MAX_NOTE_BYTES  (64 * 1024)
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* start_info.h: offsets of struct hvm_start_info (version 1). */
#define XEN_HVM_START_MAGIC 0x336ec578
#define SI_MAGIC         0
#define SI_VERSION       4
#define SI_FLAGS         8
#define SI_NR_MODULES    12
#define SI_MODLIST       16
#define SI_CMDLINE       24
#define SI_RSDP          32
#define SI_MEMMAP        40
#define SI_MEMMAP_ENTRIES 48
#define SI_LEN           56
#define MOD_ENTRY_LEN    32  /* hvm_modlist_entry: paddr, size, cmdline, rsvd */
#define MEMMAP_ENTRY_LEN 24  /* hvm_memmap_table_entry: addr, size, type, rsvd */

/* The fields we use, widened from Elf32/Elf64 program headers. */
struct pvh_phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz, align;
};

struct pvh_image {
	unsigned nphdr;
	struct pvh_phdr ph[PVH_MAX_PHDRS];
	uint64_t entry;
	uint64_t start, end; /* span of the PT_LOAD segments */
};

static int pvh_read_phdrs(const struct boot_file *f, struct pvh_image *img,
			  char *err, size_t errlen)
{
	union {
		Elf64_Ehdr e64;
		Elf32_Ehdr e32;
	} eh;
	uint8_t raw[PVH_MAX_PHDRS * sizeof(Elf64_Phdr)];
	uint64_t phoff;
	unsigned phnum, entsz;
	bool is64;

	memset(&eh, 0, sizeof(eh));
	if (boot_file_read(f, 0, &eh, f->size < sizeof(eh) ? (size_t)f->size :
			   sizeof(eh)) || f->size < sizeof(Elf32_Ehdr)) {
		log_errf(err, errlen, "%s: truncated ELF header", f->path);
		return -EINVAL;
	}
	is64 = eh.e64.e_ident[EI_CLASS] == ELFCLASS64;
	if ((!is64 && eh.e64.e_ident[EI_CLASS] != ELFCLASS32) ||
	    eh.e64.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e64.e_ident[EI_VERSION] != EV_CURRENT) {
		log_errf(err, errlen, "%s: not a little-endian ELF32/ELF64 file",
			 f->path);
		return -ENOEXEC;
	}
	if (is64 && f->size < sizeof(Elf64_Ehdr)) {
		log_errf(err, errlen, "%s: truncated ELF header", f->path);
		return -EINVAL;
	}
	/* e_type and e_machine sit at the same offsets in both classes. */
	if (eh.e64.e_type != ET_EXEC ||
	    (eh.e64.e_machine != EM_X86_64 && eh.e64.e_machine != EM_386)) {
		log_errf(err, errlen, "%s: not an x86 ELF executable", f->path);
		return -ENOEXEC;
	}
	phoff = is64 ? eh.e64.e_phoff : eh.e32.e_phoff;
	phnum = is64 ? eh.e64.e_phnum : eh.e32.e_phnum;
	entsz = is64 ? eh.e64.e_phentsize : eh.e32.e_phentsize;
	if (entsz != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) ||
	    phnum == 0 || phnum > PVH_MAX_PHDRS) {
		log_errf(err, errlen, "%s: bad program header table (%u x %u bytes)",
			 f->path, phnum, entsz);
		return -EINVAL;
	}
	if (boot_file_read(f, phoff, raw, (size_t)phnum * entsz)) {
		log_errf(err, errlen, "%s: program headers lie outside the file",
			 f->path);
		return -EINVAL;
	}
	img->nphdr = phnum;
	for (unsigned i = 0; i < phnum; i++) {
		struct pvh_phdr *p = &img->ph[i];

		if (is64) {
			Elf64_Phdr h;

			memcpy(&h, raw + i * entsz, sizeof(h));
			*p = (struct pvh_phdr){ h.p_type, h.p_offset, h.p_paddr,
						h.p_filesz, h.p_memsz, h.p_align };
		} else {
			Elf32_Phdr h;

			memcpy(&h, raw + i * entsz, sizeof(h));
			*p = (struct pvh_phdr){ h.p_type, h.p_offset, h.p_paddr,
						h.p_filesz, h.p_memsz, h.p_align };
		}
	}
	return 0;
}

/*
 * Walk one note segment (ELF gABI "Note Section": namesz, descsz, type, then
 * name and desc each padded to the segment's note alignment). Returns 1 and
 * sets *entry if the PVH note is found, 0 if not, -EINVAL if malformed.
 */
static int pvh_walk_notes(const uint8_t *buf, uint64_t len, uint64_t align,
			  uint64_t *entry)
{
	uint64_t off = 0;

	while (len - off >= 12) {
		uint32_t namesz = boot_get32(buf, off);
		uint32_t descsz = boot_get32(buf, off + 4);
		uint32_t type = boot_get32(buf, off + 8);
		uint64_t name_off, desc_off;

		off += 12;
		name_off = off;
		if (ALIGN_UP((uint64_t)namesz, align) > len - off)
			return -EINVAL;
		off += ALIGN_UP((uint64_t)namesz, align);
		desc_off = off;
		if (descsz > len - off)
			return -EINVAL;
		off += ALIGN_UP((uint64_t)descsz, align) < len - off ?
		       ALIGN_UP((uint64_t)descsz, align) : len - off;
		if (type != XEN_ELFNOTE_PHYS32_ENTRY || namesz != 4 ||
		    memcmp(buf + name_off, "Xen", 4))
			continue;
		if (descsz == 4)
			*entry = boot_get32(buf, desc_off);
		else if (descsz == 8)
			*entry = boot_get64(buf, desc_off);
		else
			return -EINVAL;
		return 1;
	}
	return 0;
}

static int pvh_find_entry(const struct boot_file *f, struct pvh_image *img,
			  char *err, size_t errlen)
{
	uint8_t *buf;
	int found = 0;

	buf = malloc(PVH_MAX_NOTE_BYTES);
	if (!buf)
		return -ENOMEM;
	for (unsigned i = 0; i < img->nphdr && !found; i++) {
		const struct pvh_phdr *p = &img->ph[i];

		if (p->type != PT_NOTE || p->filesz == 0)
			continue;
		if (p->filesz > PVH_MAX_NOTE_BYTES ||
		    boot_file_read(f, p->offset, buf, (size_t)p->filesz)) {
			log_errf(err, errlen, "%s: note segment %u is outside the file or too large",
				 f->path, i);
			found = -EINVAL;
			break;
		}
		found = pvh_walk_notes(buf, p->filesz, p->align == 8 ? 8 : 4,
				       &img->entry);
		if (found < 0)
			log_errf(err, errlen, "%s: malformed note in segment %u",
				 f->path, i);
	}
	free(buf);
	if (found == 0) {
		log_errf(err, errlen, "%s: ELF has no XEN_ELFNOTE_PHYS32_ENTRY note (not a PVH kernel)",
			 f->path);
		return -ENOEXEC;
	}
	if (found > 0 && img->entry > UINT32_MAX) {
		log_errf(err, errlen, "%s: PVH entry 0x%llx is not a 32-bit address",
			 f->path, (unsigned long long)img->entry);
		return -EINVAL;
	}
	return found < 0 ? found : 0;
}

static int pvh_check_loads(const struct gmem *mem, const struct boot_file *f,
			   struct pvh_image *img, char *err, size_t errlen)
{
	bool any = false;

	img->start = UINT64_MAX;
	img->end = 0;
	for (unsigned i = 0; i < img->nphdr; i++) {
		const struct pvh_phdr *p = &img->ph[i];
		int ret;

		if (p->type != PT_LOAD)
			continue;
		if (p->filesz > p->memsz) {
			log_errf(err, errlen, "%s: segment %u has p_filesz > p_memsz",
				 f->path, i);
			return -EINVAL;
		}
		if (p->memsz == 0)
			continue;
		if (p->offset > f->size || p->filesz > f->size - p->offset) {
			log_errf(err, errlen, "%s: segment %u data lies outside the file",
				 f->path, i);
			return -EINVAL;
		}
		ret = boot_check_kernel_range(mem, p->paddr, p->memsz);
		if (ret) {
			log_errf(err, errlen, "%s: segment %u [0x%llx, +0x%llx) %s",
				 f->path, i, (unsigned long long)p->paddr,
				 (unsigned long long)p->memsz,
				 ret == -EFBIG ? "does not fit in guest RAM" :
				 "is outside RAM or overlaps boot data/ACPI");
			return ret;
		}
		any = true;
		img->start = p->paddr < img->start ? p->paddr : img->start;
		img->end = p->paddr + p->memsz > img->end ? p->paddr + p->memsz :
			   img->end;
	}
	if (!any) {
		log_errf(err, errlen, "%s: ELF has no loadable segment", f->path);
		return -EINVAL;
	}
	if (img->entry < img->start || img->entry >= img->end) {
		log_errf(err, errlen, "%s: PVH entry 0x%llx is outside the loaded image",
			 f->path, (unsigned long long)img->entry);
		return -EINVAL;
	}
	return 0;
}

static int pvh_load_segments(struct gmem *mem, const struct boot_file *f,
			     const struct pvh_image *img, char *err,
			     size_t errlen)
{
	for (unsigned i = 0; i < img->nphdr; i++) {
		const struct pvh_phdr *p = &img->ph[i];
		int ret;

		if (p->type != PT_LOAD || p->memsz == 0)
			continue;
		ret = boot_file_to_guest(mem, f, p->offset, p->filesz, p->paddr);
		if (!ret && p->memsz > p->filesz)
			ret = gmem_zero(mem, p->paddr + p->filesz,
					p->memsz - p->filesz);
		if (ret) {
			log_errf(err, errlen, "%s: loading segment %u failed: %s",
				 f->path, i, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int pvh_write_start_info(struct gmem *mem, const struct boot_cfg *cfg,
				const struct boot_entry *e)
{
	uint8_t page[4096] = { 0 };
	struct boot_memmap_entry mm[BOOT_MEMMAP_MAX];
	unsigned n = boot_memmap(mem, mm, BOOT_MEMMAP_MAX);
	uint64_t off;

	boot_put32(page, SI_MAGIC, XEN_HVM_START_MAGIC);
	boot_put32(page, SI_VERSION, 1);
	boot_put32(page, SI_FLAGS, 0);
	boot_put64(page, SI_CMDLINE, BOOT_CMDLINE_GPA);
	boot_put64(page, SI_RSDP, cfg->rsdp_gpa);
	if (e->initrd_size || cfg->initrd_path) {
		off = BOOT_PVH_MODLIST_GPA - BOOT_INFO_GPA;
		boot_put32(page, SI_NR_MODULES, 1);
		boot_put64(page, SI_MODLIST, BOOT_PVH_MODLIST_GPA);
		boot_put64(page, off, e->initrd_gpa);
		boot_put64(page, off + 8, e->initrd_size);
	}
	off = BOOT_PVH_MEMMAP_GPA - BOOT_INFO_GPA;
	boot_put64(page, SI_MEMMAP, BOOT_PVH_MEMMAP_GPA);
	boot_put32(page, SI_MEMMAP_ENTRIES, n);
	for (unsigned i = 0; i < n; i++, off += MEMMAP_ENTRY_LEN) {
		boot_put64(page, off, mm[i].addr);
		boot_put64(page, off + 8, mm[i].size);
		boot_put32(page, off + 16, mm[i].type);
	}
	return gmem_write(mem, BOOT_INFO_GPA, page, sizeof(page));
}

int boot_pvh_load(struct gmem *mem, const struct boot_cfg *cfg,
		  const struct boot_file *kernel, struct boot_entry *out,
		  char *err, size_t errlen)
{
	struct pvh_image *img;
	int ret;

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	ret = pvh_read_phdrs(kernel, img, err, errlen);
	if (!ret)
		ret = pvh_find_entry(kernel, img, err, errlen);
	if (!ret)
		ret = pvh_check_loads(mem, kernel, img, err, errlen);
	if (!ret)
		ret = boot_write_cmdline(mem, cfg->cmdline, BOOT_CMDLINE_MAX,
					 err, errlen);
	if (!ret)
		ret = pvh_load_segments(mem, kernel, img, err, errlen);
	if (ret)
		goto out;
	out->kernel_start = img->start;
	out->kernel_end = img->end;
	if (cfg->initrd_path) {
		uint64_t min = img->end > LAYOUT_HIGH_MEM_START ? img->end :
			       LAYOUT_HIGH_MEM_START;

		ret = boot_load_initrd(mem, cfg->initrd_path, min,
				       boot_low_ram_end(mem), out, err, errlen);
		if (ret)
			goto out;
	}
	ret = pvh_write_start_info(mem, cfg, out);
	if (!ret)
		ret = boot_write_gdt(mem, false, out);
	if (ret) {
		log_errf(err, errlen, "cannot write boot data: %s", strerror(-ret));
		goto out;
	}
	out->protocol = BOOT_PVH;
	out->rip = img->entry;
	out->rbx = BOOT_INFO_GPA;
	out->boot_info_gpa = BOOT_INFO_GPA;
	boot_entry_regs(out, false);
	log_errf(err, errlen, "%s: PVH entry 0x%llx", kernel->path,
		 (unsigned long long)img->entry);
out:
	free(img);
	return ret;
}
