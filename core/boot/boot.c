// SPDX-License-Identifier: MIT
/*
 * Loader entry point and the pieces both boot protocols share: image file
 * access, the memory map, initrd and command-line placement, the boot GDT,
 * and the translation of a boot_entry into KVM register state.
 */
#include "core/boot/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/boot/boot_priv.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"

/* Control-register and EFER bits (Intel SDM Vol. 3A §2.5, §2.2.1). */
#define X86_CR0_PE   (1ULL << 0)
#define X86_CR0_ET   (1ULL << 4)
#define X86_CR0_NE   (1ULL << 5)
#define X86_CR0_PG   (1ULL << 31)
#define X86_CR4_PAE  (1ULL << 5)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)

int boot_file_open(struct boot_file *f, const char *path, char *err,
		   size_t errlen)
{
	struct stat st;
	int ret;

	f->fd = -1;
	f->path = path;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		ret = -errno;
		log_errf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(f->fd, &st) < 0) {
		ret = -errno;
		log_errf(err, errlen, "%s: %s", path, strerror(-ret));
		goto err_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		log_errf(err, errlen, "%s: not a regular file", path);
		goto err_close;
	}
	f->size = (uint64_t)st.st_size;
	return 0;

err_close:
	boot_file_close(f);
	return ret;
}

