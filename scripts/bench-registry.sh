#!/usr/bin/env bash
# Registry benchmark. Needs benchmark.azurecr.localhost to resolve to
# 127.0.0.1 (scripts/test.sh adds it when run as root) and wrk (Debian:
# apt-get install -y wrk).
#
#   scripts/bench-registry.sh [ROUNDS]      # default 3; best round counts
#
# Default mode, the embedded defaults (SQLite, filesystem), against CNCF
# Distribution v3.1.2 in the same run, both over TLS on loopback:
#   - push and pull of a 512 MiB image (4 incompressible layers of 128 MiB)
#     with crane: throughput and the Cerulean/Distribution ratios, each
#     round's with the CPU seconds the server and crane spent on it;
#   - manifest GET latency on Cerulean with a bearer token on one
#     keep-alive connection;
#   - manifest GET throughput with wrk (16 keep-alive connections): Cerulean
#     with a bearer token, Distribution without auth; req/s, p99, the
#     servers' CPU time per request, and the ratios.
#
# Scale-out mode, BENCH_STORE=postgres BENCH_BLOBS=s3: Cerulean alone on
# the PostgreSQL + S3 pair named by CERULEAN_TEST_POSTGRES and
# CERULEAN_TEST_S3 (with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), in a
# database and bucket prefix of its own that are removed afterwards; one
# server, then two, behind the round-robin proxy of test/roundrobin (every
# request to the next server): push/pull MB/s and manifest GET req/s and
# p99, plus the CPU-pinned comparison described at scale_out_throughput.
#
# The machine may be shared: absolute figures move with the neighbours'
# load, so compare ratios from one run. BENCH_SETTLE (default 3) is the
# pause before each timed step; BENCH_WRK_SECONDS (default 10) the length
# of each wrk run, BENCH_WRK_ROUNDS (default 2) how many alternating runs
# per server (the best counts).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
settle=${BENCH_SETTLE:-3} # seconds of idleness before each timed step (see timed)
wrk_seconds=${BENCH_WRK_SECONDS:-10}
wrk_rounds=${BENCH_WRK_ROUNDS:-2}
connections=16
distribution_version=v3.1.2
crane_version=v0.22.1
port=7443
dist_port=7000
registry_name=benchmark
login_server="$registry_name.azurecr.localhost:$port"
manifest_accept="application/vnd.oci.image.manifest.v1+json"

case "${BENCH_STORE:-sqlite}/${BENCH_BLOBS:-fs}" in
sqlite/fs) scale_out=false ;;
postgres/s3)
	scale_out=true
	: "${CERULEAN_TEST_POSTGRES:?scale-out mode: set CERULEAN_TEST_POSTGRES to a PostgreSQL URL that may create databases}"
	: "${CERULEAN_TEST_S3:?scale-out mode: set CERULEAN_TEST_S3 to s3://bucket/prefix?endpoint=…&region=…}"
	;;
*)
	echo "bench: BENCH_STORE=postgres and BENCH_BLOBS=s3 go together (the scale-out mode); unset both for the embedded defaults" >&2
	exit 1
	;;
esac

getent hosts "$registry_name.azurecr.localhost" >/dev/null ||
	{ echo "bench: $registry_name.azurecr.localhost must resolve to 127.0.0.1 (/etc/hosts)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk is missing (Debian: apt-get install -y wrk)" >&2; exit 1; }

work=$(mktemp -d)
bin="$work/bin"
mkdir -p "$bin"
echo "==> building cerulean and installing distribution $distribution_version and crane $crane_version" >&2
go build -o "$bin/cerulean" ./cmd/cerulean
go build -o "$bin/registrybench" ./test/bench/registrybench
ln -s cerulean "$bin/az"
GOBIN="$bin" go install "github.com/distribution/distribution/v3/cmd/registry@$distribution_version"
GOBIN="$bin" go install "github.com/google/go-containerregistry/cmd/crane@$crane_version"
export PATH="$bin:$PATH"

