// SPDX-License-Identifier: MIT
/* e1000 register file, interrupts, EEPROM and PHY. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "core/pci/msi.h"
#include "tests/unit/emul-devices/e1000/e1000_test_util.h"

START_TEST(test_reset_values_and_masks)
{
	struct tdev t;
	uint32_t st;

	t_open(&t, "null");
	ck_assert_uint_eq(pci_host_cfg_read(t.host, e1000_pci(t.e)->devfn, 0, 4),
			  0x100e8086);
	st = rd(&t, E1000_STATUS);
	ck_assert(st & E1000_STATUS_LU);
	ck_assert(st & E1000_STATUS_FD);
	ck_assert_uint_eq(st & 0xc0, E1000_STATUS_SPEED_1000);
	/* STATUS is read-only. */
	wr(&t, E1000_STATUS, 0);
	ck_assert_uint_eq(rd(&t, E1000_STATUS), st);
	/* The EEPROM's MAC is in receive address 0, valid. */
	ck_assert_uint_eq(rd(&t, E1000_RA), 0xaa005452);
	ck_assert_uint_eq(rd(&t, E1000_RA + 4), 0x000001bb | E1000_RAH_AV);
	ck_assert_uint_eq(rd(&t, E1000_VET), 0x8100);
	ck_assert_uint_eq(rd(&t, E1000_RCTL), 0);
	/* Ring lengths are multiples of 128, bases 16-byte aligned. */
	wr(&t, E1000_RDLEN, 0x12345);
	ck_assert_uint_eq(rd(&t, E1000_RDLEN), 0x12300);
	wr(&t, E1000_TDLEN, 0xffffffff);
	ck_assert_uint_eq(rd(&t, E1000_TDLEN), 0xfff80);
	wr(&t, E1000_TDBAL, 0x1234567f);
	ck_assert_uint_eq(rd(&t, E1000_TDBAL), 0x12345670);
	wr(&t, E1000_RDH, 0xabcdef12);
	ck_assert_uint_eq(rd(&t, E1000_RDH), 0xef12);
	/* RAH keeps AV, AS and the 16 address bits only. */
	wr(&t, E1000_RA + 12, 0xffffffff);
	ck_assert_uint_eq(rd(&t, E1000_RA + 12), 0x8003ffff);
	wr(&t, E1000_MTA + 4 * 127, 0xdeadbeef);
	ck_assert_uint_eq(rd(&t, E1000_MTA + 4 * 127), 0xdeadbeef);
	/* Reserved offsets read 0 and ignore writes. */
	wr(&t, 0x1f000, 0xffffffff);
	ck_assert_uint_eq(rd(&t, 0x1f000), 0);
	/* CTRL.RST self-clears and restores defaults. */
	wr(&t, E1000_CTRL, rd(&t, E1000_CTRL) | E1000_CTRL_RST);
	ck_assert_uint_eq(rd(&t, E1000_CTRL) & E1000_CTRL_RST, 0);
	ck_assert_uint_eq(rd(&t, E1000_RDLEN), 0);
	ck_assert_uint_eq(rd(&t, E1000_MTA + 4 * 127), 0);
	ck_assert_uint_eq(rd(&t, E1000_RA + 12), 0);
	ck_assert_uint_eq(rd(&t, E1000_RA + 4), 0x000001bb | E1000_RAH_AV);
	t_close(&t);
}
END_TEST

