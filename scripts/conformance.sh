#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite (v1.1, its default data
# set, sha512 included) against a freshly started Cerulean over TLS with
# ACR token auth, as a service principal holding AcrPush (and AcrDelete,
# which the delete tests need). The registry's login
# server must resolve to 127.0.0.1 (CI adds an /etc/hosts entry).
#
#   scripts/conformance.sh            # exit 0 only if no test failed
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
ln -s cerulean "$bin/az"
export PATH="$bin:$PATH"

# The suite is a Go test package; build its binary from the module cache.
suite_dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/opencontainers/distribution-spec/conformance@$conformance_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
(cd "$suite_dir" && go test -c -o "$bin/conformance.test" .)

export CERULEAN_DATA_DIR="$work/data" CERULEAN_ENDPOINT="https://127.0.0.1:$port" AZURE_CONFIG_DIR="$work/az"
cerulean serve --listen "127.0.0.1:$port" --registry-domain "$domain" >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do
	grep -q "cerulean serving" "$work/server.log" && break
	kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
	sleep 0.1
done

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
