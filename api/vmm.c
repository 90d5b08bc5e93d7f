// SPDX-License-Identifier: MIT
/*
 * The API's VMM: state, lifecycle handlers, the route table (api/vmm.h).
 *
 * Every handler runs under v->lock, so lifecycle calls are serialised (the
 * core's vm_pause/vm_resume/vm_reset want one caller at a time). Handlers
 * that wait for the VM to end (vm.shutdown, vm.delete) wait on v->cond,
 * which the main thread signals once it has torn the VM down; the
 * iovmm.events long-poll and vmm.ping take no lock at all.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api/config.h"
#include "api/server.h"
#include "api/vmm.h"
#include "core/event.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vm.h"

#define API_EVENTS_MAX 64
#define API_EVENTS_TIMEOUT_MAX_S 60
#define API_EVENTS_SLICE_MS 250

enum api_state { ST_NONE, ST_CREATED, ST_RUNNING, ST_PAUSED, ST_SHUTDOWN };

/* vm.info's VmState strings (CH: Created, Running, Shutdown, Paused). */
static const char *const state_names[] = {
	[ST_NONE] = "None", [ST_CREATED] = "Created",
	[ST_RUNNING] = "Running", [ST_PAUSED] = "Paused",
	[ST_SHUTDOWN] = "Shutdown",
};

struct api_vmm {
	pthread_mutex_t lock;
	pthread_cond_t cond;            /* lock: state changes, VM torn down */
	struct api_server *srv;
	enum api_state state;           /* lock */
	bool run_mode;                  /* lock: the process ends with the VM */
	bool have_owned;                /* lock */
	struct api_vm_config owned;     /* lock: from vm.create */
	const struct machine_config *mc; /* lock: the config in use */
	json_t *config;                 /* lock: vm.info's config (a reference) */
	struct machine *m;              /* lock: while Running or Paused */
	atomic_bool booting;            /* machine_create() runs */
	atomic_bool exiting;            /* api_vmm_request_exit() was called */
	bool exit_req;                  /* lock */
	int exit_status;                /* lock */
	int cancel_fd;                  /* eventfd: machine_config.cancel_fd */
	uint64_t boots, reboots;        /* lock */
};

static const char who[] = "api";

/* ---- lifecycle, v->lock held ---- */

static void api_vmm_set_config(struct api_vmm *v,
			       const struct machine_config *mc, json_t *config)
{
	json_decref(v->config);
	v->mc = mc;
	v->config = config;
	v->state = mc ? ST_CREATED : ST_NONE;
}

static int api_vmm_boot(struct api_vmm *v, char *err, size_t errlen)
{
	struct machine_config mc = *v->mc;
	struct machine *m;
	uint64_t drain;
	int ret;

	/* A stale cancel from before must not end this boot. */
	while (read(v->cancel_fd, &drain, sizeof(drain)) > 0)
		;
	mc.cancel_fd = v->cancel_fd;
	/*
	 * booting, then exiting; api_vmm_request_exit() sets them the other
	 * way round (sequentially consistent): either it sees this boot and
	 * cancels it, or this boot sees the exit and does not start.
	 */
	atomic_store(&v->booting, true);
	if (atomic_load(&v->exiting)) {
		atomic_store(&v->booting, false);
		log_errf(err, errlen, "the VMM is shutting down");
		return -ECANCELED;
	}
	ret = machine_create(&mc, &m, err, errlen);
	atomic_store(&v->booting, false);
	if (ret)
		return ret;
	if (v->exit_req) {
		machine_destroy(m);
		log_errf(err, errlen, "the VMM is shutting down");
		return -ECANCELED;
	}
	machine_start(m); /* a failure is a stop: the main thread sees it */
	v->m = m;
	v->state = ST_RUNNING;
	v->boots++;
	event_post("vm-booted", "vm", "boot %" PRIu64, v->boots);
	pthread_cond_broadcast(&v->cond);
	return 0;
}

