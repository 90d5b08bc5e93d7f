// SPDX-License-Identifier: MIT
/*
 * ACPI table builder (ACPI 6.4 §5.2). Tables are assembled byte by byte at
 * the offsets of the spec's tables (not through packed structs, so the code
 * reads like the spec) and copied into the ACPI area of guest RAM.
 *
 * FADT choice: the FADT is hardware-reduced (§4.1, FADT flag
 * HW_REDUCED_ACPI). A "normal" FADT without PM1a event/control blocks is not
 * valid ACPI (§5.2.9 marks PM1a_EVT_BLK and PM1a_CNT_BLK required when the
 * flag is clear) and ACPICA then fails to initialize fixed events, so Linux
 * would disable the interpreter and ignore the DSDT. iovmm has no PM block to
 * emulate, so hardware-reduced is the honest description (Firecracker and
 * QEMU microvm do the same). SCI_INT is still set to 9 with its MADT override
 * so a later PM block only needs the FADT fields.
 */
#include "core/boot/acpi.h"

#include <errno.h>
#include <string.h>

#include "core/boot/aml.h"
#include "core/layout.h"
#include "core/util.h"

#define ACPI_HDR_LEN      36
#define ACPI_RSDP_LEN     36
#define ACPI_FADT_LEN     276 /* revision 6 (§5.2.9, Table 5.9) */
#define ACPI_MCFG_LEN     60
#define ACPI_TABLE_ALIGN  16
#define ACPI_MAX_TABLE    4096
#define ACPI_NR_SDT       3   /* FADT, MADT, MCFG */

/* FADT flags (§5.2.9, Table 5.10) and IA-PC boot arch flags (Table 5.11). */
#define FADT_F_WBINVD          (1u << 0)
#define FADT_F_PWR_BUTTON      (1u << 4)
#define FADT_F_SLP_BUTTON      (1u << 5)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_VGA_NOT_PRESENT (1u << 2)

/* MADT (§5.2.12) structure types and flags. */
#define MADT_PCAT_COMPAT       1u
#define MADT_TYPE_LAPIC        0
#define MADT_TYPE_IOAPIC       1
#define MADT_TYPE_ISO          2
#define MADT_TYPE_LAPIC_NMI    4
#define MADT_LAPIC_ENABLED     1u
/* MPS INTI flags (Table 5.26): polarity bits 1:0, trigger mode bits 3:2. */
#define MPS_INTI_ACTIVE_HIGH   0x1
#define MPS_INTI_LEVEL         0xc

static void put8(uint8_t *p, size_t off, uint8_t v)
{
	p[off] = v;
}

static void put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	put16(p, off, (uint16_t)v);
	put16(p, off + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	put32(p, off, (uint32_t)v);
	put32(p, off + 4, (uint32_t)(v >> 32));
}

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return (uint8_t)(0 - sum);
}

void acpi_cfg_default(struct acpi_cfg *cfg, unsigned ncpus, uint64_t ram_end)
{
	uint64_t top = ram_end > LAYOUT_RAM_HIGH_START ? ram_end :
			LAYOUT_RAM_HIGH_START;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = ncpus;
	cfg->lapic_base = LAYOUT_LAPIC_START;
	cfg->ioapic_base = LAYOUT_IOAPIC_START;
	cfg->ioapic_id = 0;
	cfg->gsi_base = 0;
	cfg->sci_irq = 9;
	cfg->ecam_base = LAYOUT_ECAM_START;
	cfg->ecam_bus_start = 0;
	/*
	 * The buses the host bridge decodes (core/pci/host.c: bus 0), not
	 * the 256 the ECAM window could hold: Linux probes every bus up to
	 * MCFG's end for peer host bridges (arch/x86/pci
	 * pcibios_fixup_peer_bridges(), 32 config reads a bus, each an exit),
	 * which took 4 s of a Linux boot in the lab's nested L1 with 0-255.
	 */
	cfg->ecam_bus_end = LAYOUT_PCI_BUSES - 1;
	cfg->mmio32_base = LAYOUT_MMIO32_START;
	cfg->mmio32_size = LAYOUT_MMIO32_SIZE;
	cfg->mmio64_base = ALIGN_UP(top, LAYOUT_MMIO64_ALIGN);
	cfg->mmio64_size = LAYOUT_MMIO64_SIZE;
	cfg->pio_base = LAYOUT_PIO_PCI_START;
	cfg->pio_size = LAYOUT_PIO_PCI_SIZE;
	cfg->com1 = true;
}

