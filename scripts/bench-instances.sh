#!/usr/bin/env bash
# Container instances benchmark: how long Cerulean takes from a container
# group PUT to a Running container, against `podman run -d` (Debian's
# podman) in the same run, on the same images pulled from the same Cerulean
# registry, with the same runc:
#
#   1. cached start: a small image (the host's static busybox) both sides
#      have already pulled: `podman run -d IMAGE sleep` until it returns vs
#      PUT-to-Running (test/bench/instancesbench, which polls GET every 5 ms).
#   2. cold start: a 512 MiB image (4 incompressible gzip layers of 128 MiB
#      plus a busybox layer) neither side has: `podman pull` + `podman run -d`
#      into a fresh storage root vs PUT-to-Running. Every cold round pushes
#      a new image (fresh random layers, new tag), so Cerulean's layer cache
#      is cold for it while its server keeps running.
#
# Root only (runc, overlay mounts, cgroups); the registry's login server
# benchmark.azurecr.localhost must resolve to 127.0.0.1 (scripts/test.sh
# adds it to /etc/hosts when run as root). Everything listens on loopback.
#
#   scripts/bench-instances.sh [ROUNDS]   # cached rounds, default 5 (after one warm-up each side)
#
# BENCH_COLD_ROUNDS (default 3) is the number of cold rounds, BENCH_SETTLE
# (default 2) the seconds of idleness before each timed step, BENCH_PORT
# (default 7444) the server's port, BENCH_LOG_LEVEL (default warn) the
# server's log level, and BENCH_LOG a file the server log is copied to at
# the end (debug timestamps show where the time goes).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-5}
cold_rounds=${BENCH_COLD_ROUNDS:-3}
settle=${BENCH_SETTLE:-2}
port=${BENCH_PORT:-7444}
registry_name=benchmark
login_server="$registry_name.azurecr.localhost:$port"
# podman's own rlimit defaults may exceed the host's hard limits (runc then
# fails with EPERM): RLIMIT_NOFILE as the runner's (1024) and RLIMIT_NPROC
# as podman documents (32768), both capped by the host's hard limits.
nofile=1024 nproc=32768

[ "$(id -u)" = 0 ] || { echo "bench: run as root (runc, overlay mounts, cgroups)" >&2; exit 1; }
getent hosts "$registry_name.azurecr.localhost" >/dev/null ||
	{ echo "bench: $registry_name.azurecr.localhost must resolve to 127.0.0.1 (/etc/hosts; scripts/test.sh adds it as root)" >&2; exit 1; }
for tool in podman skopeo runc conmon gzip tar sha256sum; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install podman skopeo runc)" >&2; exit 1; }
done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	{ echo "bench: /bin/busybox must be a static busybox (apt-get install busybox-static)" >&2; exit 1; }
hard_nofile=$(ulimit -Hn) hard_nproc=$(ulimit -Hu)
[ "$hard_nofile" = unlimited ] || nofile=$((nofile < hard_nofile ? nofile : hard_nofile))
[ "$hard_nproc" = unlimited ] || nproc=$((nproc < hard_nproc ? nproc : hard_nproc))