/* Stop the VM in order and wait until the main thread has torn it down. */
static void api_vmm_stop_wait(struct api_vmm *v, int status)
{
	uint64_t boot = v->boots;

	vm_request_stop(machine_vm(v->m), status);
	while (v->m && v->boots == boot)
		pthread_cond_wait(&v->cond, &v->lock);
}

static bool api_vmm_booted(const struct api_vmm *v)
{
	return v->state == ST_RUNNING || v->state == ST_PAUSED;
}

/* 404 without a VM, 405 for a VM not booted: CH's codes. */
static bool api_need_booted(struct api_vmm *v, struct api_response *r,
			    const char *what)
{
	if (v->state == ST_NONE) {
		api_respond_error(r, 404, "%s: no VM is created", what);
		return false;
	}
	if (!api_vmm_booted(v)) {
		api_respond_error(r, 405, "%s: the VM is not booted (%s)", what,
				  state_names[v->state]);
		return false;
	}
	return true;
}

/* ---- handlers ---- */

static void h_ping(void *opaque, const struct http_request *req,
		   struct api_response *r)
{
	api_respond_json(r, 200, json_pack("{s:s,s:s,s:I,s:[s,s]}",
		"version", IOVMM_VERSION, "build_version", "iovmm " IOVMM_VERSION,
		"pid", (json_int_t)getpid(), "features", "iovmm.io-stats",
		"iovmm.events"));
}

/*
 * End the VMM with status: give up a boot in progress (it holds the lock
 * while it waits, e.g. for a vhost-user back end), stop the VM, wake the
 * main thread. The first request's status wins.
 */