static int acpi_cfg_check(const struct acpi_cfg *c)
{
	if (c->ncpus == 0 || c->ncpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (c->ecam_bus_start > c->ecam_bus_end)
		return -EINVAL;
	/* ECAM: 1 MiB per bus from the segment base (PCI FW 3.2 §4.1.2). */
	if (range_overflows(c->ecam_base, ((uint64_t)c->ecam_bus_end + 1) << 20))
		return -EINVAL;
	if (c->mmio32_size && (c->mmio32_base > UINT32_MAX ||
			       c->mmio32_size > UINT32_MAX + 1ULL - c->mmio32_base))
		return -EINVAL;
	if (c->mmio64_size && range_overflows(c->mmio64_base, c->mmio64_size))
		return -EINVAL;
	if (c->pio_size && ((uint64_t)c->pio_base + c->pio_size > 0x10000 ||
			    c->pio_size > UINT16_MAX))
		return -EINVAL;
	if (c->lapic_base > UINT32_MAX || c->ioapic_base > UINT32_MAX)
		return -EINVAL;
	if (c->sci_irq > 15)
		return -EINVAL;
	return 0;
}

/* §5.2.6 System Description Table Header. */
static void acpi_header(uint8_t *t, const char sig[4], uint32_t len,
			uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t, 4, len);
	put8(t, 8, rev);
	put8(t, 9, 0);
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, "IOVM", 4);     /* OEM table ID: IOVM + signature */
	memcpy(t + 20, sig, 4);
	put32(t, 24, 1);               /* OEM revision */
	memcpy(t + 28, "IOVM", 4);     /* creator ID */
	put32(t, 32, 1);               /* creator revision */
}

static void acpi_seal(uint8_t *t, uint32_t len)
{
	t[9] = acpi_checksum(t, len);
}

/* Bump allocator over [LAYOUT_ACPI_START, LAYOUT_RESET_VECTOR): the reset
 * stub owns the area's last 16 bytes. */
struct acpi_writer {
	struct gmem *mem;
	uint64_t next;
};

static int acpi_emit(struct acpi_writer *w, const uint8_t *t, size_t len,
		     uint64_t *gpa)
{
	uint64_t at = ALIGN_UP(w->next, ACPI_TABLE_ALIGN);
	int ret;

	if (at > LAYOUT_RESET_VECTOR || len > LAYOUT_RESET_VECTOR - at)
		return -ENOSPC;
	ret = gmem_write(w->mem, at, t, len);
	if (ret)
		return ret;
	*gpa = at;
	w->next = at + len;
	return 0;
}

/* PCI0._CRS (ACPI 6.4 §6.2.2): bus range, CF8/CFC, I/O and memory windows. */
static void acpi_pci_crs(struct aml_buf *b, const struct acpi_cfg *c)
{
	uint8_t rs[256];
	struct aml_buf r;

	aml_init(&r, rs, sizeof(rs));
	aml_res_word_bus(&r, c->ecam_bus_start, c->ecam_bus_end);
	aml_res_io(&r, LAYOUT_PORT_PCI_CONFIG, LAYOUT_PORT_PCI_CONFIG, 1, 8);
	if (c->pio_size)
		aml_res_word_io(&r, (uint16_t)c->pio_base,
				(uint16_t)(c->pio_base + c->pio_size - 1));
	if (c->mmio32_size)
		aml_res_dword_mem(&r, (uint32_t)c->mmio32_base,
				  (uint32_t)(c->mmio32_base + c->mmio32_size - 1));
	if (c->mmio64_size)
		aml_res_qword_mem(&r, c->mmio64_base,
				  c->mmio64_base + c->mmio64_size - 1);
	aml_res_end(&r);
	if (r.err) {
		b->err = b->err ? b->err : r.err;
		return;
	}
	aml_name_decl(b, "_CRS");
	aml_buffer(b, rs, r.len);
}