# pm ROOT ARGS…: podman on storage ROOT (its runroot on tmpfs), runc, no
# systemd, no network, file events.
pm() {
	local root=$1
	shift
	podman --root "$root" --runroot "$runroot/$(basename "$root")" --tmpdir "$runroot/$(basename "$root")-libpod" \
		--storage-driver overlay --runtime runc --cgroup-manager cgroupfs --events-backend file --log-level error "$@"
}
work=$(mktemp -d)
# podman's runroot and libpod tmpdir on tmpfs, as the runner keeps runc's
# state on its own tmpfs (/run is not one on every machine)
runroot=$(mktemp -d /dev/shm/cbench.XXXXXX) # short: podman refuses runroots over 50 characters
bin="$work/bin"
export CERULEAN_DATA_DIR="$work/cerulean" CERULEAN_ENDPOINT="https://127.0.0.1:$port" AZURE_CONFIG_DIR="$work/az"
# The runner's tmpfs is /run/cerulean/<first 6 bytes of sha256(instances dir)>.
runner_tmpfs="/run/cerulean/$(printf %s "$CERULEAN_DATA_DIR/instances" | sha256sum | cut -c1-12)"
podman_roots=()
server_pid=
cleanup() {
	set +e
	if [ -n "$server_pid" ]; then
		for g in $(az container list -g bench --query "[].name" -o tsv 2>/dev/null); do
			az container delete -g bench -n "$g" --yes -o none 2>/dev/null
		done
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
		[ -z "${BENCH_LOG:-}" ] || cp "$work/cerulean.log" "$BENCH_LOG"
	fi
	for r in "${podman_roots[@]}"; do
		pm "$r" rm -fa -t 0 >/dev/null 2>&1
	done
	# Whatever is still mounted under our directories (podman's storage,
	# the runner's overlays and tmpfs), deepest first.
	awk '{print $2}' /proc/mounts | grep -E "^($work|$runroot|$runner_tmpfs)(/|$)" | sort -r |
		while read -r m; do umount -l "$m"; done
	rm -rf "$work" "$runroot"
	rmdir "$runner_tmpfs" 2>/dev/null
	# podman (cgroupfs) leaves its parent cgroups behind; only empty ones go.
	rmdir /sys/fs/cgroup/*/libpod_parent/conmon /sys/fs/cgroup/*/libpod_parent 2>/dev/null
	true
}
trap cleanup EXIT

mkdir -p "$bin"
echo "==> building cerulean and instancesbench" >&2
go build -o "$bin/cerulean" ./cmd/cerulean
go build -o "$bin/instancesbench" ./test/bench/instancesbench
ln -s cerulean "$bin/az"
export PATH="$bin:$PATH"

echo "==> load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
cerulean serve --listen "127.0.0.1:$port" --log-level "${BENCH_LOG_LEVEL:-warn}" >"$work/cerulean.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
	[ -f "$CERULEAN_DATA_DIR/bootstrap-credentials.json" ] && az login -o none 2>/dev/null && break
	sleep 0.1
done
ca="$CERULEAN_DATA_DIR/tls/ca.pem"
certs="$work/certs" # skopeo's and podman's --cert-dir: CA files named *.crt
mkdir -p "$certs"
cp "$ca" "$certs/cerulean-ca.crt"

az group create -n bench -l eastus -o none
az acr create -n "$registry_name" -g bench --sku Standard -o none --only-show-errors
acr_id=$(az acr show -n "$registry_name" --query id -o tsv)
password=$(az ad sp create-for-rbac -n bench-puller --role acrpush --scopes "$acr_id" --query password -o tsv --only-show-errors)
username=$(az ad sp list --display-name bench-puller --query "[0].appId" -o tsv)
az role assignment create --assignee "$username" --role acrpull --scope "$acr_id" -o none
creds="$username:$password"

# ---- images, with shell tools only