static void api_vmm_request_exit(struct api_vmm *v, int status)
{
	uint64_t one = 1;

	atomic_store(&v->exiting, true);
	if (atomic_load(&v->booting) &&
	    write(v->cancel_fd, &one, sizeof(one)) < 0)
		log_err(who, "cancel eventfd: %s", strerror(errno));
	pthread_mutex_lock(&v->lock);
	if (!v->exit_req) {
		v->exit_req = true;
		v->exit_status = status;
	}
	if (v->m)
		vm_request_stop(machine_vm(v->m), status);
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

static void api_vmm_exit_now(void *opaque)
{
	api_vmm_request_exit(opaque, VM_EXIT_POWEROFF);
}

static void h_vmm_shutdown(void *opaque, const struct http_request *req,
			   struct api_response *r)
{
	/* After the answer is out: the process ends right after. */
	r->status = 204;
	r->after = api_vmm_exit_now;
	r->after_opaque = opaque;
}

static void h_create(void *opaque, const struct http_request *req,
		     struct api_response *r)
{
	struct api_vmm *v = opaque;
	char err[512] = "";

	if (v->state != ST_NONE) {
		api_respond_error(r, 409, "vm.create: a VM is already created (vm.delete it first)");
		return;
	}
	if (api_config_parse(req->body, req->body_len, &v->owned, err,
			     sizeof(err))) {
		api_config_free(&v->owned);
		api_respond_error(r, 400, "vm.create: %s", err);
		return;
	}
	v->have_owned = true;
	api_vmm_set_config(v, &v->owned.mc, json_incref(v->owned.json));
	r->status = 204;
}

static void h_delete(void *opaque, const struct http_request *req,
		     struct api_response *r)
{
	struct api_vmm *v = opaque;

	if (v->state == ST_NONE) {
		api_respond_error(r, 404, "vm.delete: no VM is created");
		return;
	}
	if (v->run_mode) {
		api_respond_error(r, 405, "vm.delete: the VM of iovmm run is its command line's (use vm.shutdown or vmm.shutdown)");
		return;
	}
	if (v->m)
		api_vmm_stop_wait(v, VM_EXIT_POWEROFF);
	api_vmm_set_config(v, NULL, NULL);
	if (v->have_owned)
		api_config_free(&v->owned);
	v->have_owned = false;
	r->status = 204;
}

static void h_boot(void *opaque, const struct http_request *req,
		   struct api_response *r)
{
	struct api_vmm *v = opaque;
	char err[512] = "";
	int ret;

	if (v->state == ST_NONE) {
		api_respond_error(r, 404, "vm.boot: no VM is created");
		return;
	}
	if (api_vmm_booted(v) || v->run_mode) {
		api_respond_error(r, 405, "vm.boot: the VM is %s",
				  v->run_mode && !api_vmm_booted(v) ?
				  "the command line's and has ended" :
				  "already booted");
		return;
	}
	ret = api_vmm_boot(v, err, sizeof(err));
	if (ret)
		api_respond_error(r, 500, "vm.boot: %s",
				  err[0] ? err : strerror(-ret));
	else
		r->status = 204;
}

static void h_shutdown(void *opaque, const struct http_request *req,
		       struct api_response *r)
{
	struct api_vmm *v = opaque;

	if (!api_need_booted(v, r, "vm.shutdown"))
		return;
	api_vmm_stop_wait(v, VM_EXIT_POWEROFF);
	r->status = 204;
}

static void h_pause(void *opaque, const struct http_request *req,
		    struct api_response *r)
{
	struct api_vmm *v = opaque;
	int ret;

	if (!api_need_booted(v, r, "vm.pause"))
		return;
	if (v->state == ST_PAUSED) {
		api_respond_error(r, 405, "vm.pause: the VM is already paused");
		return;
	}
	ret = vm_pause(machine_vm(v->m));
	if (ret) {
		api_respond_error(r, ret == -ESHUTDOWN ? 405 : 500,
				  "vm.pause: %s", ret == -ESHUTDOWN ?
				  "the VM is shutting down" : strerror(-ret));
		return;
	}
	v->state = ST_PAUSED;
	event_post("vm-paused", "vm", "all vCPUs and the I/O thread parked");
	r->status = 204;
}

static void h_resume(void *opaque, const struct http_request *req,
		     struct api_response *r)
{
	struct api_vmm *v = opaque;

	if (!api_need_booted(v, r, "vm.resume"))
		return;
	if (v->state != ST_PAUSED) {
		api_respond_error(r, 405, "vm.resume: the VM is not paused");
		return;
	}
	vm_resume(machine_vm(v->m));
	v->state = ST_RUNNING;
	event_post("vm-resumed", "vm", "running again");
	r->status = 204;
}

static void h_reboot(void *opaque, const struct http_request *req,
		     struct api_response *r)
{
	struct api_vmm *v = opaque;
	struct vm *vm;
	char err[512] = "";
	int ret = 0;

	if (!api_need_booted(v, r, "vm.reboot"))
		return;
	vm = machine_vm(v->m);
	if (v->state == ST_RUNNING)
		ret = vm_pause(vm);
	if (ret) {
		api_respond_error(r, 405, "vm.reboot: the VM is shutting down");
		return;
	}
	ret = machine_reset(v->m, err, sizeof(err));
	if (ret) {
		/* Half reset is no state to run in: end it in order. */
		log_err(who, "reboot failed: %s; stopping the VM", err);
		api_vmm_stop_wait(v, VM_EXIT_FATAL);
		api_respond_error(r, 500, "vm.reboot: %s (the VM was stopped)", err);
		return;
	}
	vm_resume(vm);
	v->state = ST_RUNNING;
	v->reboots++;
	event_post("vm-rebooted", "vm", "reboot %" PRIu64, v->reboots);
	r->status = 204;
}

/* The VM's own counters (VmCounters: objects of integers). */
static json_t *api_counters(struct api_vmm *v)
{
	const struct vm *vm = machine_vm(v->m);
	unsigned dma_entries;
	uint64_t dma_bytes, dma_ns;
	json_t *c;

	c = json_pack("{s:{s:I,s:I,s:I,s:I}}", "vm",
		      "exits", (json_int_t)vm_exit_count(vm),
		      "guest_ram_touched_bytes",
		      (json_int_t)vm_guest_ram_resident(vm),
		      "boots", (json_int_t)v->boots,
		      "reboots", (json_int_t)v->reboots);
	machine_vfio_dma_stats(v->m, &dma_entries, &dma_bytes, &dma_ns);
	if (c && dma_entries)
		json_object_set_new(c, "vfio", json_pack("{s:I,s:I,s:I}",
			"dma_entries", (json_int_t)dma_entries,
			"dma_bytes", (json_int_t)dma_bytes,
			"dma_map_ns", (json_int_t)dma_ns));
	return c;
}

static void api_bdf(char *buf, size_t len, uint8_t devfn)
{
	snprintf(buf, len, "0000:00:%02x.%u", devfn >> 3, devfn & 7);
}

/* vm.info's device_tree (DeviceNode: id, pci_bdf, resources, children). */
static json_t *api_device_tree(struct api_vmm *v)
{
	struct machine_device_info di;
	json_t *tree = json_object();
	char id[64], bdf[16];

	for (unsigned i = 0; tree && !machine_device_info(v->m, i, &di); i++) {
		snprintf(id, sizeof(id), "%s-%u", di.type, i);
		api_bdf(bdf, sizeof(bdf), di.devfn);
		json_object_set_new(tree, id, json_pack("{s:s,s:s,s:[],s:[]}",
			"id", id, "pci_bdf", bdf, "resources", "children"));
	}
	return tree;
}

static void h_info(void *opaque, const struct http_request *req,
		   struct api_response *r)
{
	struct api_vmm *v = opaque;
	json_t *info;

	if (v->state == ST_NONE) {
		api_respond_error(r, 404, "vm.info: no VM is created");
		return;
	}
	info = json_pack("{s:O,s:s,s:I}", "config", v->config,
			 "state", state_names[v->state],
			 "memory_actual_size", (json_int_t)v->mc->vm.mem_size);
	if (info && v->m)
		json_object_set_new(info, "device_tree", api_device_tree(v));
	api_respond_json(r, 200, info);
}

static void h_counters(void *opaque, const struct http_request *req,
		       struct api_response *r)
{
	struct api_vmm *v = opaque;

	if (!api_need_booted(v, r, "vm.counters"))
		return;
	api_respond_json(r, 200, api_counters(v));
}

/* iovmm.io-stats: counters, devices and where the event stream is. */
static void h_io_stats(void *opaque, const struct http_request *req,
		       struct api_response *r)
{
	struct api_vmm *v = opaque;
	struct machine_device_info di;
	struct event ev;
	uint64_t dropped, last;
	json_t *s, *devs;
	char bdf[16];

	event_wait(UINT64_MAX - 1, 0, &ev, 0, &dropped, &last);
	s = json_pack("{s:s,s:I}", "state", state_names[v->state],
		      "events_last", (json_int_t)last);
	if (s && v->m) {
		json_object_set_new(s, "counters", api_counters(v));
		devs = json_array();
		for (unsigned i = 0; devs && !machine_device_info(v->m, i, &di); i++) {
			api_bdf(bdf, sizeof(bdf), di.devfn);
			json_array_append_new(devs, json_pack("{s:s,s:s,s:s}",
				"type", di.type, "name", di.name, "pci_bdf", bdf));
		}
		json_object_set_new(s, "devices", devs);
	}
	api_respond_json(r, 200, s);
}

/* "after=N&timeout=S": 0, or -EINVAL for anything else. */
static int api_events_query(const char *q, uint64_t *after, int *timeout_s)
{
	char key[16];
	unsigned long long val;
	int n;

	while (*q) {
		if (sscanf(q, "%15[a-z]=%llu%n", key, &val, &n) != 2)
			return -EINVAL;
		if (!strcmp(key, "after"))
			*after = val;
		else if (!strcmp(key, "timeout") && val <= API_EVENTS_TIMEOUT_MAX_S)
			*timeout_s = (int)val;
		else
			return -EINVAL;
		q += n;
		if (*q == '&')
			q++;
		else if (*q)
			return -EINVAL;
	}
	return 0;
}

/*
 * Long-poll: answer at once with the events after `after`, or wait up to
 * `timeout` seconds for one (in slices, so a VMM shutting down is not held
 * up). No lock: events come from any thread.
 */
static void h_events(void *opaque, const struct http_request *req,
		     struct api_response *r)
{
	struct api_vmm *v = opaque;
	struct event evs[API_EVENTS_MAX];
	uint64_t after = 0, dropped = 0, last = 0;
	int timeout_s = 30, waited = 0;
	unsigned n = 0;
	json_t *list;

	if (api_events_query(req->query, &after, &timeout_s)) {
		api_respond_error(r, 400, "iovmm.events takes after=SEQ and timeout=SECONDS (0-%d)",
				  API_EVENTS_TIMEOUT_MAX_S);
		return;
	}
	do {
		int slice = timeout_s * 1000 - waited;

		slice = slice > API_EVENTS_SLICE_MS ? API_EVENTS_SLICE_MS : slice;
		n = event_wait(after, slice, evs, API_EVENTS_MAX, &dropped, &last);
		waited += slice;
	} while (!n && waited < timeout_s * 1000 && !api_server_stopping(v->srv));
	list = json_array();
	for (unsigned i = 0; list && i < n; i++)
		json_array_append_new(list, json_pack("{s:I,s:I,s:s,s:s,s:s}",
			"seq", (json_int_t)evs[i].seq,
			"time_ms", (json_int_t)evs[i].time_ms,
			"type", evs[i].type, "source", evs[i].source,
			"detail", evs[i].detail));
	api_respond_json(r, 200, json_pack("{s:o*,s:I,s:I}", "events", list,
					   "last", (json_int_t)last,
					   "dropped", (json_int_t)dropped));
}

/* Item 2 of issue #15 (PCI hot-plug, the ACPI power button): not yet. */
static void h_not_yet(void *opaque, const struct http_request *req,
		      struct api_response *r)
{
	api_respond_error(r, 501, "%s is not implemented in iovmm yet (no PCI hot-plug or ACPI power button); see docs/api.md",
			  req->path + strlen(API_PREFIX));
}

/*
 * Every endpoint. The API is served by the connection threads; handlers
 * but ping and events take v->lock (api_vmm_locked).
 */
static void api_vmm_locked(void *opaque, const struct http_request *req,
			   struct api_response *r);

static const struct {
	struct api_route route;
	api_handler_fn fn;
	bool unlocked;
} api_table[] = {
	{ { "vmm.ping", HTTP_GET, API_BODY_NONE, NULL }, h_ping, true },
	{ { "vmm.shutdown", HTTP_PUT, API_BODY_NONE, NULL }, h_vmm_shutdown, true },
	{ { "vm.create", HTTP_PUT, API_BODY_JSON, NULL }, h_create, false },
	{ { "vm.delete", HTTP_PUT, API_BODY_NONE, NULL }, h_delete, false },
	{ { "vm.boot", HTTP_PUT, API_BODY_NONE, NULL }, h_boot, false },
	{ { "vm.shutdown", HTTP_PUT, API_BODY_NONE, NULL }, h_shutdown, false },
	{ { "vm.reboot", HTTP_PUT, API_BODY_NONE, NULL }, h_reboot, false },
	{ { "vm.pause", HTTP_PUT, API_BODY_NONE, NULL }, h_pause, false },
	{ { "vm.resume", HTTP_PUT, API_BODY_NONE, NULL }, h_resume, false },
	{ { "vm.info", HTTP_GET, API_BODY_NONE, NULL }, h_info, false },
	{ { "vm.counters", HTTP_GET, API_BODY_NONE, NULL }, h_counters, false },
	{ { "vm.add-device", HTTP_PUT, API_BODY_JSON, NULL }, h_not_yet, true },
	{ { "vm.add-net", HTTP_PUT, API_BODY_JSON, NULL }, h_not_yet, true },
	{ { "vm.add-disk", HTTP_PUT, API_BODY_JSON, NULL }, h_not_yet, true },
	{ { "vm.remove-device", HTTP_PUT, API_BODY_JSON, NULL }, h_not_yet, true },
	{ { "vm.power-button", HTTP_PUT, API_BODY_NONE, NULL }, h_not_yet, true },
	{ { "iovmm.io-stats", HTTP_GET, API_BODY_NONE, NULL }, h_io_stats, false },
	{ { "iovmm.events", HTTP_GET, API_BODY_NONE, NULL }, h_events, true },
};

static struct api_route api_routes[ARRAY_SIZE(api_table)];
static pthread_once_t api_routes_once = PTHREAD_ONCE_INIT;

static void api_routes_init(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(api_table); i++) {
		api_routes[i] = api_table[i].route;
		api_routes[i].fn = api_table[i].unlocked ? api_table[i].fn :
							   api_vmm_locked;
	}
}

