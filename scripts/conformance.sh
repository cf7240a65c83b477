#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite (v1.1, its default data
# set, sha512 included) against a freshly started Cerulean over TLS with
# ACR token auth, as a service principal holding AcrPush (and AcrDelete,
# which the delete tests need). The registry's login
# server must resolve to 127.0.0.1 (CI adds an /etc/hosts entry).
#
#   scripts/conformance.sh            # exit 0 only if no test failed
#
# CONFORMANCE_SERVERS=2 runs the suite against two servers sharing one
# PostgreSQL database and one S3 prefix (made fresh from
# CERULEAN_TEST_POSTGRES and CERULEAN_TEST_S3, as scripts/test.sh sets
# them) behind a round-robin proxy on the suite's port, so that every
# request goes to the other server than the one before.
set -euo pipefail
cd "$(dirname "$0")/.."

conformance_version=v0.0.0-20260831232431-97274622c111
registry_name=${CONFORMANCE_REGISTRY:-conformance}
domain=azurecr.localhost
port=${CONFORMANCE_PORT:-5443}
login_server="$registry_name.$domain:$port"

if ! getent hosts "$registry_name.$domain" >/dev/null; then
	echo "conformance: $registry_name.$domain does not resolve; add '127.0.0.1 $registry_name.$domain' to /etc/hosts" >&2
	exit 1
fi

work=$(mktemp -d)
bin="$work/bin"
mkdir -p "$bin"
go build -o "$bin/cerulean" ./cmd/cerulean
go build -o "$bin/roundrobin" ./test/roundrobin/cmd/roundrobin
ln -s cerulean "$bin/az"
export PATH="$bin:$PATH"

# The suite is a Go test package; build its binary from the module cache.
suite_dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/opencontainers/distribution-spec/conformance@$conformance_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
(cd "$suite_dir" && go test -c -o "$bin/conformance.test" .)

servers=${CONFORMANCE_SERVERS:-1}
pids=() drop=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	[ ${#drop[@]} -eq 0 ] || psql -q "$CERULEAN_TEST_POSTGRES" -c "DROP DATABASE ${drop[0]} WITH (FORCE)" || true
	rm -rf "$work"
}
trap cleanup EXIT
# serve DIR ADDR [FLAG…]: a server on DIR, up once it logs that it serves.
serve() {
	local dir=$1 addr=$2
	shift 2
	mkdir -p "$dir"
	cerulean serve --data-dir "$dir" --listen "$addr" --registry-domain "$domain" "$@" >"$dir.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 300); do
		grep -q "cerulean serving" "$dir.log" && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir.log" >&2
	exit 1
}
data_dir="$work/data1"
if [ "$servers" = 1 ]; then
	serve "$data_dir" "127.0.0.1:$port"
else
	: "${CERULEAN_TEST_POSTGRES:?CONFORMANCE_SERVERS=$servers needs CERULEAN_TEST_POSTGRES}" "${CERULEAN_TEST_S3:?and CERULEAN_TEST_S3}"
	run_id="conformance_$(date +%s)_$$"
	psql -q "$CERULEAN_TEST_POSTGRES" -c "CREATE DATABASE $run_id"
	drop+=("$run_id")
	store="${CERULEAN_TEST_POSTGRES%%\?*}"
	store="${store%/*}/$run_id?${CERULEAN_TEST_POSTGRES#*\?}"
	blobs="${CERULEAN_TEST_S3%%\?*}/$run_id?${CERULEAN_TEST_S3#*\?}"
	backends=()
	for i in $(seq 1 "$servers"); do
		serve "$work/data$i" "127.0.0.1:$((port + i))" --store "$store" --blobs "$blobs" --registry-port "$port"
		backends+=("127.0.0.1:$((port + i))")
	done
	# The proxy serves the first server's certificate: every server's is
	# signed by the one CA they share, for the same names.
	roundrobin -listen "127.0.0.1:$port" -cert "$data_dir/tls/server.pem" -key "$data_dir/tls/server-key.pem" \
		-ca "$data_dir/tls/ca.pem" "${backends[@]}" 2>"$work/proxy.log" &
	pids+=($!)
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	echo "conformance: $servers servers on one PostgreSQL database and one S3 prefix, behind a round-robin proxy on :$port" >&2
fi
# The CLI uses the first server's data dir (every server's bootstrap
# credentials are the same).
export CERULEAN_DATA_DIR="$data_dir" CERULEAN_ENDPOINT="https://127.0.0.1:$port" AZURE_CONFIG_DIR="$work/az"

az login -o none
az group create -n conformance -l eastus -o none
az acr create -n "$registry_name" -g conformance --sku Standard -o none --only-show-errors
acr_id=$(az acr show -n "$registry_name" --query id -o tsv)
password=$(az ad sp create-for-rbac -n conformance-pusher --role acrpush --scopes "$acr_id" --query password -o tsv --only-show-errors)
username=$(az ad sp list --display-name conformance-pusher --query "[0].appId" -o tsv)
# AcrPush does not include delete (in ACR neither); the suite's delete tests
# need AcrDelete too, on the same principal.
az role assignment create --assignee "$username" --role AcrDelete --scope "$acr_id" -o none --only-show-errors

results=${OCI_RESULTS_DIR:-$PWD/conformance-results}
mkdir -p "$results"
(
	cd "$work"
	SSL_CERT_FILE="$CERULEAN_DATA_DIR/tls/ca.pem" \
		OCI_REGISTRY="$login_server" OCI_TLS=enabled OCI_VERSION=1.1 \
		OCI_REPO1=conformance/repo1 OCI_REPO2=conformance/repo2 \
		OCI_USERNAME="$username" OCI_PASSWORD="$password" \
		OCI_RESULTS_DIR="$results" OCI_LOG=warn \
		"$bin/conformance.test" -test.v
) >"$results/output.txt" 2>&1 || true

tail -n 40 "$results/output.txt"
junit="$results/junit.xml"
[ -f "$junit" ] || { echo "conformance: no junit.xml written" >&2; exit 1; }
# The suite element carries the counts: tests, failures, errors, skipped, disabled.
suite=$(grep -o '<testsuite [^>]*>' "$junit" | head -n1)
attr() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$suite"; }
tests=$(attr tests) failures=$(attr failures) errors=$(attr errors)
skipped=$(attr skipped) disabled=$(attr disabled)
passed=$((tests - ${failures:-0} - ${errors:-0} - ${skipped:-0} - ${disabled:-0}))
echo "conformance: ${passed} passed, $((${failures:-0} + ${errors:-0})) failed, ${skipped:-0} skipped, ${disabled:-0} disabled (of ${tests})"
[ "${failures:-0}" -eq 0 ] && [ "${errors:-0}" -eq 0 ] && [ "$passed" -gt 0 ]
