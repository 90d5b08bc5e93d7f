// SPDX-License-Identifier: MIT
/*
 * VM lifetime. vm_create() is one ordered list of steps; each failure unwinds
 * exactly what was built, through vm_destroy(), which copes with a partially
 * built VM because every step leaves a NULL/-1 behind until it succeeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/boot/acpi.h"
#include "core/boot/boot.h"
#include "core/cpu.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/pci/host.h"
#include "core/sandbox.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm_internal.h"

/* Addresses KVM needs on Intel for real-mode emulation; above the LAPIC. */
#define VM_TSS_ADDR 0xfffbd000UL
#define VM_IDENTITY_MAP_ADDR 0xfffbc000ULL

static const char who[] = "vm";

static int vm_open_kvm(struct vm *vm, const struct vm_config *cfg, char *err,
		       size_t errlen)
{
	static const struct {
		int cap;
		const char *name;
	} required[] = {
		{ KVM_CAP_IRQCHIP, "IRQCHIP" },
		{ KVM_CAP_IRQFD, "IRQFD" },
		{ KVM_CAP_IOEVENTFD, "IOEVENTFD" },
		{ KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING" },
		{ KVM_CAP_SIGNAL_MSI, "SIGNAL_MSI" },
		{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
	};
	int ret;

	if (cfg->has_kvm_fd) {
		vm->kvm_fd = cfg->kvm_fd;
		if (fcntl(vm->kvm_fd, F_SETFD, FD_CLOEXEC) < 0 ||
		    ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
			log_errf(err, errlen, "--kvm-fd %d: not an open /dev/kvm",
				 cfg->kvm_fd);
			return -EBADF;
		}
	} else {
		vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	}
	if (vm->kvm_fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			log_errf(err, errlen, "/dev/kvm does not exist (is KVM enabled and the kvm module loaded?)");
		else if (ret == -EACCES || ret == -EPERM)
			log_errf(err, errlen, "/dev/kvm: permission denied (run as root or join the kvm group)");
		else
			log_errf(err, errlen, "/dev/kvm: %s", strerror(-ret));
		return ret;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		log_errf(err, errlen, "/dev/kvm: unsupported KVM API version");
		return -ENOTSUP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
			log_errf(err, errlen, "KVM lacks KVM_CAP_%s", required[i].name);
			return -ENOTSUP;
		}
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		log_errf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %m");
		return -errno;
	}
	do {
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	} while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		ret = -errno;
		log_errf(err, errlen, "KVM_CREATE_VM: %s", strerror(-ret));
		return ret;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VM_TSS_ADDR) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR,
		  &(uint64_t){ VM_IDENTITY_MAP_ADDR }) < 0) {
		ret = -errno;
		log_errf(err, errlen, "KVM_SET_TSS_ADDR: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int vm_alloc_memory(struct vm *vm, const struct vm_config *cfg,
			   char *err, size_t errlen)
{
	struct gmem_opts opts = {
		.size = cfg->mem_size,
		.hugepages = cfg->hugepages,
		.low_max = LAYOUT_LOW_RAM_MAX,
		.high_base = LAYOUT_RAM_HIGH_START,
	};
	int ret = gmem_create(&opts, &vm->parts.mem);

	if (ret)
		log_errf(err, errlen, "cannot allocate %llu MiB of guest RAM%s: %s",
			 (unsigned long long)(cfg->mem_size >> 20),
			 cfg->hugepages ? " from 2 MiB hugepages (see "
					  "/proc/sys/vm/nr_hugepages)" : "",
			 strerror(-ret));
	return ret;
}

/* Guest RAM into KVM memory slots. */
static int vm_map_memory(struct vm *vm, char *err, size_t errlen)
{
	int ret = memslots_kvm_create(vm->vm_fd, &vm->parts.slots);

	if (ret) {
		log_errf(err, errlen, "memory slots: %s", strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < vm->parts.mem->nr_regions; i++) {
		const struct gmem_region *r = &vm->parts.mem->regions[i];

		ret = memslot_add(vm->parts.slots, r->gpa, r->size, r->hva, false);
		if (ret < 0) {
			log_errf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s",
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int vm_setup_boot(struct vm *vm, const struct vm_config *cfg,
			 struct boot_entry *entry, char *err, size_t errlen)
{
	struct acpi_cfg acfg;
	struct boot_cfg bcfg = {
		.kernel_path = cfg->kernel,
		.initrd_path = cfg->initrd,
		.cmdline = cfg->cmdline,
	};
	int ret;

	acpi_cfg_default(&acfg, cfg->ncpus, gmem_end(vm->parts.mem));
	ret = acpi_build(vm->parts.mem, &acfg, &bcfg.rsdp_gpa);
	if (ret) {
		log_errf(err, errlen, "cannot build ACPI tables: %s", strerror(-ret));
		return ret;
	}
	return boot_load(vm->parts.mem, &bcfg, entry, err, errlen);
}

static int vm_setup_vcpus(struct vm *vm, const struct vm_config *cfg,
			  const struct boot_entry *entry, char *err,
			  size_t errlen)
{
	struct kvm_cpuid2 *cpuid;
	int tsc_khz;
	int ret;

	ret = cpu_supported_cpuid(vm->kvm_fd, &cpuid);
	if (ret) {
		log_errf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		ret = vcpu_create(vm, i, &vm->vcpus[i]);
		if (ret) {
			log_errf(err, errlen, "cannot create vCPU %u: %s", i,
				 strerror(-ret));
			goto out;
		}
		vm->ncpus++;
		tsc_khz = ioctl(vcpu_fd(vm->vcpus[i]), KVM_GET_TSC_KHZ, 0);
		ret = cpu_setup(vcpu_fd(vm->vcpus[i]), cpuid, i, cfg->ncpus,
				tsc_khz > 0 ? (uint32_t)tsc_khz : 0);
		if (ret) {
			log_errf(err, errlen, "vCPU %u CPUID/MSR setup: %s", i,
				 strerror(-ret));
			goto out;
		}
	}
	ret = vcpu_set_boot_state(vm->vcpus[0], entry);
	if (ret)
		log_errf(err, errlen, "cannot set boot CPU state: %s", strerror(-ret));
out:
	free(cpuid);
	return ret;
}

/* The PIO/MMIO bus, the I/O loop, the in-kernel irqchip, the host bridge. */
static int vm_setup_platform(struct vm *vm, char *err, size_t errlen)
{
	uint64_t mmio64 = layout_mmio64_base(gmem_end(vm->parts.mem));
	int ret;

	if ((ret = bus_create(&vm->parts.bus)) ||
	    (ret = ioloop_create(&vm->parts.io))) {
		log_errf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	ret = irq_kvm_create(vm->vm_fd, &vm->parts.irq);
	if (ret) {
		log_errf(err, errlen, "cannot create the in-kernel irqchip: %s",
			 strerror(-ret));
		return ret;
	}
	ret = pci_host_create(vm->parts.bus, vm->parts.irq, mmio64,
			      LAYOUT_MMIO64_SIZE, &vm->parts.pci);
	if (ret)
		log_errf(err, errlen, "PCI host bridge: %s", strerror(-ret));
	return ret;
}

/* vm_reset() loads the kernel again: keep the paths and command line. */
static int vm_keep_config(struct vm *vm, const struct vm_config *cfg)
{
	vm->cfg = *cfg;
	vm->cfg.kernel = cfg->kernel ? strdup(cfg->kernel) : NULL;
	vm->cfg.initrd = cfg->initrd ? strdup(cfg->initrd) : NULL;
	vm->cfg.cmdline = cfg->cmdline ? strdup(cfg->cmdline) : NULL;
	if ((cfg->kernel && !vm->cfg.kernel) ||
	    (cfg->initrd && !vm->cfg.initrd) ||
	    (cfg->cmdline && !vm->cfg.cmdline))
		return -ENOMEM;
	return 0;
}

static void vm_free_config(struct vm *vm)
{
	free((char *)vm->cfg.kernel);
	free((char *)vm->cfg.initrd);
	free((char *)vm->cfg.cmdline);
}

int vm_create(const struct vm_config *cfg, struct vm **out, char *err,
	      size_t errlen)
{
	struct boot_entry entry;
	struct vm *vm;
	int ret;

	if (!cfg->ncpus || cfg->ncpus > VM_MAX_CPUS) {
		log_errf(err, errlen, "invalid configuration: %u vCPUs",
			 cfg->ncpus);
		if (cfg->has_kvm_fd)
			close(cfg->kvm_fd);
		return -EINVAL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		if (cfg->has_kvm_fd)
			close(cfg->kvm_fd);
		return -ENOMEM;
	}
	vm->kvm_fd = vm->vm_fd = -1;
	/* Owned from here: vm_destroy() closes it whatever fails. */
	if (cfg->has_kvm_fd)
		vm->kvm_fd = cfg->kvm_fd;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_cond_init(&vm->stop_cond, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	ret = vm_keep_config(vm, cfg);
	if (ret)
		goto err;

	/*
	 * Guest RAM and the loaded kernel need no KVM, so they come before
	 * /dev/kvm is opened: a kernel that is not one is reported as such,
	 * on a host without KVM too.
	 */
	ret = vm_alloc_memory(vm, cfg, err, errlen);
	if (ret)
		goto err;
	ret = vm_setup_boot(vm, cfg, &entry, err, errlen);
	if (ret)
		goto err;

	ret = vm_open_kvm(vm, cfg, err, errlen);
	if (ret)
		goto err;
	ret = vm_map_memory(vm, err, errlen);
	if (ret)
		goto err;
	ret = vm_setup_platform(vm, err, errlen);
	if (ret)
		goto err;
	ret = vm_setup_vcpus(vm, cfg, &entry, err, errlen);
	if (ret)
		goto err;
	*out = vm;
	return 0;
err:
	vm_destroy(vm);
	return ret;
}

const struct vm_parts *vm_parts(const struct vm *vm)
{
	return &vm->parts;
}

int vm_adopt(struct vm *vm, void *obj, void (*release)(void *obj))
{
	if (vm->nr_adopted == VM_MAX_ADOPTED)
		return -ENOSPC;
	vm->adopted[vm->nr_adopted++] =
		(struct vm_adopted){ .obj = obj, .release = release };
	return 0;
}

/*
 * Kicks happen under stop_lock and only while the VM is not stopping (the
 * first stop request kicks, holding the lock): vm_wait() joins the vCPU
 * threads only after it has seen the stop under that lock, so no kick ever
 * reaches a thread that was joined.
 */
static void vm_kick_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(vm->vcpus[i]);
}

void vm_request_stop(struct vm *vm, int status)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (!vm->stopping) {
		vm->exit_status = status;
		__atomic_store_n(&vm->stopping, true, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&vm->stop_cond);
		vm_kick_all(vm);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	/* Wake vm_pause() and parked vCPUs: a stop ends a pause. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

static bool vm_stopping(struct vm *vm)
{
	return __atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE);
}

int vm_start(struct vm *vm)
{
	sigset_t set;
	int ret;

	/* Only vCPU threads take the kick signal; they unblock it themselves. */
	ret = vcpu_init_signals();
	if (ret) {
		vm_request_stop(vm, VM_EXIT_FATAL);
		return ret;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	pthread_mutex_lock(&vm->stop_lock); /* no kick while threads start */
	vm->started = true;
	ret = ioloop_start(vm->parts.io);
	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = vcpu_start(vm->vcpus[i]);
	pthread_mutex_unlock(&vm->stop_lock);
	if (ret) {
		log_err(who, "cannot start threads: %s", strerror(-ret));
		vm_request_stop(vm, VM_EXIT_FATAL);
	}
	return 0;
}

int vm_wait(struct vm *vm)
{
	pthread_mutex_lock(&vm->stop_lock);
	while (!vm->stopping)
		pthread_cond_wait(&vm->stop_cond, &vm->stop_lock);
	pthread_mutex_unlock(&vm->stop_lock);

	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_join(vm->vcpus[i]);
	ioloop_stop(vm->parts.io);
	pthread_mutex_lock(&vm->stop_lock);
	vm->started = false;
	pthread_mutex_unlock(&vm->stop_lock);
	return vm->exit_status;
}

int vm_run(struct vm *vm)
{
	sigset_t set, old;

	/* vm_start() blocks the kick signal here; give the caller its mask back. */
	sigemptyset(&set);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	vm_start(vm);
	/*
	 * Only now: threads inherit their creator's filter, and each of them
	 * installs its own class's at its start. (Under the API, vm_start()
	 * and vm_wait() run on threads that go on building and tearing down
	 * VMs: they stay unfiltered, docs/security.md.)
	 */
	if (sandbox_enter(SANDBOX_MAIN, "iovmm") < 0)
		vm_request_stop(vm, VM_EXIT_FATAL);
	vm_wait(vm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return vm->exit_status;
}

void vm_vcpu_park(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_req) {
		vm->parked++;
		pthread_cond_broadcast(&vm->pause_cond);
		while (vm->pause_req && !vm_stopping(vm))
			pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
		vm->parked--;
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm_pause(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_req)
		ret = -EALREADY;
	vm->pause_req = true;
	pthread_mutex_unlock(&vm->pause_lock);
	if (ret)
		return ret;
	/* pause_req is visible before the kick makes KVM_RUN return. */
	pthread_mutex_lock(&vm->stop_lock);
	if (!vm->started || vm->stopping)
		ret = -ESHUTDOWN;
	else
		vm_kick_all(vm);
	pthread_mutex_unlock(&vm->stop_lock);
	pthread_mutex_lock(&vm->pause_lock);
	while (!ret && vm->parked < vm->ncpus && !vm_stopping(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	if (ret)
		vm->pause_req = false;
	pthread_mutex_unlock(&vm->pause_lock);
	if (ret || vm_stopping(vm))
		return -ESHUTDOWN;
	/* vCPUs first, so no exit handler waits for a parked I/O thread. */
	return ioloop_pause(vm->parts.io);
}

int vm_resume(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->pause_lock);
	if (!vm->pause_req)
		ret = -EALREADY;
	pthread_mutex_unlock(&vm->pause_lock);
	if (ret)
		return ret;
	ioloop_resume(vm->parts.io);
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_req = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

bool vm_paused(struct vm *vm)
{
	bool paused;

	pthread_mutex_lock(&vm->pause_lock);
	paused = vm->pause_req && vm->parked == vm->ncpus;
	pthread_mutex_unlock(&vm->pause_lock);
	return paused;
}

int vm_reset(struct vm *vm, char *err, size_t errlen)
{
	struct boot_entry entry;
	bool started;
	int ret;

	pthread_mutex_lock(&vm->stop_lock);
	started = vm->started;
	pthread_mutex_unlock(&vm->stop_lock);
	if (started && !vm_paused(vm)) {
		log_errf(err, errlen, "the VM must be paused to be reset");
		return -EBUSY;
	}
	/* Devices first: none may DMA into the kernel being loaded. */
	pci_host_reset_all(vm->parts.pci);
	ret = vm_setup_boot(vm, &vm->cfg, &entry, err, errlen);
	for (unsigned i = 0; !ret && i < vm->ncpus; i++) {
		ret = vcpu_reset(vm->vcpus[i], i == 0 ? &entry : NULL);
		if (ret)
			log_errf(err, errlen, "cannot reset vCPU %u: %s", i,
				 strerror(-ret));
	}
	return ret;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	/* Threads first: nothing may touch a device while it is freed. */
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_join(vm->vcpus[i]);
	if (vm->parts.io)
		ioloop_stop(vm->parts.io);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_destroy(vm->vcpus[i]);
	/* The host bridge unmaps every BAR, so it goes before its devices. */
	pci_host_destroy(vm->parts.pci);
	for (unsigned i = vm->nr_adopted; i-- > 0;)
		vm->adopted[i].release(vm->adopted[i].obj);
	irq_destroy(vm->parts.irq);
	ioloop_destroy(vm->parts.io);
	bus_destroy(vm->parts.bus);
	memslots_destroy(vm->parts.slots);
	gmem_destroy(vm->parts.mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_cond_destroy(&vm->stop_cond);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	vm_free_config(vm);
	free(vm);
}

uint64_t vm_guest_ram_resident(const struct vm *vm)
{
	const struct gmem *mem = vm->parts.mem;
	size_t pages = mem->size / (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *vec = malloc(pages);
	uint64_t resident = 0;

	if (!vec)
		return 0;
	if (mincore(mem->base, mem->size, vec) == 0)
		for (size_t i = 0; i < pages; i++)
			resident += vec[i] & 1;
	free(vec);
	return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t vm_exit_count(const struct vm *vm)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < vm->ncpus; i++)
		n += vcpu_exit_count(vm->vcpus[i]);
	return n;
}
