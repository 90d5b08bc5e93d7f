#!/bin/sh
# lab-timeout: 150
# The sandbox on an assigned device (docs/security.md): vfio-nvme with
# every thread's seccomp filter on and iovmm dropped to uid/gid 65534 once
# the VFIO container, group and device are open and guest RAM is mapped
# for DMA. The vCPU threads' VFIO calls (config space, BARs, MSI-X through
# VFIO_DEVICE_SET_IRQS) and main's tear-down (DMA unmap, reset) must all be
# in their lists: a missing one kills iovmm (SIGSYS) and the kit fails.
VFIO_NVME_RUN_OPTS="--seccomp=on --user 65534:65534" \
	exec sh "$(dirname "$0")/vfio-nvme.sh"
