#!/bin/bash
# Print the insmod order for kernel modules and everything they depend on,
# one module file per line, dependencies first.
#   modorder.sh MODULE_ROOT NAME...
# MODULE_ROOT is a lib/modules/<version> tree (no depmod output needed: the
# lab's kernel comes straight out of a .deb). Dependencies come from each
# module's .modinfo section ("depends=a,b"), which is what depmod reads too.
# A name that is not found is assumed built in and skipped with a note on
# stderr. Handles .ko, .ko.xz and .ko.zst (Debian 12's 6.1 ships plain .ko).
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: modorder.sh MODULE_ROOT NAME..." >&2; exit 2; }
root=$1
shift

declare -A path_of=()
declare -A visited=()
order=()

# Module names use '-' and '_' interchangeably; index them with '_'.
canon() { printf '%s' "${1//-/_}"; }

while IFS= read -r f; do
	base=${f##*/}
	base=${base%.xz}
	base=${base%.zst}
	path_of[$(canon "${base%.ko}")]=$f
done < <(find "$root" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst')

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# Print the depends= list of one module file, space separated.
depends_of() {
	local f=$1 obj=$1
	case $f in
	*.xz) xz -dc "$f" >"$tmp"; obj=$tmp ;;
	*.zst) zstd -qdc "$f" >"$tmp"; obj=$tmp ;;
	esac
	objcopy -O binary --only-section=.modinfo "$obj" /dev/stdout |
		tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '
}

visit() {
	local name dep
	name=$(canon "$1")
	[ -z "${visited[$name]:-}" ] || return 0
	visited[$name]=1
	if [ -z "${path_of[$name]:-}" ]; then
		echo "modorder: $name: not found (built in?)" >&2
		return 0
	fi
	for dep in $(depends_of "${path_of[$name]}"); do
		visit "$dep"
	done
	order+=("${path_of[$name]}")
}

for m in "$@"; do
	visit "$m"
done
printf '%s\n' "${order[@]}"
