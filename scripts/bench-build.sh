#!/usr/bin/env bash
# Build benchmark: the same two-stage Dockerfile built by `az acr build`
# against Cerulean (our az, the cerulean binary linked as az) and by
# `podman build` (Debian's podman, buildah inside) in the same run, cold and
# cached, on loopback, with nothing pulled from the network:
#
#   stage 1 FROM a busybox base (the host's static busybox, one layer made
#           here with tar and sha256sum), WORKDIR, a RUN writing ~6 MB of
#           files, a RUN looping 100k times in the shell, COPY of a context
#           of 300 files (~20 MB: 200 text, 100 random) and a RUN reading
#           all of it back;
#   stage 2 FROM scratch, COPY --from=build of busybox, the summary and the
#           generated files; ENTRYPOINT prints the summary.
#
# cold:   Cerulean on a fresh data dir (empty layer and image caches; the
#         base imported into its registry beforehand, untimed) vs podman on a
#         fresh --root, the base read from an oci-archive by the FROM line.
# cached: the same context again on the same server / storage root (podman
#         reads the archive again, as Cerulean resolves its base again).
#
# Each round starts a new server and a new podman root; the best of ROUNDS
# counts. `az acr build` is timed from the command to its exit, as a user
# sees it: it packs and uploads the context, queues the run and tails the
# run's log as az 2.45 does (polling every 1 s plus 1-2 s of random delay,
# so up to ~3 s pass between the build's end and az noticing). Reported
# apart: when az had queued the run (context packed and uploaded), and the
# run's build step as the server timed it (its log's "elapsed time").
# Both sides' images are run once (podman run; Cerulean's pulled from its
# registry) and must print the same summary.
#
# Root only (runc, overlay mounts, cgroups); installs podman and
# busybox-static with apt-get when missing. The registry's login server
# benchmark.azurecr.localhost must resolve to 127.0.0.1 (scripts/test.sh
# adds it to /etc/hosts as root).
#
#   scripts/bench-build.sh [ROUNDS]    # default 3
#
# BENCH_SETTLE (default 2) is the seconds of idleness before each timed
# step, BENCH_PORT (default 7445) the server's port, BENCH_LOG_LEVEL
# (default warn) the server's log level, BENCH_LOG a directory the server
# logs and build outputs are copied to at the end, and BENCH_PERF=1 records
# `perf record -g` of the server and its children (runc, the RUNs) during
# each Cerulean build (BENCH_LOG/perf.cold.N.data, perf.cached.N.data).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
settle=${BENCH_SETTLE:-2}
port=${BENCH_PORT:-7445}
registry_name=benchmark
login_server="$registry_name.azurecr.localhost:$port"

[ "$(id -u)" = 0 ] || { echo "bench: run as root (runc, overlay mounts, cgroups)" >&2; exit 1; }
getent hosts "$registry_name.azurecr.localhost" >/dev/null ||
	{ echo "bench: $registry_name.azurecr.localhost must resolve to 127.0.0.1 (/etc/hosts; scripts/test.sh adds it as root)" >&2; exit 1; }
missing=()
for tool in podman runc conmon; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
	echo "==> installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc busybox-static >/dev/null
fi
[ "${BENCH_PERF:-}" != 1 ] || command -v perf >/dev/null || { echo "bench: BENCH_PERF=1 needs perf (apt-get install linux-perf)" >&2; exit 1; }

# podman run's default rlimits may exceed this host's hard limits (runc
# then fails with EPERM): RLIMIT_NOFILE as the runner's (1024) and
# RLIMIT_NPROC as podman documents (32768), both capped by the host's hard
# limits. podman build needs no --ulimit here: its RUN gets 1024 and 32768.
nofile=1024 nproc=32768
hard_nofile=$(ulimit -Hn) hard_nproc=$(ulimit -Hu)
[ "$hard_nofile" = unlimited ] || nofile=$((nofile < hard_nofile ? nofile : hard_nofile))
[ "$hard_nproc" = unlimited ] || nproc=$((nproc < hard_nproc ? nproc : hard_nproc))
ulimits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")