static void api_vmm_locked(void *opaque, const struct http_request *req,
			   struct api_response *r)
{
	struct api_vmm *v = opaque;
	const char *name = req->path + strlen(API_PREFIX);

	for (size_t i = 0; i < ARRAY_SIZE(api_table); i++) {
		if (strcmp(api_table[i].route.name, name))
			continue;
		pthread_mutex_lock(&v->lock);
		api_table[i].fn(v, req, r);
		pthread_mutex_unlock(&v->lock);
		return;
	}
}

/* ---- the VMM ---- */

int api_vmm_create(const char *socket_path, struct api_vmm **out, char *err,
		   size_t errlen)
{
	struct api_vmm *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return -ENOMEM;
	pthread_once(&api_routes_once, api_routes_init);
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	v->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->cancel_fd < 0) {
		ret = -errno;
		log_errf(err, errlen, "eventfd: %s", strerror(-ret));
		api_vmm_destroy(v);
		return ret;
	}
	ret = api_server_create(socket_path, api_routes, ARRAY_SIZE(api_routes),
				v, &v->srv, err, errlen);
	if (ret) {
		api_vmm_destroy(v);
		return ret;
	}
	*out = v;
	return 0;
}

int api_vmm_boot_config(struct api_vmm *v, const struct machine_config *mc,
			char *err, size_t errlen)
{
	json_t *config = api_config_from_machine(mc);
	int ret;

	if (!config)
		return -ENOMEM;
	pthread_mutex_lock(&v->lock);
	v->run_mode = true;
	api_vmm_set_config(v, mc, config);
	ret = api_vmm_boot(v, err, errlen);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/* The VM has ended (v->lock held): tear it down, say so. */
static void api_vmm_reap(struct api_vmm *v, int status)
{
	machine_destroy(v->m);
	v->m = NULL;
	v->state = ST_SHUTDOWN;
	event_post("guest-exit", "vm", "the VM stopped with status %d", status);
	if (v->run_mode && !v->exit_req) {
		v->exit_req = true;
		v->exit_status = status;
	}
	pthread_cond_broadcast(&v->cond);
}

int api_vmm_main(struct api_vmm *v)
{
	int status;

	pthread_mutex_lock(&v->lock);
	for (;;) {
		if (v->m) {
			struct machine *m = v->m;

			/* Only this thread clears v->m: it stays valid. */
			pthread_mutex_unlock(&v->lock);
			status = machine_wait(m);
			pthread_mutex_lock(&v->lock);
			api_vmm_reap(v, status);
			continue;
		}
		if (v->exit_req)
			break;
		pthread_cond_wait(&v->cond, &v->lock);
	}
	status = v->exit_status;
	pthread_mutex_unlock(&v->lock);
	return status;
}

void api_vmm_signal(struct api_vmm *v, int sig)
{
	api_vmm_request_exit(v, 128 + sig);
}

void api_vmm_destroy(struct api_vmm *v)
{
	if (!v)
		return;
	/* Answers in flight go out; then no handler runs any more. */
	api_server_destroy(v->srv);
	if (v->m) {
		vm_request_stop(machine_vm(v->m), VM_EXIT_POWEROFF);
		machine_wait(v->m);
		machine_destroy(v->m);
	}
	json_decref(v->config);
	if (v->have_owned)
		api_config_free(&v->owned);
	if (v->cancel_fd >= 0)
		close(v->cancel_fd);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->lock);
	free(v);
}