static void acpi_com1(struct aml_buf *b)
{
	uint8_t rs[32];
	struct aml_buf r;
	size_t dev;

	aml_init(&r, rs, sizeof(rs));
	aml_res_io(&r, LAYOUT_PORT_COM1, LAYOUT_PORT_COM1, 1, 8);
	aml_res_irq_noflags(&r, 1u << LAYOUT_IRQ_COM1);
	aml_res_end(&r);

	dev = aml_device_begin(b, "COM1");
	aml_name_decl(b, "_HID");
	aml_eisaid(b, "PNP0501");
	aml_name_decl(b, "_UID");
	aml_integer(b, 1);
	aml_name_decl(b, "_CRS");
	aml_buffer(b, rs, r.len);
	aml_pkg_end(b, dev);
}

/* DSDT (§5.2.11.1), revision 2: integers are 64-bit. Returns length or -err. */
/*
 * PCI0._PRT (ACPI 6.4 §6.2.13): each slot's INTA#-INTD# wired straight to an
 * IOAPIC GSI (Source 0, the GSI in SourceIndex; no link devices), as
 * layout_pci_intx_gsi() says. Slot 0 is the host bridge but is listed too:
 * the table is the wiring, not the population.
 */
static void acpi_pci_prt(struct aml_buf *b)
{
	size_t prt, e;

	aml_name_decl(b, "_PRT");
	prt = aml_package_begin(b, 32 * 4);
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			e = aml_package_begin(b, 4);
			aml_integer(b, ((uint64_t)slot << 16) | 0xffff);
			aml_integer(b, pin);
			aml_integer(b, 0);
			aml_integer(b, layout_pci_intx_gsi(slot, pin));
			aml_pkg_end(b, e);
		}
	}
	aml_pkg_end(b, prt);
}

static int acpi_dsdt(uint8_t *t, size_t cap, const struct acpi_cfg *c)
{
	struct aml_buf b;
	size_t sb, pci;

	aml_init(&b, t + ACPI_HDR_LEN, cap - ACPI_HDR_LEN);
	sb = aml_scope_begin(&b, "\\_SB");
	/* PCI Firmware 3.2 §4.1.5: a PCIe host bridge is PNP0A08, PNP0A03. */
	pci = aml_device_begin(&b, "PCI0");
	aml_name_decl(&b, "_HID");
	aml_eisaid(&b, "PNP0A08");
	aml_name_decl(&b, "_CID");
	aml_eisaid(&b, "PNP0A03");
	aml_name_decl(&b, "_SEG");
	aml_integer(&b, 0);
	aml_name_decl(&b, "_BBN");
	aml_integer(&b, c->ecam_bus_start);
	aml_name_decl(&b, "_UID");
	aml_integer(&b, 0);
	acpi_pci_crs(&b, c);
	acpi_pci_prt(&b);
	aml_pkg_end(&b, pci);
	if (c->com1)
		acpi_com1(&b);
	aml_pkg_end(&b, sb);
	if (b.err)
		return b.err;
	acpi_header(t, "DSDT", (uint32_t)(ACPI_HDR_LEN + b.len), 2);
	acpi_seal(t, (uint32_t)(ACPI_HDR_LEN + b.len));
	return (int)(ACPI_HDR_LEN + b.len);
}