work=$(mktemp -d)
# podman's runroots on tmpfs, as the runner keeps runc's state on its own
runroot=$(mktemp -d /dev/shm/cbb.XXXXXX) # short: podman refuses runroots over 50 characters
bin="$work/bin"
logs="$work/logs"
mkdir -p "$bin" "$logs"
server_pid=
data_dirs=()
podman_roots=()

# pm ROOT ARGS…: podman on storage ROOT, runc, no systemd, file events.
pm() {
	local root=$1
	shift
	podman --root "$root" --runroot "$runroot/$(basename "$root")" --tmpdir "$runroot/$(basename "$root")-libpod" \
		--storage-driver overlay --runtime runc --cgroup-manager cgroupfs --events-backend file --log-level error "$@"
}
stop_server() {
	[ -n "$server_pid" ] || return 0
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
}
cleanup() {
	set +e
	stop_server
	[ -z "${BENCH_LOG:-}" ] || { mkdir -p "$BENCH_LOG" && cp -r "$logs/." "$BENCH_LOG/"; }
	for r in "${podman_roots[@]}"; do pm "$r" rm -fa -t 0 >/dev/null 2>&1; done
	# The runner's tmpfs of each server: /run/cerulean/<first 6 bytes of
	# sha256(<data dir>/instances)>.
	local pattern="^($work|$runroot" d
	for d in "${data_dirs[@]}"; do
		pattern+="|/run/cerulean/$(printf %s "$d/instances" | sha256sum | cut -c1-12)"
	done
	pattern+=")(/|$)"
	# Whatever is still mounted under our directories, deepest first.
	awk '{print $2}' /proc/mounts | grep -E "$pattern" | sort -r | while read -r m; do umount -l "$m"; done
	for d in "${data_dirs[@]}"; do rmdir "/run/cerulean/$(printf %s "$d/instances" | sha256sum | cut -c1-12)" 2>/dev/null; done
	rm -rf "$work" "$runroot"
	# podman (cgroupfs) leaves its parent cgroups behind; only empty ones go.
	rmdir /sys/fs/cgroup/*/libpod_parent/conmon /sys/fs/cgroup/*/libpod_parent 2>/dev/null
	true
}
trap cleanup EXIT

echo "==> building cerulean ($(podman --version))" >&2
go build -o "$bin/cerulean" ./cmd/cerulean
ln -s cerulean "$bin/az"
export PATH="$bin:$PATH"
export AZURE_CONFIG_DIR="$work/az" CERULEAN_ENDPOINT="https://127.0.0.1:$port"

# ---- the base image: an OCI layout (for az acr import) and an oci-archive
# (for podman's FROM) of one layer holding the static busybox and a link per
# applet. The config has a history entry per layer: without one, buildah
# never reuses a cached RUN on top of it.

blob() { # LAYOUT FILE: moves FILE into LAYOUT's blobs, prints "sha256:<hex> <size>"
	local d s
	d=$(sha256sum "$2" | cut -d' ' -f1)
	s=$(stat -c %s "$2")
	mv "$2" "$1/blobs/sha256/$d"
	echo "sha256:$d $s"
}
make_base() { # LAYOUT
	local layout=$1 root="$work/base-root" a diffid ld ls cd cs md ms
	mkdir -p "$layout/blobs/sha256" "$root/bin" "$root/tmp" "$root/etc"
	chmod 1777 "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
	tar -C "$root" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/base.tar" .
	diffid=$(sha256sum "$work/base.tar" | cut -d' ' -f1)
	gzip -n "$work/base.tar"
	read -r ld ls < <(blob "$layout" "$work/base.tar.gz")
	printf '{"created":"1970-01-01T00:00:00Z","architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"bench-build.sh: static busybox"}]}' \
		"$diffid" >"$work/config.json"
	read -r cd cs < <(blob "$layout" "$work/config.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
		"$cd" "$cs" "$ld" "$ls" >"$work/manifest.json"
	read -r md ms < <(blob "$layout" "$work/manifest.json")
	echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}' \
		"$md" "$ms" >"$layout/index.json"
	rm -rf "$root"
}