# blob LAYOUT FILE: moves FILE into LAYOUT's blobs and prints "sha256:<hex> <size>".
blob() {
	local d s
	d=$(sha256sum "$2" | cut -d' ' -f1)
	s=$(stat -c %s "$2")
	mv "$2" "$1/blobs/sha256/$d"
	echo "sha256:$d $s"
}
# layer DIR OUT: OUT.tar.gz (gzip -1) of DIR's contents and OUT.diffid.
layer() {
	tar -C "$1" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$2.tar" .
	sha256sum "$2.tar" | cut -d' ' -f1 >"$2.diffid"
	gzip -1 -n "$2.tar"
}
# busybox_layer OUT [ID]: the host's static busybox with a link per applet
# (and /etc/bench-id holding ID, which makes the layer unique).
busybox_layer() {
	local root="$1.d" a
	mkdir -p "$root/bin" "$root/etc" "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
	[ -z "${2:-}" ] || echo "$2" >"$root/etc/bench-id"
	layer "$root" "$1"
	rm -rf "$root"
}
# random_layer OUT MIB: one file of MIB MiB from /dev/urandom.
random_layer() {
	local root="$1.d"
	mkdir -p "$root/data"
	head -c "$(($2 << 20))" /dev/urandom >"$root/data/$(basename "$1")"
	layer "$root" "$1"
	rm -rf "$root"
}
# oci_image LAYOUT TAG LAYER...: an OCI image layout with one image tagged
# TAG whose layers are the given OUTs (bottom first), command `sleep 3600`.
oci_image() {
	local layout=$1 tag=$2 l d s layers="" diffids="" cfg mf
	shift 2
	mkdir -p "$layout/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
	for l in "$@"; do
		read -r d s < <(blob "$layout" "$l.tar.gz")
		layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$d\",\"size\":$s}"
		diffids+="${diffids:+,}\"sha256:$(cat "$l.diffid")\""
		rm -f "$l.diffid"
	done
	printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sleep","3600"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$diffids" >"$layout/config.json"
	read -r d s < <(blob "$layout" "$layout/config.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
		"$d" "$s" "$layers" >"$layout/manifest.json"
	read -r d s < <(blob "$layout" "$layout/manifest.json")
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
		"$d" "$s" "$tag" >"$layout/index.json"
}
push() { # LAYOUT TAG REPO
	skopeo copy -q --dest-cert-dir "$certs" --dest-creds "$creds" "oci:$1:$2" "docker://$login_server/$3:$2" >/dev/null
}

echo "==> small image: static busybox, pushed as bench/small:v1" >&2
busybox_layer "$work/small-base"
oci_image "$work/small" v1 "$work/small-base"
push "$work/small" v1 bench/small
small="$login_server/bench/small:v1"

# ---- measuring

now() { date +%s.%N; }
# timed CMD…: the seconds CMD took, after $settle s of idleness (on a VM
# that hands freed memory back to its host, a step run right after another
# freed memory would get cheap pages by luck of the order).
timed() {
	sleep "$settle"
	local t0 t1
	t0=$(now)
	"$@" >/dev/null 2>"$work/timed.err" || { echo "bench: $* failed:" >&2; cat "$work/timed.err" >&2; return 1; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
pm_run() { # ROOT IMAGE: podman run -d, limits as the container group's (1 CPU, 1 GiB)
	pm "$1" run -d --network none --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" --cpus 1 --memory 1g "$2" sleep 3600
}
pm_pull_run() { # ROOT IMAGE
	pm "$1" pull -q --cert-dir "$certs" --creds "$creds" "$2" && pm_run "$1" "$2"
}
cer() { # IMAGE NAME: PUT-to-Running seconds of one round (instancesbench's min)
	sleep "$settle"
	instancesbench -endpoint "$CERULEAN_ENDPOINT" -data-dir "$CERULEAN_DATA_DIR" -resource-group bench \
		-image "$1" -user "$username" -password "$password" -name "$2" -rounds 1 -warmup 0 2>>"$work/instancesbench.log" |
		sed -n 's/.* min=\([0-9.]*\) .*/\1/p'
}
stats() { # VALUES…: "best median"
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f\n", v[1], m }'
}

echo "==> cached start: $rounds rounds after one warm-up, podman run -d vs PUT-to-Running, alternating" >&2
# A group that keeps running the small image keeps it in use, so that the
# server's periodic image-cache prune cannot drop it between two rounds
# (podman keeps its pulled image regardless).
az container create -g bench -n pin --image "$small" --registry-login-server "$login_server" \
	--registry-username "$username" --registry-password "$password" --command-line "sleep 3600" \
	--cpu 1 --memory 1 --restart-policy Never -o none
cached_root="$work/podman-cached"
podman_roots+=("$cached_root")
pm "$cached_root" pull -q --cert-dir "$certs" --creds "$creds" "$small" >/dev/null
id=$(pm_run "$cached_root" "$small") && pm "$cached_root" rm -f -t 0 "$id" >/dev/null # warm-up
c=$(cer "$small" warmup) || true
echo "    warm-up     podman -        cerulean ${c}s" >&2
pm_cached=() cer_cached=()
for r in $(seq 1 "$rounds"); do
	p=$(timed pm_run "$cached_root" "$small")
	pm "$cached_root" rm -fa -t 0 >/dev/null
	c=$(cer "$small" cached) || true
	[ -n "$c" ] || { echo "bench: instancesbench failed:" >&2; tail -5 "$work/instancesbench.log" >&2; exit 1; }
	printf '    round %-4d podman %ss  cerulean %ss\n' "$r" "$p" "$c" >&2
	pm_cached+=("$p") cer_cached+=("$c")
done

az container delete -g bench -n pin --yes -o none

echo "==> cold start: $cold_rounds rounds, each a new 512 MiB image (4 x 128 MiB random, gzip -1, + busybox) pushed as bench/big:cN;" >&2
echo "    podman pull + run -d into a fresh storage root vs PUT-to-Running on a layer cache that never saw the image" >&2
pm_cold=() cer_cold=()
for r in $(seq 1 "$cold_rounds"); do
	tag="c$r"
	makers=()
	busybox_layer "$work/big-base" "$tag-$RANDOM$RANDOM" &
	makers+=($!)
	for l in 1 2 3 4; do
		random_layer "$work/big-$l" 128 &
		makers+=($!)
	done
	for m in "${makers[@]}"; do wait "$m"; done # not the server's pid
	oci_image "$work/big" "$tag" "$work/big-base" "$work/big-1" "$work/big-2" "$work/big-3" "$work/big-4"
	push "$work/big" "$tag" bench/big
	rm -rf "$work/big"
	big="$login_server/bench/big:$tag"
	root="$work/podman-cold-$r"
	podman_roots+=("$root")
	p=$(timed pm_pull_run "$root" "$big")
	pm "$root" rm -fa -t 0 >/dev/null
	pm "$root" rmi -fa >/dev/null
	c=$(cer "$big" "cold$r") || true
	[ -n "$c" ] || { echo "bench: instancesbench failed:" >&2; tail -5 "$work/instancesbench.log" >&2; exit 1; }
	printf '    round %-4d podman %ss  cerulean %ss\n' "$r" "$p" "$c" >&2
	pm_cold+=("$p") cer_cold+=("$c")
done

echo "==> load after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
read -r pcb pcm < <(stats "${pm_cached[@]}")
read -r ccb ccm < <(stats "${cer_cached[@]}")
pkb=- pkm=- ckb=- ckm=-
if [ "$cold_rounds" -gt 0 ]; then
	read -r pkb pkm < <(stats "${pm_cold[@]}")
	read -r ckb ckm < <(stats "${cer_cold[@]}")
fi
ratio() { awk -v c="$1" -v p="$2" 'BEGIN { if (p == "-") print "-"; else printf "%.2f", c / p }'; }
printf '\n%-28s %10s %10s %18s\n' "seconds" "podman" "cerulean" "cerulean/podman"
printf '%-28s %10s %10s %18s\n' "cached start, best of $rounds" "$pcb" "$ccb" "$(ratio "$ccb" "$pcb")"
printf '%-28s %10s %10s %18s\n' "cached start, median" "$pcm" "$ccm" "$(ratio "$ccm" "$pcm")"
printf '%-28s %10s %10s %18s\n' "cold start, best of $cold_rounds" "$pkb" "$ckb" "$(ratio "$ckb" "$pkb")"
printf '%-28s %10s %10s %18s\n' "cold start, median" "$pkm" "$ckm" "$(ratio "$ckm" "$pkm")"
printf '\ntargets: cached start below podman (aim 0.1 s): %s; cold start at most half of podman: %s\n' \
	"$(awk -v c="$ccm" -v p="$pcm" 'BEGIN { print (c < p) ? "met" : "missed" }')" \
	"$(awk -v c="$ckm" -v p="$pkm" 'BEGIN { if (p == "-") print "not measured"; else print (c <= p / 2) ? "met" : "missed" }')"
