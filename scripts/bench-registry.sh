#!/usr/bin/env bash
# Registry benchmark: pushes and pulls a 512 MiB image (4 incompressible
# layers of 128 MiB) with crane against Cerulean and against CNCF
# Distribution v3.1.2 in the same run, both over TLS on loopback, and
# reports throughput and the Cerulean/Distribution ratios; then measures
# manifest GET latency on Cerulean with a bearer token on a keep-alive
# connection. Needs benchmark.azurecr.localhost to resolve to 127.0.0.1
# (scripts/test.sh adds it when run as root).
#
#   scripts/bench-registry.sh [ROUNDS]      # default 3; best round counts
#
# BENCH_SETTLE (default 3) is the pause before each timed step.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
settle=${BENCH_SETTLE:-3} # seconds of idleness before each timed step (see timed)
distribution_version=v3.1.2
crane_version=v0.22.1
port=7443
dist_port=7000
registry_name=benchmark
login_server="$registry_name.azurecr.localhost:$port"

getent hosts "$registry_name.azurecr.localhost" >/dev/null ||
	{ echo "bench: $registry_name.azurecr.localhost must resolve to 127.0.0.1 (/etc/hosts)" >&2; exit 1; }

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
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work" /dev/shm/cerulean-bench-*
}
trap cleanup EXIT

export CERULEAN_DATA_DIR="$work/cerulean" CERULEAN_ENDPOINT="https://127.0.0.1:$port" AZURE_CONFIG_DIR="$work/az"
cerulean serve --listen "127.0.0.1:$port" --log-level warn >"$work/cerulean.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
	[ -f "$CERULEAN_DATA_DIR/bootstrap-credentials.json" ] && az login -o none 2>/dev/null && break
	sleep 0.1
done
ca="$CERULEAN_DATA_DIR/tls/ca.pem"
export SSL_CERT_FILE="$ca" DOCKER_CONFIG="$work/docker"

az group create -n bench -l eastus -o none
az acr create -n "$registry_name" -g bench --sku Premium -o none --only-show-errors
acr_id=$(az acr show -n "$registry_name" --query id -o tsv)
password=$(az ad sp create-for-rbac -n bench-pusher --role acrpush --scopes "$acr_id" --query password -o tsv --only-show-errors)
username=$(az ad sp list --display-name bench-pusher --query "[0].appId" -o tsv)
crane auth login "$login_server" -u "$username" -p "$password" >/dev/null 2>&1

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
pids+=($!)
sleep 1

bytes=$((4 * 128 * 1024 * 1024))
now() { date +%s.%N; }
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b < a) ? b : a }'; }
# timed CMD…: the seconds CMD took. Memory settles first: on a VM whose
# freed memory goes back to the host (virtio-balloon free page reporting),
# touching a page costs a host fault unless the page was freed moments ago,
# so a step that runs right after another one freed memory (a pull's output
# removed) would be measured with cheap pages, by luck of the order.
timed() {
	sleep "$settle"
	local t0 t1
	t0=$(now)
	"$@" >/dev/null 2>&1 || { echo "bench: $* failed" >&2; return 1; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

# Every round writes a fresh image, so that every push uploads every byte
# (a registry skips the blobs it has), and pushes and pulls it on both.
echo "==> $rounds rounds: a fresh image (4 x 128 MiB, incompressible), pushed and pulled with distribution, then cerulean" >&2
dist_push=999999 dist_pull=999999 cer_push=999999 cer_pull=999999
for r in $(seq 1 "$rounds"); do
	rm -rf "$work/image"
	registrybench mkimage "$work/image" 4 128
	for name in distribution cerulean; do
		case $name in
		distribution) ref="127.0.0.1:$dist_port/bench/image" ;;
		cerulean) ref="$login_server/bench/image" ;;
		esac
		out="/dev/shm/cerulean-bench-$name"
		p=$(timed crane push "$work/image" "$ref:r$r")
		l=$(timed crane pull --format oci "$ref:r$r" "$out")
		rm -rf "$out"
		printf '    round %d %-13s push %5s MB/s  pull %5s MB/s\n' "$r" "$name" "$(mbps "$p")" "$(mbps "$l")" >&2
		case $name in
		distribution) dist_push=$(min "$dist_push" "$p") dist_pull=$(min "$dist_pull" "$l") ;;
		cerulean) cer_push=$(min "$cer_push" "$p") cer_pull=$(min "$cer_pull" "$l") ;;
		esac
	done
done

printf '\n%-14s %12s %12s\n' "" "push MB/s" "pull MB/s"
printf '%-14s %12s %12s\n' "distribution" "$(mbps "$dist_push")" "$(mbps "$dist_pull")"
printf '%-14s %12s %12s\n' "cerulean" "$(mbps "$cer_push")" "$(mbps "$cer_pull")"
printf '%-14s %12s %12s\n' "ratio" \
	"$(awk -v a="$dist_push" -v b="$cer_push" 'BEGIN{printf "%.2fx", a/b}')" \
	"$(awk -v a="$dist_pull" -v b="$cer_pull" 'BEGIN{printf "%.2fx", a/b}')"

token=$(curl -fsS --cacert "$ca" -u "$username:$password" \
	"https://$login_server/oauth2/token?service=$login_server&scope=repository:bench/image:pull" |
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
echo
registrybench manifest-latency "https://$login_server/v2/bench/image/manifests/r1" "$token" "$ca" 5000