# ---- the context: 200 text files of ~20 KB (base64 of random bytes) and
# 100 random files of 160 KiB under files/, ~20 MB, and a directory
# .dockerignore keeps out.
make_context() { # DIR
	local dir=$1 i
	mkdir -p "$dir/files/text" "$dir/files/data" "$dir/files/scratch"
	for i in $(seq -w 1 200); do head -c 15000 /dev/urandom | base64 >"$dir/files/text/t$i.txt"; done
	for i in $(seq -w 1 100); do head -c 163840 /dev/urandom >"$dir/files/data/d$i.bin"; done
	head -c 1048576 /dev/urandom >"$dir/files/scratch/ignored.bin"
	printf 'files/scratch\n' >"$dir/.dockerignore"
	cat >"$dir/Dockerfile" <<'DOCKERFILE'
# scripts/bench-build.sh: one Dockerfile for az acr build and podman build
ARG BASE
FROM ${BASE} AS build
WORKDIR /work
# a few MB of generated files: 32 x 128 KiB random, 32 number lists
RUN mkdir gen && i=0 && while [ $i -lt 32 ]; do head -c 131072 /dev/urandom > gen/r$i.bin; seq $((i * 5000)) $((i * 5000 + 4999)) > gen/n$i.txt; i=$((i + 1)); done
# a loop doing arithmetic in the shell
RUN i=0; s=0; while [ $i -lt 100000 ]; do s=$(((s + i * i) % 1000003)); i=$((i + 1)); done; echo "loop=$s" > loop.txt
COPY files/ /work/ctx/
RUN cd /work/ctx && find . -type f | sort > ../files.txt && \
    { echo "files=$(wc -l < ../files.txt)"; echo "ctx=$(cat $(cat ../files.txt) | sha256sum | cut -d' ' -f1)"; \
      cat ../loop.txt; echo "numbers=$(cat ../gen/n*.txt | wc -l)"; echo "gen=$(ls ../gen | wc -l)"; } > ../summary.txt

FROM scratch
COPY --from=build /bin/busybox /bin/busybox
COPY --from=build /work/summary.txt /summary.txt
COPY --from=build /work/gen /gen
ENTRYPOINT ["/bin/busybox", "cat", "/summary.txt"]
DOCKERFILE
}

echo "==> the base image (static busybox) and the context (300 files)" >&2
make_base "$work/base"
tar -C "$work/base" -cf "$work/base.oci.tar" .
make_context "$work/ctx"
ctx_bytes=$(du -sb --exclude=scratch "$work/ctx" | cut -f1)
expected_ctx=$(cd "$work/ctx/files" && find . -path ./scratch -prune -o -type f -print | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)

# ---- measuring