void boot_file_close(struct boot_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* pread until done; a short file (it shrank since fstat) is -EINVAL. */
static int boot_pread_all(int fd, uint8_t *buf, uint64_t len, uint64_t off)
{
	while (len) {
		size_t chunk = len > (1ULL << 30) ? (1U << 30) : (size_t)len;
		ssize_t n = pread(fd, buf, chunk, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EINVAL;
		buf += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int boot_file_read(const struct boot_file *f, uint64_t off, void *buf,
		   size_t len)
{
	if (off > f->size || len > f->size - off)
		return -EINVAL;
	return boot_pread_all(f->fd, buf, len, off);
}

int boot_file_to_guest(struct gmem *mem, const struct boot_file *f,
		       uint64_t off, uint64_t len, uint64_t gpa)
{
	uint8_t *dst;

	if (len == 0)
		return 0;
	if (off > f->size || len > f->size - off)
		return -EINVAL;
	dst = gmem_ptr(mem, gpa, len);
	if (!dst)
		return -EFAULT;
	return boot_pread_all(f->fd, dst, len, off);
}

static void memmap_add(struct boot_memmap_entry *e, unsigned *n, unsigned max,
		       uint64_t addr, uint64_t end, uint32_t type)
{
	if (end <= addr || *n >= max)
		return;
	e[*n].addr = addr;
	e[*n].size = end - addr;
	e[*n].type = type;
	(*n)++;
}

/* Add the part of [start, end) that lies inside [lo, hi), as type. */
static void memmap_clip(struct boot_memmap_entry *e, unsigned *n, unsigned max,
			uint64_t start, uint64_t end, uint64_t lo, uint64_t hi,
			uint32_t type)
{
	memmap_add(e, n, max, start > lo ? start : lo, end < hi ? end : hi,
		   type);
}

/*
 * RAM regions minus the legacy area: [EBDA, 0xe0000) reserved (EBDA, VGA,
 * option ROMs), [0xe0000, 1 MiB) ACPI (our tables live there), then the
 * chipset windows Linux expects to see reserved: ECAM (else "MMCONFIG not
 * reserved in E820" and ECAM is ignored), IOAPIC and LAPIC.
 */
unsigned boot_memmap(const struct gmem *mem, struct boot_memmap_entry *e,
		     unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < mem->nr_regions; i++) {
		uint64_t s = mem->regions[i].gpa;
		uint64_t end = s + mem->regions[i].size;

		memmap_clip(e, &n, max, s, end, 0, LAYOUT_EBDA_START,
			    BOOT_MEM_RAM);
		memmap_clip(e, &n, max, s, end, LAYOUT_EBDA_START,
			    LAYOUT_ACPI_START, BOOT_MEM_RESERVED);
		memmap_clip(e, &n, max, s, end, LAYOUT_ACPI_START,
			    LAYOUT_ACPI_END, BOOT_MEM_ACPI);
		memmap_clip(e, &n, max, s, end, LAYOUT_HIGH_MEM_START,
			    UINT64_MAX, BOOT_MEM_RAM);
	}
	memmap_add(e, &n, max, LAYOUT_ECAM_START,
		   LAYOUT_ECAM_START + LAYOUT_ECAM_SIZE, BOOT_MEM_RESERVED);
	memmap_add(e, &n, max, LAYOUT_IOAPIC_START, LAYOUT_IOAPIC_START + 0x1000,
		   BOOT_MEM_RESERVED);
	memmap_add(e, &n, max, LAYOUT_LAPIC_START, LAYOUT_LAPIC_START + 0x1000,
		   BOOT_MEM_RESERVED);
	/* Insertion sort: a handful of entries. */
	for (unsigned i = 1; i < n; i++) {
		struct boot_memmap_entry t = e[i];
		unsigned j = i;

		for (; j > 0 && e[j - 1].addr > t.addr; j--)
			e[j] = e[j - 1];
		e[j] = t;
	}
	return n;
}

uint64_t boot_low_ram_end(const struct gmem *mem)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct gmem_region *r = &mem->regions[i];
		uint64_t end = r->gpa + r->size;

		if (r->gpa <= LAYOUT_HIGH_MEM_START && end > LAYOUT_HIGH_MEM_START)
			return end < LAYOUT_RAM_HIGH_START ? end :
			       LAYOUT_RAM_HIGH_START;
	}
	return 0;
}

int boot_check_kernel_range(const struct gmem *mem, uint64_t gpa,
			    uint64_t len)
{
	if (len == 0 || range_overflows(gpa, len))
		return -EINVAL;
	/* Page 0, boot data, EBDA/VGA/ROM hole and ACPI tables are ours. */
	if (ranges_overlap(gpa, len, 0, LAYOUT_BOOT_DATA_END) ||
	    ranges_overlap(gpa, len, LAYOUT_EBDA_START,
			   LAYOUT_HIGH_MEM_START - LAYOUT_EBDA_START))
		return -EINVAL;
	if (gmem_is_ram(mem, gpa, len))
		return 0;
	/*
	 * Starts where RAM can be (above 1 MiB and below the MMIO hole, or
	 * above 4 GiB): it is the image that is too big for this guest's RAM.
	 * Starting in the MMIO hole is a malformed image.
	 */
	if ((gpa >= LAYOUT_HIGH_MEM_START && gpa < LAYOUT_LOW_RAM_MAX) ||
	    gpa >= LAYOUT_RAM_HIGH_START)
		return -EFBIG;
	return -EINVAL;
}

int boot_load_initrd(struct gmem *mem, const char *path, uint64_t min_gpa,
		     uint64_t max_end, struct boot_entry *out, char *err,
		     size_t errlen)
{
	struct boot_file f;
	uint64_t gpa;
	int ret;

	ret = boot_file_open(&f, path, err, errlen);
	if (ret)
		return ret;
	min_gpa = ALIGN_UP(min_gpa, 4096);
	if (f.size > max_end || ALIGN_DOWN(max_end - f.size, 4096) < min_gpa) {
		log_errf(err, errlen,
			 "%s: initrd of %llu bytes does not fit in RAM between 0x%llx and 0x%llx",
			 path, (unsigned long long)f.size,
			 (unsigned long long)min_gpa,
			 (unsigned long long)max_end);
		ret = -EFBIG;
		goto out;
	}
	gpa = ALIGN_DOWN(max_end - f.size, 4096);
	ret = boot_file_to_guest(mem, &f, 0, f.size, gpa);
	if (ret) {
		log_errf(err, errlen, "%s: cannot read initrd: %s", path,
			 strerror(-ret));
		goto out;
	}
	out->initrd_gpa = gpa;
	out->initrd_size = f.size;
out:
	boot_file_close(&f);
	return ret;
}

int boot_write_cmdline(struct gmem *mem, const char *cmdline, size_t max,
		       char *err, size_t errlen)
{
	size_t len = cmdline ? strlen(cmdline) : 0;

	if (len >= max || len >= BOOT_CMDLINE_MAX) {
		log_errf(err, errlen,
			 "command line of %zu bytes is too long (max %zu)",
			 len, (max < BOOT_CMDLINE_MAX ? max :
			       (size_t)BOOT_CMDLINE_MAX) - 1);
		return -E2BIG;
	}
	if (gmem_zero(mem, BOOT_CMDLINE_GPA, BOOT_CMDLINE_MAX) ||
	    (len && gmem_write(mem, BOOT_CMDLINE_GPA, cmdline, len))) {
		log_errf(err, errlen, "boot data area is not RAM");
		return -EFAULT;
	}
	return 0;
}

/* Flat descriptors (SDM Vol. 3A §3.4.5): base 0, limit 4 GiB, G=1, P=1. */
#define GDT_CODE32 0x00cf9b000000ffffULL /* D=1, execute/read, accessed */
#define GDT_CODE64 0x00af9b000000ffffULL /* L=1, D=0 */
#define GDT_DATA   0x00cf93000000ffffULL /* read/write, accessed */

int boot_write_gdt(struct gmem *mem, bool long_mode, struct boot_entry *e)
{
	uint8_t gdt[8 * BOOT_GDT_ENTRIES] = { 0 };

	boot_put64(gdt, BOOT_GDT_CS, long_mode ? GDT_CODE64 : GDT_CODE32);
	boot_put64(gdt, BOOT_GDT_DS, GDT_DATA);
	if (gmem_write(mem, BOOT_GDT_GPA, gdt, sizeof(gdt)))
		return -EFAULT;
	e->gdt_base = BOOT_GDT_GPA;
	e->gdt_limit = sizeof(gdt) - 1;
	return 0;
}

/*
 * The reset stub at F000:FFF0 (LAYOUT_RESET_VECTOR). iovmm has no firmware,
 * yet a guest may restart through the BIOS reset entry, and Linux always
 * does on our machine: with a hardware-reduced FADT (acpi.c) x86's
 * efi_reboot_required() is true, so reboot_init() (arch/x86/kernel/reboot.c)
 * selects BOOT_EFI; efi_reboot() returns at once without EFI and the next
 * method is BOOT_BIOS, machine_real_restart(): real mode, ljmp F000:FFF0.
 * The ACPI and keyboard-controller methods are never tried. Zeroed memory
 * there would spin forever (00 00 is add [bx+si],al, wrapping in the
 * segment). Like a BIOS reset entry, the stub resets the machine: it pulses
 * the i8042 reset line, which iovmm answers by ending the VM
 * (emul-devices/i8042.c).
 */
static const uint8_t boot_reset_stub[] = {
	0xb0, 0xfe, /* mov al, 0xfe: i8042 command "pulse reset" */
	0xe6, 0x64, /* out 0x64, al */
	0xfa,       /* cli */
	0xf4,       /* hlt */
	0xeb, 0xfd, /* jmp back to the hlt */
};

int boot_load(struct gmem *mem, const struct boot_cfg *cfg,
	      struct boot_entry *out, char *err, size_t errlen)
{
	static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
	struct boot_file f;
	uint8_t head[0x206];
	int ret;

	log_errf(err, errlen, "ok");
	memset(out, 0, sizeof(*out));
	if (!cfg->kernel_path) {
		log_errf(err, errlen, "no kernel given");
		return -EINVAL;
	}
	if (!gmem_is_ram(mem, 0, LAYOUT_BOOT_DATA_END)) {
		log_errf(err, errlen, "guest RAM does not cover the boot data area");
		return -EFBIG;
	}
	/* RAM always covers it in practice (kernels load at 1 MiB); a
	 * smaller test memory simply has no stub. */
	if (gmem_is_ram(mem, LAYOUT_RESET_VECTOR, sizeof(boot_reset_stub))) {
		ret = gmem_write(mem, LAYOUT_RESET_VECTOR, boot_reset_stub,
				 sizeof(boot_reset_stub));
		if (ret) {
			log_errf(err, errlen, "cannot write the reset stub: %s",
				 strerror(-ret));
			return ret;
		}
	}
	ret = boot_file_open(&f, cfg->kernel_path, err, errlen);
	if (ret)
		return ret;
	memset(head, 0, sizeof(head));
	ret = boot_file_read(&f, 0, head, f.size < sizeof(head) ?
			     (size_t)f.size : sizeof(head));
	if (ret) {
		log_errf(err, errlen, "%s: %s", f.path, strerror(-ret));
		goto out;
	}
	if (f.size >= 4 && !memcmp(head, elf_magic, 4)) {
		ret = boot_pvh_load(mem, cfg, &f, out, err, errlen);
	} else if (f.size >= sizeof(head) && !memcmp(head + 0x202, "HdrS", 4)) {
		ret = boot_linux_load(mem, cfg, &f, out, err, errlen);
	} else {
		log_errf(err, errlen,
			 "%s: not an ELF (PVH) kernel nor a bzImage", f.path);
		ret = -ENOEXEC;
	}
out:
	boot_file_close(&f);
	return ret;
}

static void boot_flat_seg(struct kvm_segment *s, uint16_t sel, uint8_t type,
			  bool code64)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->db = code64 ? 0 : 1; /* D must be 0 when L is 1 (SDM §3.4.5) */
	s->s = 1;
	s->l = code64;
	s->g = 1;
}