/* FADT (§5.2.9), revision 6, hardware-reduced (see the top of this file). */
static void acpi_fadt(uint8_t *t, const struct acpi_cfg *c, uint64_t dsdt)
{
	memset(t, 0, ACPI_FADT_LEN);
	acpi_header(t, "FACP", ACPI_FADT_LEN, 6);
	put32(t, 40, (uint32_t)dsdt);          /* DSDT */
	put16(t, 46, c->sci_irq);              /* SCI_INT */
	put16(t, 109, FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_VGA_NOT_PRESENT);
	put32(t, 112, FADT_F_WBINVD | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
			FADT_F_HW_REDUCED_ACPI);
	put8(t, 131, 4);                       /* FADT minor version: 6.4 */
	put64(t, 140, dsdt);                   /* X_DSDT */
	acpi_seal(t, ACPI_FADT_LEN);
}

static size_t acpi_madt_len(const struct acpi_cfg *c)
{
	return 44 + 8 * (size_t)c->ncpus + 12 + 2 * 10 + 6;
}

static void acpi_madt_iso(uint8_t *t, size_t off, uint8_t irq, uint32_t gsi,
			  uint16_t flags)
{
	put8(t, off, MADT_TYPE_ISO);
	put8(t, off + 1, 10);
	put8(t, off + 2, 0);                   /* bus: ISA */
	put8(t, off + 3, irq);
	put32(t, off + 4, gsi);
	put16(t, off + 8, flags);
}

/* MADT (§5.2.12), revision 5. */
static size_t acpi_madt(uint8_t *t, const struct acpi_cfg *c)
{
	size_t len = acpi_madt_len(c), off = 44;

	memset(t, 0, len);
	acpi_header(t, "APIC", (uint32_t)len, 5);
	put32(t, 36, (uint32_t)c->lapic_base);
	put32(t, 40, MADT_PCAT_COMPAT);
	for (unsigned i = 0; i < c->ncpus; i++, off += 8) {
		put8(t, off, MADT_TYPE_LAPIC);      /* §5.2.12.2 */
		put8(t, off + 1, 8);
		put8(t, off + 2, (uint8_t)i);       /* ACPI processor UID */
		put8(t, off + 3, (uint8_t)i);       /* APIC ID */
		put32(t, off + 4, MADT_LAPIC_ENABLED);
	}
	put8(t, off, MADT_TYPE_IOAPIC);             /* §5.2.12.3 */
	put8(t, off + 1, 12);
	put8(t, off + 2, c->ioapic_id);
	put32(t, off + 4, (uint32_t)c->ioapic_base);
	put32(t, off + 8, c->gsi_base);
	off += 12;
	/* §5.2.12.5: the PIT's IRQ0 is wired to IOAPIC pin 2 on PC platforms. */
	acpi_madt_iso(t, off, 0, c->gsi_base + 2, 0);
	off += 10;
	/* SCI is level-triggered, active high (§5.2.12.5 example). */
	acpi_madt_iso(t, off, (uint8_t)c->sci_irq, c->gsi_base + c->sci_irq,
		      MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL);
	off += 10;
	put8(t, off, MADT_TYPE_LAPIC_NMI);          /* §5.2.12.7: LINT1 = NMI */
	put8(t, off + 1, 6);
	put8(t, off + 2, 0xff);                     /* all processors */
	put16(t, off + 3, 0);
	put8(t, off + 5, 1);
	acpi_seal(t, (uint32_t)len);
	return len;
}

/* MCFG (PCI Firmware 3.2 §4.1.2): one allocation for segment 0. */
static void acpi_mcfg(uint8_t *t, const struct acpi_cfg *c)
{
	memset(t, 0, ACPI_MCFG_LEN);
	acpi_header(t, "MCFG", ACPI_MCFG_LEN, 1);
	put64(t, 44, c->ecam_base);
	put16(t, 52, 0);
	put8(t, 54, c->ecam_bus_start);
	put8(t, 55, c->ecam_bus_end);
	acpi_seal(t, ACPI_MCFG_LEN);
}

