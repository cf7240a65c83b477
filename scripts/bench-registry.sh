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
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
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

echo "==> writing the image (4 x 128 MiB, incompressible)" >&2
registrybench mkimage "$work/image" 4 128
bytes=$((4 * 128 * 1024 * 1024))

now() { date +%s.%N; }
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
best_push=() best_pull=()
measure() { # measure NAME REF: best push and pull seconds over the rounds
	local name=$1 ref=$2 best_p=999999 best_l=999999
	for r in $(seq 1 "$rounds"); do
		local t0 t1 t2 out="/dev/shm/cerulean-bench-$name-$r"
		t0=$(now)
		crane push "$work/image" "$ref:r$r" >/dev/null 2>&1
		t1=$(now)
		crane pull --format oci "$ref:r$r" "$out" >/dev/null 2>&1
		t2=$(now)
		rm -rf "$out"
		best_p=$(awk -v a="$best_p" -v b="$(awk -v x="$t1" -v y="$t0" 'BEGIN{print x-y}')" 'BEGIN{print (b<a)?b:a}')
		best_l=$(awk -v a="$best_l" -v b="$(awk -v x="$t2" -v y="$t1" 'BEGIN{print x-y}')" 'BEGIN{print (b<a)?b:a}')
	done
	echo "$best_p $best_l"
}

echo "==> $rounds rounds each (distribution first, then cerulean)" >&2
read -r dist_push dist_pull < <(measure distribution "127.0.0.1:$dist_port/bench/image")
read -r cer_push cer_pull < <(measure cerulean "$login_server/bench/image")

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