pids=()
database="" blobs_url=""
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "$database" ]; then
		psql "$CERULEAN_TEST_POSTGRES" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 ||
			echo "bench: could not drop database $database" >&2
	fi
	if [ -n "$blobs_url" ]; then
		registrybench s3-clean "$blobs_url" || echo "bench: could not empty $blobs_url" >&2
	fi
	rm -rf "$work" /dev/shm/cerulean-bench-*
}
trap cleanup EXIT

bytes=$((4 * 128 * 1024 * 1024))
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b < a) ? b : a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
# timed VAR "PID…" CMD…: runs CMD; sets VAR to the seconds it took, VAR_cpu
# to the CPU seconds (user + system) CMD itself used, and VAR_server to
# the CPU seconds the server processes PID… used meanwhile. Both sides run
# on the same CPUs, so the sum is the work the step cost the machine: where
# it is close to wall time × CPUs, the step was CPU-bound. Memory settles
# first: on a VM whose freed memory goes back to the host (virtio-balloon
# free page reporting), touching a page costs a host fault unless the page
# was freed moments ago, so a step that runs right after another one freed
# memory (a pull's output removed) would be measured with cheap pages, by
# luck of the order.
timed() {
	local var=$1 servers=$2 c0 c1 t wall user sys
	shift 2
	sleep "$settle"
	# shellcheck disable=SC2086 # servers is a list of pids
	c0=$(cpu_ticks $servers)
	t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 ) || { echo "bench: $* failed" >&2; return 1; }
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $servers)
	read -r wall user sys <<<"$t"
	printf -v "$var" '%s' "$wall"
	printf -v "${var}_cpu" '%s' "$(awk -v a="$user" -v b="$sys" 'BEGIN { printf "%.2f", a + b }')"
	printf -v "${var}_server" '%s' "$(awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / t }')"
}

# wait_https URL [CURL ARGS…]: until URL answers.
wait_https() {
	local url=$1
	shift
	for _ in $(seq 1 300); do
		curl -fsS -o /dev/null "$@" "$url" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: $url did not answer" >&2
	return 1
}

# setup_registry: a resource group, the Premium registry and a service
# principal with acrpush on it (username and password), crane logged in.
setup_registry() {
	az group create -n bench -l eastus -o none
	az acr create -n "$registry_name" -g bench --sku Premium -o none --only-show-errors
	local acr_id
	acr_id=$(az acr show -n "$registry_name" --query id -o tsv)
	password=$(az ad sp create-for-rbac -n bench-pusher --role acrpush --scopes "$acr_id" --query password -o tsv --only-show-errors)
	username=$(az ad sp list --display-name bench-pusher --query "[0].appId" -o tsv)
	crane auth login "$login_server" -u "$username" -p "$password" >/dev/null 2>&1
}