/* RSDT (§5.2.7) and XSDT (§5.2.8) listing the same tables. */
static int acpi_sdts(struct acpi_writer *w, const uint64_t *tbl, unsigned n,
		     uint64_t *rsdt, uint64_t *xsdt)
{
	uint8_t t[ACPI_HDR_LEN + 8 * ACPI_NR_SDT];
	uint32_t len;
	int ret;

	len = ACPI_HDR_LEN + 4 * n;
	acpi_header(t, "RSDT", len, 1);
	for (unsigned i = 0; i < n; i++)
		put32(t, ACPI_HDR_LEN + 4 * i, (uint32_t)tbl[i]);
	acpi_seal(t, len);
	ret = acpi_emit(w, t, len, rsdt);
	if (ret)
		return ret;
	len = ACPI_HDR_LEN + 8 * n;
	acpi_header(t, "XSDT", len, 1);
	for (unsigned i = 0; i < n; i++)
		put64(t, ACPI_HDR_LEN + 8 * i, tbl[i]);
	acpi_seal(t, len);
	return acpi_emit(w, t, len, xsdt);
}

/* RSDP (§5.2.5.3), revision 2: checksum over 20 bytes, extended over 36. */
static void acpi_rsdp(uint8_t *t, uint64_t rsdt, uint64_t xsdt)
{
	memset(t, 0, ACPI_RSDP_LEN);
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, ACPI_OEM_ID, 6);
	put8(t, 15, 2);
	put32(t, 16, (uint32_t)rsdt);
	put32(t, 20, ACPI_RSDP_LEN);
	put64(t, 24, xsdt);
	put8(t, 8, acpi_checksum(t, 20));
	put8(t, 32, acpi_checksum(t, ACPI_RSDP_LEN));
}

int acpi_build(struct gmem *mem, const struct acpi_cfg *cfg,
	       uint64_t *rsdp_gpa_out)
{
	struct acpi_writer w = { .mem = mem, .next = LAYOUT_ACPI_START };
	uint8_t t[ACPI_MAX_TABLE];
	uint64_t rsdp, dsdt, rsdt, xsdt, tbl[ACPI_NR_SDT];
	int ret, len;

	ret = acpi_cfg_check(cfg);
	if (ret)
		return ret;
	if (!gmem_is_ram(mem, LAYOUT_ACPI_START,
			 LAYOUT_ACPI_END - LAYOUT_ACPI_START))
		return -EFAULT;
	ret = gmem_zero(mem, LAYOUT_ACPI_START,
			LAYOUT_ACPI_END - LAYOUT_ACPI_START);
	if (ret)
		return ret;
	/* The RSDP goes first, at a 16-byte boundary the BIOS scan finds. */
	rsdp = LAYOUT_ACPI_START;
	w.next = rsdp + ACPI_RSDP_LEN;

	len = acpi_dsdt(t, sizeof(t), cfg);
	if (len < 0)
		return len;
	ret = acpi_emit(&w, t, (size_t)len, &dsdt);
	if (ret)
		return ret;
	acpi_fadt(t, cfg, dsdt);
	ret = acpi_emit(&w, t, ACPI_FADT_LEN, &tbl[0]);
	if (ret)
		return ret;
	ret = acpi_emit(&w, t, acpi_madt(t, cfg), &tbl[1]);
	if (ret)
		return ret;
	acpi_mcfg(t, cfg);
	ret = acpi_emit(&w, t, ACPI_MCFG_LEN, &tbl[2]);
	if (ret)
		return ret;
	ret = acpi_sdts(&w, tbl, ACPI_NR_SDT, &rsdt, &xsdt);
	if (ret)
		return ret;
	acpi_rsdp(t, rsdt, xsdt);
	ret = gmem_write(mem, rsdp, t, ACPI_RSDP_LEN);
	if (ret)
		return ret;
	*rsdp_gpa_out = rsdp;
	return 0;
}