START_TEST(test_icr_ims_imc)
{
	struct tdev t;
	struct e1000_stats s;

	t_open(&t, "null");
	ck_assert_uint_eq(rd(&t, E1000_ICR), 0);
	wr(&t, E1000_ICS, E1000_ICR_TXDW | E1000_ICR_LSC);
	e1000_get_stats(t.e, &s);
	ck_assert(!s.irq_asserted); /* masked */
	/* Clear on read. */
	ck_assert_uint_eq(rd(&t, E1000_ICR), E1000_ICR_TXDW | E1000_ICR_LSC);
	ck_assert_uint_eq(rd(&t, E1000_ICR), 0);
	/* Write 1 to clear. */
	wr(&t, E1000_ICS, E1000_ICR_RXT0 | E1000_ICR_LSC);
	wr(&t, E1000_ICR, E1000_ICR_LSC);
	ck_assert_uint_eq(rd(&t, E1000_ICS), E1000_ICR_RXT0);
	ck_assert_uint_eq(rd(&t, E1000_ICR), E1000_ICR_RXT0);
	/* IMS sets, IMC clears, IMC reads 0. */
	wr(&t, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
	wr(&t, E1000_IMS, E1000_ICR_LSC);
	ck_assert_uint_eq(rd(&t, E1000_IMS),
			  E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_LSC);
	wr(&t, E1000_IMC, E1000_ICR_TXDW);
	ck_assert_uint_eq(rd(&t, E1000_IMS), E1000_ICR_RXT0 | E1000_ICR_LSC);
	ck_assert_uint_eq(rd(&t, E1000_IMC), 0);
	/* ICR & IMS drives the interrupt; reading ICR drops it. */
	wr(&t, E1000_ICS, E1000_ICR_TXDW);
	e1000_get_stats(t.e, &s);
	ck_assert(!s.irq_asserted);
	wr(&t, E1000_ICS, E1000_ICR_RXT0);
	e1000_get_stats(t.e, &s);
	ck_assert(s.irq_asserted);
	/* PCI STATUS.Interrupt mirrors the INTx condition. */
	ck_assert(pci_host_cfg_read(t.host, e1000_pci(t.e)->devfn, PCI_STATUS,
				    2) & PCI_STATUS_INTERRUPT);
	ck_assert_uint_eq(rd(&t, E1000_ICR), E1000_ICR_TXDW | E1000_ICR_RXT0);
	e1000_get_stats(t.e, &s);
	ck_assert(!s.irq_asserted);
	ck_assert(!(pci_host_cfg_read(t.host, e1000_pci(t.e)->devfn,
				      PCI_STATUS, 2) & PCI_STATUS_INTERRUPT));
	/* Masking a pending cause deasserts too. */
	wr(&t, E1000_ICS, E1000_ICR_LSC);
	e1000_get_stats(t.e, &s);
	ck_assert(s.irq_asserted);
	wr(&t, E1000_IMC, 0xffffffff);
	e1000_get_stats(t.e, &s);
	ck_assert(!s.irq_asserted);
	t_close(&t);
}
END_TEST

static uint64_t msi_count(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v = 0;

	if (poll(&p, 1, 0) == 1)
		ck_assert_int_eq(read(fd, &v, 8), 8);
	return v;
}

START_TEST(test_msi_edges)
{
	struct tdev t;
	struct pci_dev *pd;
	uint32_t cap;
	uint8_t devfn;
	int fd;

	t_open(&t, "null");
	pd = e1000_pci(t.e);
	devfn = pd->devfn;
	cap = pci_cfg_find_cap(&pd->cfg, PCI_CAP_ID_MSI);
	ck_assert_uint_ne(cap, 0);
	pci_host_cfg_write(t.host, devfn, cap + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
	pci_host_cfg_write(t.host, devfn, cap + PCI_MSI_ADDRESS_HI, 0, 4);
	pci_host_cfg_write(t.host, devfn, cap + PCI_MSI_DATA_64, 0x41, 2);
	pci_host_cfg_write(t.host, devfn, cap + PCI_MSI_FLAGS,
			   PCI_MSI_FLAGS_ENABLE, 2);
	fd = pci_msi_vector_fd(pd, 0);
	ck_assert_int_ge(fd, 0);
	wr(&t, E1000_IMS, E1000_ICR_RXT0);
	wr(&t, E1000_ICS, E1000_ICR_RXT0);
	ck_assert_uint_eq(msi_count(fd), 1);
	/* Still pending: no second message until ICR is read. */
	wr(&t, E1000_ICS, E1000_ICR_RXT0);
	ck_assert_uint_eq(msi_count(fd), 0);
	ck_assert_uint_eq(rd(&t, E1000_ICR), E1000_ICR_RXT0);
	wr(&t, E1000_ICS, E1000_ICR_RXT0);
	ck_assert_uint_eq(msi_count(fd), 1);
	/* INTx Disable does not affect MSI; STATUS.Interrupt stays clear. */
	ck_assert(!(pci_host_cfg_read(t.host, devfn, PCI_STATUS, 2) &
		    PCI_STATUS_INTERRUPT));
	t_close(&t);
}
END_TEST

static uint16_t eerd(struct tdev *t, uint32_t addr)
{
	uint32_t v;

	wr(t, E1000_EERD, addr << E1000_EERD_ADDR_SHIFT | E1000_EERD_START);
	v = rd(t, E1000_EERD);
	ck_assert(v & E1000_EERD_DONE);
	ck_assert_uint_eq((v >> E1000_EERD_ADDR_SHIFT) & 0xff, addr);
	return v >> E1000_EERD_DATA_SHIFT;
}

START_TEST(test_eeprom_eerd)
{
	struct tdev t;
	uint16_t sum = 0;

	t_open(&t, "null");
	ck_assert_uint_eq(eerd(&t, 0), 0x5452);
	ck_assert_uint_eq(eerd(&t, 1), 0xaa00);
	ck_assert_uint_eq(eerd(&t, 2), 0x01bb);
	ck_assert_uint_eq(eerd(&t, 0x0d), 0x100e);
	for (uint32_t i = 0; i < 64; i++)
		sum += eerd(&t, i);
	ck_assert_uint_eq(sum, 0xbaba);
	t_close(&t);
}
END_TEST

/* Microwire read the way Linux's e1000 does it (e1000_read_eeprom). */
static void ee_clock(struct tdev *t, uint32_t *eecd)
{
	*eecd |= E1000_EECD_SK;
	wr(t, E1000_EECD, *eecd);
	*eecd &= ~E1000_EECD_SK;
	wr(t, E1000_EECD, *eecd);
}

static uint16_t ee_bitbang_read(struct tdev *t, uint32_t addr, int nwords,
				uint16_t *out)
{
	uint32_t eecd = rd(t, E1000_EECD) | E1000_EECD_REQ;
	uint32_t cmd = 0x6u << 6 | addr; /* start + READ + 6 address bits */

	wr(t, E1000_EECD, eecd);
	ck_assert(rd(t, E1000_EECD) & E1000_EECD_GNT);
	ck_assert(rd(t, E1000_EECD) & E1000_EECD_PRES);
	eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
	eecd |= E1000_EECD_CS;
	wr(t, E1000_EECD, eecd);
	for (int b = 8; b >= 0; b--) {
		eecd = (cmd >> b) & 1 ? eecd | E1000_EECD_DI :
					eecd & ~E1000_EECD_DI;
		wr(t, E1000_EECD, eecd);
		ee_clock(t, &eecd);
	}
	eecd &= ~E1000_EECD_DI;
	for (int w = 0; w < nwords; w++) {
		uint16_t v = 0;

		for (int b = 0; b < 16; b++) {
			eecd |= E1000_EECD_SK;
			wr(t, E1000_EECD, eecd);
			v = (uint16_t)(v << 1 |
				       !!(rd(t, E1000_EECD) & E1000_EECD_DO));
			eecd &= ~E1000_EECD_SK;
			wr(t, E1000_EECD, eecd);
		}
		out[w] = v;
	}
	eecd &= ~(E1000_EECD_CS | E1000_EECD_REQ);
	wr(t, E1000_EECD, eecd);
	return out[0];
}

START_TEST(test_eeprom_bitbang)
{
	struct tdev t;
	uint16_t w[64], sum = 0;

	t_open(&t, "null");
	ck_assert_uint_eq(ee_bitbang_read(&t, 1, 1, w), 0xaa00);
	ck_assert_uint_eq(ee_bitbang_read(&t, 2, 1, w), 0x01bb);
	/* Sequential read continues at the next word. */
	ee_bitbang_read(&t, 0, 64, w);
	for (int i = 0; i < 64; i++)
		sum += w[i];
	ck_assert_uint_eq(w[0], 0x5452);
	ck_assert_uint_eq(sum, 0xbaba);
	/* EERD still works afterwards. */
	ck_assert_uint_eq(eerd(&t, 0x0e), 0x8086);
	t_close(&t);
}
END_TEST

static uint32_t mdic(struct tdev *t, uint32_t phy, uint32_t reg, uint32_t op,
		     uint16_t data)
{
	wr(t, E1000_MDIC, data | reg << 16 | phy << 21 | op);
	return rd(t, E1000_MDIC);
}

START_TEST(test_mdic_phy)
{
	struct tdev t;
	uint32_t v;

	t_open(&t, "null");
	v = mdic(&t, 1, 2, E1000_MDIC_OP_READ, 0);
	ck_assert(v & E1000_MDIC_READY);
	ck_assert(!(v & E1000_MDIC_ERROR));
	ck_assert_uint_eq(v & 0xffff, 0x0141);
	ck_assert_uint_eq(mdic(&t, 1, 3, E1000_MDIC_OP_READ, 0) & 0xffff, 0x0c20);
	ck_assert(mdic(&t, 1, 1, E1000_MDIC_OP_READ, 0) & 0x0004); /* link */
	/* Writable advertisement register; read-only status register. */
	mdic(&t, 1, 4, E1000_MDIC_OP_WRITE, 0x01e1);
	ck_assert_uint_eq(mdic(&t, 1, 4, E1000_MDIC_OP_READ, 0) & 0xffff, 0x01e1);
	mdic(&t, 1, 1, E1000_MDIC_OP_WRITE, 0);
	ck_assert(mdic(&t, 1, 1, E1000_MDIC_OP_READ, 0) & 0x0004);
	/* PHY reset restores defaults. */
	mdic(&t, 1, 0, E1000_MDIC_OP_WRITE, 0x8000);
	ck_assert_uint_eq(mdic(&t, 1, 4, E1000_MDIC_OP_READ, 0) & 0xffff, 0x0de1);
	/* No PHY at address 2. */
	ck_assert(mdic(&t, 2, 2, E1000_MDIC_OP_READ, 0) & E1000_MDIC_ERROR);
	/* The completion interrupt when asked. */
	mdic(&t, 1, 2, E1000_MDIC_OP_READ | E1000_MDIC_INT_EN, 0);
	ck_assert_uint_eq(rd(&t, E1000_ICR), E1000_ICR_MDAC);
	t_close(&t);
}
END_TEST

START_TEST(test_stats_clear_on_read)
{
	struct tdev t;
	uint8_t f[100];

	t_open(&t, "null");
	t_tx_setup(&t, 8);
	t_frame(f, sizeof(f), t_mac, 0);
	t_tx_queue(&t, f, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	t_tx_queue(&t, f, sizeof(f), E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	t_tx_kick(&t);
	ck_assert_uint_eq(rd(&t, E1000_GPTC), 2);
	ck_assert_uint_eq(rd(&t, E1000_GPTC), 0);
	ck_assert_uint_eq(rd(&t, E1000_GOTCL), 200);
	ck_assert_uint_eq(rd(&t, E1000_GOTCH), 0);
	ck_assert_uint_eq(rd(&t, E1000_GOTCL), 0);
	ck_assert_uint_eq(rd(&t, E1000_TPT), 2);
	ck_assert_uint_eq(rd(&t, E1000_TPT), 0);
	t_close(&t);
}
END_TEST

START_TEST(test_io_bar_indirect)
{
	struct tdev t;
	uint32_t a = E1000_STATUS, v = 0, w = 0x1234;

	t_open(&t, "null");
	bus_access(t.bus, BUS_PIO, t.bar1, &a, 4, true);
	bus_access(t.bus, BUS_PIO, t.bar1 + 4, &v, 4, false);
	ck_assert_uint_eq(v, rd(&t, E1000_STATUS));
	a = E1000_RDTR;
	bus_access(t.bus, BUS_PIO, t.bar1, &a, 4, true);
	bus_access(t.bus, BUS_PIO, t.bar1 + 4, &w, 4, true);
	ck_assert_uint_eq(rd(&t, E1000_RDTR), 0x1234);
	/* Out-of-range IOADDR wraps inside the register space, no crash. */
	a = 0xfffffffc;
	bus_access(t.bus, BUS_PIO, t.bar1, &a, 4, true);
	bus_access(t.bus, BUS_PIO, t.bar1 + 4, &v, 4, false);
	t_close(&t);
}
END_TEST

static Suite *regs_suite(void)
{
	Suite *s = suite_create("e1000-regs");
	TCase *tc = tcase_create("regs");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reset_values_and_masks);
	tcase_add_test(tc, test_icr_ims_imc);
	tcase_add_test(tc, test_msi_edges);
	tcase_add_test(tc, test_eeprom_eerd);
	tcase_add_test(tc, test_eeprom_bitbang);
	tcase_add_test(tc, test_mdic_phy);
	tcase_add_test(tc, test_stats_clear_on_read);
	tcase_add_test(tc, test_io_bar_indirect);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(regs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