# pull_token: an ACR access token for pulling bench/image.
pull_token() {
	curl -fsS --cacert "$ca" -u "$username:$password" \
		"https://$login_server/oauth2/token?service=$login_server&scope=repository:bench/image:pull" |
		sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

# push_pull NAME REF "PID…": pushes $work/image to REF and pulls it back,
# the server being PID…; sets push and pull (seconds) with their CPU
# figures (see timed) and prints the round's line.
push_pull() {
	local name=$1 ref=$2 servers=$3 out="/dev/shm/cerulean-bench-$1"
	timed push "$servers" crane push "$work/image" "$ref"
	timed pull "$servers" crane pull --format oci "$ref" "$out"
	rm -rf "$out"
	printf '    round %d %-13s push %5s MB/s (CPU s: server %s, crane %s)  pull %5s MB/s (CPU s: server %s, crane %s)\n' \
		"$round" "$name" "$(mbps "$push")" "$push_server" "$push_cpu" "$(mbps "$pull")" "$pull_server" "$pull_cpu" >&2
}

# fresh_image: a new image (4 x 128 MiB, incompressible) in $work/image, so
# that every push uploads every byte (a registry skips the blobs it has).
fresh_image() {
	rm -rf "$work/image"
	registrybench mkimage "$work/image" 4 128
}

# push_pull_rounds NAME REPO TAG_PREFIX: $rounds rounds of a fresh image
# pushed and pulled; sets best_push and best_pull (seconds, best round).
push_pull_rounds() {
	best_push=999999 best_pull=999999
	for round in $(seq 1 "$rounds"); do
		fresh_image
		push_pull "$1" "$2:$3$round" "${servers[*]}"
		best_push=$(min "$best_push" "$push") best_pull=$(min "$best_pull" "$pull")
	done
}

# cpu_ticks PID…: the processes' CPU time so far, in clock ticks.
cpu_ticks() {
	local p t=0
	for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
	echo "$t"
}

# wrk_once OUT URL CONNECTIONS [WRK ARGS…]: one wrk run into OUT; fails on
# any non-2xx answer (a throughput of errors is no throughput).
wrk_once() {
	local out=$1 url=$2 c=$3
	shift 3
	wrk -t "$((c < 2 ? 1 : 2))" -c "$c" -d "${wrk_seconds}s" --latency -H "Accept: $manifest_accept" "$@" "$url" >"$out"
	if grep -q 'Non-2xx' "$out"; then
		echo "bench: wrk $url: $(grep 'Non-2xx' "$out")" >&2
		return 1
	fi
}
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
# wrk_p99 OUT: the p99 latency in ms (wrk prints us, ms or s).
wrk_p99() {
	awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		print (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : (u == "m") ? v * 60000 : v }' "$1"
}
wrk_count() { awk '/requests in/ { print $1 }' "$1"; }

# throughput NAME URL "PID…" [WRK ARGS…]: one wrk run of $connections
# connections; sets rps, p99 (ms) and cpu (the servers' CPU µs per request,
# which the neighbours' load moves less than req/s), and prints them.
throughput() {
	local name=$1 url=$2 servers=$3 out="$work/wrk.out" c0 c1
	shift 3
	sleep "$settle"
	# shellcheck disable=SC2086 # servers is a list of pids
	c0=$(cpu_ticks $servers)
	wrk_once "$out" "$url" "$connections" "$@"
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $servers)
	rps=$(wrk_rps "$out") p99=$(wrk_p99 "$out")
	cpu=$(awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" -v n="$(wrk_count "$out")" 'BEGIN { printf "%.0f", (b - a) / t * 1e6 / n }')
	printf '    %-40s %9.0f req/s  p99 %7.2f ms  %5s µs CPU/req\n' "$name" "$rps" "$p99" "$cpu" >&2
}

# best_throughput VAR NAME URL "PID…" [WRK ARGS…]: throughput, keeping in
# VAR_rps, VAR_p99 and VAR_cpu the run with the most req/s.
best_throughput() {
	local var=$1
	shift
	throughput "$@"
	if [ -z "${!var+x}" ] || awk -v a="$rps" -v b="${!var}" 'BEGIN { exit !(a > b) }'; then
		printf -v "$var" '%s' "$rps"
		printf -v "${var}_p99" '%s' "$p99"
		printf -v "${var}_cpu" '%s' "$cpu"
	fi
}

embedded() {
	export CERULEAN_DATA_DIR="$work/cerulean" CERULEAN_ENDPOINT="https://127.0.0.1:$port" AZURE_CONFIG_DIR="$work/az"
	cerulean serve --listen "127.0.0.1:$port" --log-level warn >"$work/cerulean.log" 2>&1 &
	cer_pid=$!
	pids+=("$cer_pid")
	for _ in $(seq 1 300); do
		[ -f "$CERULEAN_DATA_DIR/bootstrap-credentials.json" ] && az login -o none 2>/dev/null && break
		sleep 0.1
	done
	ca="$CERULEAN_DATA_DIR/tls/ca.pem"
	export SSL_CERT_FILE="$ca" DOCKER_CONFIG="$work/docker"
	setup_registry

	# Distribution on the same disk, with the same certificate (it covers 127.0.0.1).
	cat >"$work/distribution.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/distribution
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$dist_port
  tls:
    certificate: $CERULEAN_DATA_DIR/tls/server.pem
    key: $CERULEAN_DATA_DIR/tls/server-key.pem
YAML
	registry serve "$work/distribution.yml" >"$work/distribution.log" 2>&1 &
	dist_pid=$!
	pids+=("$dist_pid")
	wait_https "https://127.0.0.1:$dist_port/v2/" --cacert "$ca"

	# Every round writes a fresh image and pushes and pulls it on both.
	echo "==> $rounds rounds: a fresh image (4 x 128 MiB, incompressible), pushed and pulled with distribution, then cerulean" >&2
	local dist_push=999999 dist_pull=999999 cer_push=999999 cer_pull=999999
	for round in $(seq 1 "$rounds"); do
		fresh_image
		push_pull distribution "127.0.0.1:$dist_port/bench/image:r$round" "$dist_pid"
		dist_push=$(min "$dist_push" "$push") dist_pull=$(min "$dist_pull" "$pull")
		local round_push=$push round_pull=$pull
		push_pull cerulean "$login_server/bench/image:r$round" "$cer_pid"
		cer_push=$(min "$cer_push" "$push") cer_pull=$(min "$cer_pull" "$pull")
		printf '    round %d ratio         push %s  pull %s\n' "$round" "$(ratio "$round_push" "$push")" "$(ratio "$round_pull" "$pull")" >&2
	done

	printf '\n%-14s %12s %12s\n' "" "push MB/s" "pull MB/s"
	printf '%-14s %12s %12s\n' "distribution" "$(mbps "$dist_push")" "$(mbps "$dist_pull")"
	printf '%-14s %12s %12s\n' "cerulean" "$(mbps "$cer_push")" "$(mbps "$cer_pull")"
	printf '%-14s %12s %12s\n' "ratio" "$(ratio "$dist_push" "$cer_push")" "$(ratio "$dist_pull" "$cer_pull")"

	local token
	token=$(pull_token)
	echo
	registrybench manifest-latency "https://$login_server/v2/bench/image/manifests/r1" "$token" "$ca" 5000

	# Throughput: wrk's own TLS and HTTP/1.1 on keep-alive connections, the
	# same manifest on both; Cerulean authenticates every request (bearer
	# token), Distribution has no auth configured.
	echo "==> manifest GET throughput: wrk, $connections keep-alive connections over TLS, ${wrk_seconds}s, $wrk_rounds runs each, alternating" >&2
	unset tp_cer tp_dist
	for _ in $(seq 1 "$wrk_rounds"); do
		best_throughput tp_cer "cerulean (bearer token)" "https://$login_server/v2/bench/image/manifests/r1" "$cer_pid" \
			-H "Authorization: Bearer $token"
		best_throughput tp_dist "distribution (no auth)" "https://127.0.0.1:$dist_port/v2/bench/image/manifests/r1" "$dist_pid"
	done
	printf '\n%-14s %12s %12s %14s\n' "manifest GET" "req/s" "p99 ms" "CPU µs/req"
	printf '%-14s %12.0f %12.2f %14s\n' "distribution" "$tp_dist" "$tp_dist_p99" "$tp_dist_cpu"
	printf '%-14s %12.0f %12.2f %14s\n' "cerulean" "$tp_cer" "$tp_cer_p99" "$tp_cer_cpu"
	printf '%-14s %12s %12s %14s\n' "ratio" "$(ratio "$tp_cer" "$tp_dist")" "$(ratio "$tp_dist_p99" "$tp_cer_p99")" \
		"$(ratio "$tp_dist_cpu" "$tp_cer_cpu")"
	echo "(ratios: Cerulean's advantage; the machine's other load moves absolute figures, CPU µs/req least)"
}

# start_server NAME ADDRESS: Cerulean on the shared store and bucket, with
# its own data dir $work/NAME; sets server_pid.
start_server() {
	local name=$1 addr=$2
	CERULEAN_DATA_DIR="$work/$name" cerulean serve --listen "$addr" --store "$store_url" --blobs "$blobs_url" \
		--log-level warn >"$work/$name.log" 2>&1 &
	server_pid=$!
	pids+=("$server_pid")
	local host=${addr%:*}
	# Its certificate names localhost (and not 127.0.0.2, …).
	wait_https "https://localhost:$port/healthz" --cacert "$work/a/tls/ca.pem" --resolve "localhost:$port:$host" ||
		{ tail "$work/$name.log" >&2; return 1; }
}

# start_proxy BACKEND…: (re)starts the round-robin proxy on 127.0.0.1:$port,
# where the login server resolves, with server A's certificate.
start_proxy() {
	if [ -n "${proxy_pid:-}" ]; then
		kill "$proxy_pid"
		wait "$proxy_pid" 2>/dev/null || true
	fi
	local tls="$work/a/tls"
	registrybench proxy "127.0.0.1:$port" "$tls/server.pem" "$tls/server-key.pem" "$tls/ca.pem" \
		"$registry_name.azurecr.localhost" "$@" &
	proxy_pid=$!
	pids+=("$proxy_pid")
	wait_https "https://127.0.0.1:$port/healthz" --cacert "$tls/ca.pem"
}

# pin CPU PID…: every thread of the processes on CPU (a list, as taskset
# takes it).
pin() {
	local cpus=$1 p
	shift
	for p in "$@"; do taskset -a -cp "$cpus" "$p" >/dev/null; done
}

# scale_out_throughput N: manifest GET throughput of N servers (pids in
# servers[], addresses in addrs[]), twice:
#
#  - through the proxy, unpinned: what a client of the one login server
#    sees. On one machine the proxy (TLS in, TLS out) competes with the
#    servers for the same CPUs, so this understates what N servers on N
#    machines would give and is no measure of scaling.
#  - CPU-pinned, the two-machine simulation: server A on CPU 0, server B on
#    CPU 1, and wrk's $connections connections split evenly between them,
#    straight to each server's address (a DNS or layer-4 balancer's
#    spread, no proxy); one server pinned to CPU 0 with all connections is
#    the comparison. What it shows: whether a second server on a CPU of its
#    own adds throughput while both share one PostgreSQL and one bucket
#    (the shared store is the part that would not scale). What it does
#    not: wrk, PostgreSQL and SeaweedFS are not pinned and share these CPUs
#    with the servers (with one server they have CPU 1 mostly to
#    themselves, with two they compete), so the two-server figure is a
#    lower bound; network latency between machines is absent.
scale_out_throughput() {
	local n=$1 token url="https://$login_server/v2/bench/image/manifests/s1-1"
	token=$(pull_token)
	sleep "$settle"
	throughput "$n server(s) via proxy, unpinned" "$url" "${servers[*]}" -H "Authorization: Bearer $token"
	printf -v "so${n}_proxy" '%s' "$rps"
	printf -v "so${n}_proxy_p99" '%s' "$p99"

	local i c0 c1 total=0 worst=0 count=0 failed=0 wrks=()
	for i in $(seq 0 $((n - 1))); do pin "$i" "${servers[$i]}"; done
	sleep "$settle"
	c0=$(cpu_ticks "${servers[@]}")
	for i in $(seq 0 $((n - 1))); do
		wrk_once "$work/wrk-$i.out" "https://${addrs[$i]}/v2/bench/image/manifests/s1-1" "$((connections / n))" \
			-H "Host: $login_server" -H "Authorization: Bearer $token" &
		wrks+=($!)
	done
	for i in "${wrks[@]}"; do wait "$i" || failed=1; done
	c1=$(cpu_ticks "${servers[@]}")
	[ "$failed" = 0 ] || return 1
	for i in $(seq 0 $((n - 1))); do
		total=$(awk -v a="$total" -v b="$(wrk_rps "$work/wrk-$i.out")" 'BEGIN { print a + b }')
		worst=$(awk -v a="$worst" -v b="$(wrk_p99 "$work/wrk-$i.out")" 'BEGIN { print (b > a) ? b : a }')
		count=$((count + $(wrk_count "$work/wrk-$i.out")))
	done
	pin "0-$(($(nproc) - 1))" "${servers[@]}"
	cpu=$(awk -v a="$c0" -v b="$c1" -v t="$(getconf CLK_TCK)" -v n="$count" 'BEGIN { printf "%.0f", (b - a) / t * 1e6 / n }')
	printf '    %-40s %9.0f req/s  p99 %7.2f ms  %5s µs CPU/req\n' "$n server(s) pinned to CPU 0..$((n - 1)), direct" "$total" "$worst" "$cpu" >&2
	printf -v "so${n}_pinned" '%s' "$total"
	printf -v "so${n}_pinned_p99" '%s' "$worst"
}

scale_out() {
	local id
	id=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	database="cerulean_bench_$id"
	psql "$CERULEAN_TEST_POSTGRES" -qc "CREATE DATABASE $database" >/dev/null
	store_url=$(echo "$CERULEAN_TEST_POSTGRES" | sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\\1/$database#")
	blobs_url=$(echo "$CERULEAN_TEST_S3" | sed -E "s#^(s3://[^?]*[^/?])/?(\\?|\$)#\\1/bench-$id\\2#")
	echo "==> scale-out: store $database, blobs under bench-$id (both removed at the end)" >&2

	# Several servers share the port (it is part of the login server every
	# token names), so each has a loopback address of its own and the proxy
	# takes 127.0.0.1, where the login server resolves.
	addrs=("127.0.0.2:$port" "127.0.0.3:$port")
	start_server a "${addrs[0]}"
	servers=("$server_pid")
	export CERULEAN_DATA_DIR="$work/a" CERULEAN_ENDPOINT="https://127.0.0.1:$port" AZURE_CONFIG_DIR="$work/az"
	ca="$work/a/tls/ca.pem"
	export SSL_CERT_FILE="$ca" DOCKER_CONFIG="$work/docker"
	start_proxy "${addrs[0]}"
	az login -o none
	setup_registry

	echo "==> one server behind the proxy: $rounds rounds of push and pull (4 x 128 MiB)" >&2
	push_pull_rounds "1 server" "$login_server/bench/image" s1-
	local push1=$best_push pull1=$best_pull
	scale_out_throughput 1

	# Server B reads the signing and sealing keys, the CA and the bootstrap
	# credentials A stored in PostgreSQL (docs/operator.md, "Several
	# servers"): nothing is copied.
	mkdir -m 0700 "$work/b"
	start_server b "${addrs[1]}"
	servers+=("$server_pid")
	start_proxy "${addrs[@]}"

	echo "==> two servers behind the proxy, every request to the next one: $rounds rounds of push and pull" >&2
	push_pull_rounds "2 servers" "$login_server/bench/image" s2-
	local push2=$best_push pull2=$best_pull
	scale_out_throughput 2

	printf '\n%-34s %10s %10s %12s %8s\n' "PostgreSQL + S3" "push MB/s" "pull MB/s" "GET req/s" "p99 ms"
	printf '%-34s %10s %10s %12.0f %8.2f\n' "1 server, proxy" "$(mbps "$push1")" "$(mbps "$pull1")" "$so1_proxy" "$so1_proxy_p99"
	printf '%-34s %10s %10s %12.0f %8.2f\n' "2 servers, proxy" "$(mbps "$push2")" "$(mbps "$pull2")" "$so2_proxy" "$so2_proxy_p99"
	printf '%-34s %10s %10s %12.0f %8.2f\n' "1 server on CPU 0, direct" "" "" "$so1_pinned" "$so1_pinned_p99"
	printf '%-34s %10s %10s %12.0f %8.2f\n' "2 servers on CPU 0 and 1, direct" "" "" "$so2_pinned" "$so2_pinned_p99"
	printf '%-34s %10s %10s %12s\n' "2 / 1 (pinned)" "" "" "$(ratio "$so2_pinned" "$so1_pinned")"
	echo "(one machine: the proxy, wrk, PostgreSQL and SeaweedFS share the servers' CPUs; see scale_out_throughput)"
}

if $scale_out; then
	scale_out
else
	embedded
fi