void boot_cpu_state(const struct boot_entry *e, struct kvm_regs *regs,
		    struct kvm_sregs *sregs)
{
	memset(regs, 0, sizeof(*regs));
	regs->rflags = 0x2; /* bit 1 is reserved-1; IF=0 as both protocols require */
	regs->rip = e->rip;
	regs->rsp = e->rsp;
	regs->rbx = e->rbx;
	regs->rsi = e->rsi;

	boot_flat_seg(&sregs->cs, BOOT_GDT_CS, 0xb, e->long_mode);
	boot_flat_seg(&sregs->ds, BOOT_GDT_DS, 0x3, false);
	sregs->es = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->ss = sregs->ds;
	sregs->gdt.base = e->gdt_base;
	sregs->gdt.limit = e->gdt_limit;
	sregs->cr0 = e->cr0;
	sregs->cr3 = e->cr3;
	sregs->cr4 = e->cr4;
	sregs->efer = e->efer;
}

void boot_entry_regs(struct boot_entry *e, bool long_mode)
{
	e->long_mode = long_mode;
	e->rsp = BOOT_STACK_TOP;
	if (long_mode) {
		e->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
		e->cr3 = BOOT_PML4_GPA;
		e->cr4 = X86_CR4_PAE;
		e->efer = X86_EFER_LME | X86_EFER_LMA;
	} else {
		/* pvh.pandoc: protected mode, paging disabled. */
		e->cr0 = X86_CR0_PE | X86_CR0_ET;
		e->cr3 = 0;
		e->cr4 = 0;
		e->efer = 0;
	}
}