now() { date +%s.%N; }
# timed OUT CMD…: CMD's stdout and stderr into OUT; prints the seconds it
# took, after $settle s of idleness (on a VM that hands freed memory back to
# its host, a step run right after another freed memory would get cheap
# pages by luck of the order).
timed() {
	local out=$1 t0 t1
	shift
	sleep "$settle"
	t0=$(now)
	"$@" >"$out" 2>&1 || { echo "bench: $* failed:" >&2; tail -30 "$out" >&2; return 1; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

# start_server N: a server on a fresh data dir, logged in, with a registry
# holding the base as base/busybox:1.
start_server() {
	export CERULEAN_DATA_DIR="$work/cerulean-$1"
	data_dirs+=("$CERULEAN_DATA_DIR")
	rm -rf "$AZURE_CONFIG_DIR"
	cerulean serve --listen "127.0.0.1:$port" --log-level "${BENCH_LOG_LEVEL:-warn}" >"$logs/cerulean-$1.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 1 300); do
		[ -f "$CERULEAN_DATA_DIR/bootstrap-credentials.json" ] && az login -o none 2>/dev/null && break
		kill -0 "$server_pid" 2>/dev/null || { cat "$logs/cerulean-$1.log" >&2; echo "bench: cerulean serve exited" >&2; exit 1; }
		sleep 0.1
	done
	az group create -n bench -l eastus -o none
	az acr create -n "$registry_name" -g bench --sku Standard -o none --only-show-errors
	az acr import -n "$registry_name" --source "oci-layout:$work/base:1" --image base/busybox:1 -o none >"$logs/import.txt" 2>&1 ||
		{ cat "$logs/import.txt" >&2; exit 1; }
}
# perf_start NAME / perf_stop: perf record of the server while one build runs.
perf_pid=
perf_start() {
	[ "${BENCH_PERF:-}" = 1 ] || return 0
	perf record -g -F 499 -p "$server_pid" -o "$logs/perf.$1.data" >/dev/null 2>&1 &
	perf_pid=$!
	sleep 0.5
}
perf_stop() {
	[ -n "$perf_pid" ] || return 0
	kill -INT "$perf_pid" 2>/dev/null
	wait "$perf_pid" 2>/dev/null || true
	perf_pid=
}
# acr_build TAG: az acr build, each line of its output (stderr and stdout)
# prefixed with the microseconds since it started.
acr_build() {
	local t0=${EPOCHREALTIME//[.,]/} line
	az acr build -r "$registry_name" -t "bench/app:$1" --build-arg "BASE=$login_server/base/busybox:1" "$work/ctx" 2>&1 |
		while IFS= read -r line; do printf '%s %s\n' "$((${EPOCHREALTIME//[.,]/} - t0))" "$line"; done
}
# phases OUT: "QUEUED STEP" of an acr_build's output: the seconds until az
# queued the run (context packed and uploaded), and the seconds the run's
# build step took on the server (its log's "elapsed time").
phases() {
	awk '/Queued a build with ID/ && !q { q = $1 / 1e6 }
		/Step ID: build marked as successful/ { s = $NF; sub(/\)$/, "", s) }
		END { printf "%.2f %.2f\n", q, s }' "$1"
}
digest() { az acr repository show -n "$registry_name" --image "bench/app:$1" --query digest -o tsv; }
podman_build() { # ROOT
	pm "$1" build --layers --network none --build-arg "BASE=oci-archive:$work/base.oci.tar" -t bench/app:latest "$work/ctx"
}
cache_hits() { grep -c -- "Using cache" "$1" || true; }
min() { printf '%s\n' "$@" | sort -g | head -n1; }

echo "==> load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; context $((ctx_bytes / 1000000)) MB" >&2
echo "==> $rounds rounds: cerulean (fresh server) cold then cached, podman (fresh root) cold then cached" >&2
cer_cold=() cer_cached=() cer_q_cold=() cer_q_cached=() cer_s_cold=() cer_s_cached=() pm_cold=() pm_cached=()
for r in $(seq 1 "$rounds"); do
	start_server "$r"
	perf_start "cold.$r"
	c1=$(timed "$logs/acr-build-cold-$r.txt" acr_build "cold$r")
	perf_stop
	read -r q1 s1 < <(phases "$logs/acr-build-cold-$r.txt")
	perf_start "cached.$r"
	c2=$(timed "$logs/acr-build-cached-$r.txt" acr_build "cached$r")
	perf_stop
	read -r q2 s2 < <(phases "$logs/acr-build-cached-$r.txt")
	hits=$(cache_hits "$logs/acr-build-cached-$r.txt")
	d1=$(digest "cold$r") d2=$(digest "cached$r")
	[ "$d1" = "$d2" ] || echo "bench: warning: cerulean's cached build gave $d2, its cold build $d1" >&2
	if [ "$r" = 1 ]; then
		cer_digest=$d1
		# An acrpull principal, to pull Cerulean's image into podman and run it.
		acr_id=$(az acr show -n "$registry_name" --query id -o tsv)
		pw=$(az ad sp create-for-rbac -n bench-puller --role acrpull --scopes "$acr_id" --query password -o tsv --only-show-errors)
		user=$(az ad sp list --display-name bench-puller --query "[0].appId" -o tsv)
		mkdir -p "$work/certs"
		cp "$CERULEAN_DATA_DIR/tls/ca.pem" "$work/certs/cerulean-ca.crt"
		check_root="$work/podman-check"
		podman_roots+=("$check_root")
		pm "$check_root" pull -q --cert-dir "$work/certs" --creds "$user:$pw" "$login_server/bench/app:cold1" >/dev/null
		cer_out=$(pm "$check_root" run --rm --network none "${ulimits[@]}" "$login_server/bench/app:cold1")
	fi
	stop_server
	printf '    round %d cerulean  cold %6ss (queued at %ss, build step %ss)  cached %6ss (queued at %ss, build step %ss, %s cache hits)\n' \
		"$r" "$c1" "$q1" "$s1" "$c2" "$q2" "$s2" "$hits" >&2
	cer_cold+=("$c1") cer_cached+=("$c2") cer_q_cold+=("$q1") cer_q_cached+=("$q2") cer_s_cold+=("$s1") cer_s_cached+=("$s2")

	root="$work/podman-$r"
	podman_roots+=("$root")
	p1=$(timed "$logs/podman-build-cold-$r.txt" podman_build "$root")
	p2=$(timed "$logs/podman-build-cached-$r.txt" podman_build "$root")
	hits=$(cache_hits "$logs/podman-build-cached-$r.txt")
	if [ "$r" = 1 ]; then
		pm_out=$(pm "$root" run --rm --network none "${ulimits[@]}" bench/app:latest)
	fi
	pm "$root" rm -fa -t 0 >/dev/null 2>&1 || true
	printf '    round %d podman    cold %6ss                                     cached %6ss                                     (%s cache hits)\n' "$r" "$p1" "$p2" "$hits" >&2
	pm_cold+=("$p1") pm_cached+=("$p2")
done
echo "==> load after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2

# Both images run and print the same summary, which matches the context.
echo "==> the images' output (cerulean $cer_digest):" >&2
printf '%s\n' "$cer_out" | sed 's/^/    /' >&2
[ "$cer_out" = "$pm_out" ] || { printf 'bench: podman image printed:\n%s\n' "$pm_out" >&2; echo "bench: the two images differ" >&2; exit 1; }
grep -qx "files=300" <<<"$cer_out" && grep -qx "ctx=$expected_ctx" <<<"$cer_out" && grep -qx "gen=64" <<<"$cer_out" ||
	{ echo "bench: the images' summary is not the expected one (files=300, ctx=$expected_ctx, gen=64)" >&2; exit 1; }

cc=$(min "${cer_cold[@]}") ck=$(min "${cer_cached[@]}") pc=$(min "${pm_cold[@]}") pk=$(min "${pm_cached[@]}")
qc=$(min "${cer_q_cold[@]}") qk=$(min "${cer_q_cached[@]}") sc=$(min "${cer_s_cold[@]}") sk=$(min "${cer_s_cached[@]}")
ratio() { awk -v c="$1" -v p="$2" 'BEGIN { printf "%.2f", c / p }'; }
printf '\n%-40s %9s %9s %16s\n' "seconds, best of $rounds" "podman" "cerulean" "cerulean/podman"
printf '%-40s %9s %9s %16s\n' "cold build" "$pc" "$cc" "$(ratio "$cc" "$pc")"
printf '%-40s %9s %9s %16s\n' "cached build" "$pk" "$ck" "$(ratio "$ck" "$pk")"
printf '%-40s %9s %9s %16s\n' "  cold: context packed+uploaded (az)" "" "$qc" ""
printf '%-40s %9s %9s %16s\n' "  cold: the run's build step (server)" "" "$sc" "$(ratio "$sc" "$pc")"
printf '%-40s %9s %9s %16s\n' "  cached: context packed+uploaded (az)" "" "$qk" ""
printf '%-40s %9s %9s %16s\n' "  cached: the run's build step (server)" "" "$sk" "$(ratio "$sk" "$pk")"
