// SPDX-License-Identifier: MIT
/*
 * 16550A UART (National Semiconductor PC16550D datasheet), enough for Linux's
 * 8250 driver, SeaBIOS-free kernels and the guest kit: divisor latch, FIFO
 * control, line status, IER/IIR interrupt logic on a level-triggered ISA IRQ,
 * scratch register. Transmission is instantaneous (THR is always empty), so
 * the guest never spins on LSR.
 *
 * Output is line-buffered: one write(2) per line (or when the buffer fills)
 * rather than one per character, which matters when every character is an
 * exit and the console is a pipe.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"
#include "emul-devices/legacy.h"

enum {
	UART_RBR_THR = 0, /* DLAB=0: RX buffer / TX holding; DLAB=1: DLL */
	UART_IER = 1,     /* DLAB=1: DLM */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
	UART_NR_REGS = 8,
};

#define UART_IER_RDI 0x01  /* RX data available */
#define UART_IER_THRI 0x02 /* TX holding register empty */
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_DEFAULT 0xb0 /* DCD, DSR, CTS asserted */

#define UART_RX_SIZE 256
#define UART_TX_SIZE 1024

struct uart {
	struct bus_dev dev;
	struct irq *irq;
	struct ioloop *io;
	int out_fd;   /* borrowed */
	int in_fd;    /* borrowed; -1 when input is off */
	pthread_mutex_t lock;
	/* Everything below: lock. */
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_irq_pending; /* THRE interrupt not yet seen through IIR */
	bool irq_level;
	uint8_t rx[UART_RX_SIZE];
	unsigned rx_head, rx_count;
	char tx[UART_TX_SIZE];
	size_t tx_len;
};

static const char who[] = "uart0";

static void uart_tx_flush_locked(struct uart *u)
{
	size_t off = 0;

	while (u->out_fd >= 0 && off < u->tx_len) {
		ssize_t n = write(u->out_fd, u->tx + off, u->tx_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_ratelimited(LOG_WARN, who, "console write failed: %m");
			break;
		}
		off += (size_t)n;
	}
	u->tx_len = 0;
}

static uint8_t uart_iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return fifo | UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thr_irq_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

/* Recompute the IRQ line from the interrupt state (level-triggered). */
static void uart_update_irq(struct uart *u)
{
	bool level = !(uart_iir(u) & UART_IIR_NO_INT);

	if (level == u->irq_level || !u->irq)
		return;
	u->irq_level = level;
	irq_line_set(u->irq, LAYOUT_IRQ_COM1, level);
}

static void uart_transmit(struct uart *u, uint8_t c)
{
	if (u->mcr & UART_MCR_LOOP) {
		if (u->rx_count < UART_RX_SIZE)
			u->rx[(u->rx_head + u->rx_count++) % UART_RX_SIZE] = c;
	} else {
		u->tx[u->tx_len++] = (char)c;
		if (c == '\n' || u->tx_len == UART_TX_SIZE)
			uart_tx_flush_locked(u);
	}
	u->thr_irq_pending = true;
}

static uint8_t uart_read_reg(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			return u->dll;
		if (!u->rx_count)
			return 0;
		v = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_RX_SIZE;
		u->rx_count--;
		return v;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		v = uart_iir(u);
		/* Reading IIR while it reports THRE acknowledges THRE. */
		if ((v & 0x0f) == UART_IIR_THRI)
			u->thr_irq_pending = false;
		return v;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT |
		       (u->rx_count ? UART_LSR_DR : 0);
	case UART_MSR:
		return UART_MSR_DEFAULT;
	default:
		return u->scr;
	}
}

static void uart_write_reg(struct uart *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = v;
		else
			uart_transmit(u, v);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
		} else {
			/* Enabling THRI with an empty THR raises it at once. */
			if (!(u->ier & UART_IER_THRI) && (v & UART_IER_THRI))
				u->thr_irq_pending = true;
			u->ier = v & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		u->fcr = v & 0xc9;
		if (v & UART_FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default: /* LSR, MSR: read-only */
		break;
	}
}

static int uart_read(struct bus_dev *dev, uint64_t offset, void *data,
		     uint32_t len)
{
	struct uart *u = container_of(dev, struct uart, dev);
	uint8_t *out = data;

	pthread_mutex_lock(&u->lock);
	for (uint32_t i = 0; i < len; i++)
		out[i] = offset + i < UART_NR_REGS ?
				 uart_read_reg(u, (unsigned)(offset + i)) : 0xff;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static int uart_write(struct bus_dev *dev, uint64_t offset, const void *data,
		      uint32_t len)
{
	struct uart *u = container_of(dev, struct uart, dev);
	const uint8_t *in = data;

	pthread_mutex_lock(&u->lock);
	for (uint32_t i = 0; i < len && offset + i < UART_NR_REGS; i++)
		uart_write_reg(u, (unsigned)(offset + i), in[i]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static const struct bus_dev_ops uart_ops = {
	.read = uart_read,
	.write = uart_write,
};

/* I/O thread: console input. */
static int uart_input(void *opaque, int fd, uint32_t events)
{
	struct uart *u = opaque;
	uint8_t buf[UART_RX_SIZE];
	ssize_t n;

	pthread_mutex_lock(&u->lock);
	n = read(fd, buf, UART_RX_SIZE - u->rx_count);
	for (ssize_t i = 0; i < n; i++)
		u->rx[(u->rx_head + u->rx_count++) % UART_RX_SIZE] = buf[i];
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -1; /* EOF or error: stop watching the input */
	return 0;
}

int uart_create(struct irq *irq, struct ioloop *io, int out_fd, int in_fd,
		struct uart **out)
{
	struct uart *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->dev = (struct bus_dev){ .ops = &uart_ops, .name = who };
	u->irq = irq;
	u->io = io;
	u->out_fd = out_fd;
	u->in_fd = -1;
	u->thr_irq_pending = true;
	pthread_mutex_init(&u->lock, NULL);
	/*
	 * Input is best effort: stdin may be /dev/null or a file, which epoll
	 * refuses; the guest then simply never receives a character.
	 */
	if (in_fd >= 0 && io &&
	    ioloop_add(io, in_fd, EPOLLIN, uart_input, u) == 0)
		u->in_fd = in_fd;
	*out = u;
	return 0;
}

struct bus_dev *uart_bus_dev(struct uart *uart)
{
	return &uart->dev;
}

void uart_flush(struct uart *uart)
{
	pthread_mutex_lock(&uart->lock);
	uart_tx_flush_locked(uart);
	pthread_mutex_unlock(&uart->lock);
}

void uart_destroy(struct uart *uart)
{
	if (!uart)
		return;
	if (uart->in_fd >= 0)
		ioloop_del(uart->io, uart->in_fd);
	uart_flush(uart);
	pthread_mutex_destroy(&uart->lock);
	free(uart);
}
