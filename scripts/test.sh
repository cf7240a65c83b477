#!/usr/bin/env bash
# The whole test suite: formatting, vet, lint, every Go test (unit,
# integration, end-to-end through the built binary with skopeo, crane's and
# oras' libraries, and container groups under runc), a bounded run of every
# fuzz target, and the OCI distribution-spec conformance suite.
#
# Run as root on a fresh Debian machine it installs what the tests need
# (skopeo, runc, busybox-static, podman, docker.io, and Azure's own clients: Debian's
# azure-cli with the Azure SDK for Python it brings, Node.js for the Azure SDK
# for JavaScript, which the tests take from npm; PostgreSQL, started on
# loopback for the PostgreSQL store's tests; SeaweedFS, built from its Go
# module and started on loopback for the S3 blob store's tests) and adds the /etc/hosts entries that let third-party clients
# reach registry login servers. Otherwise the tests that need them are
# skipped with a message, unless CERULEAN_E2E_REQUIRE=1 (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

golangci_version=v2.15.0
registry_hosts="skopeotest.azurecr.localhost conformance.azurecr.localhost benchmark.azurecr.localhost"

if [ "$(id -u)" = 0 ]; then
	# Debian packages the tests drive, installed once (skipped when present).
	missing=()
	command -v skopeo >/dev/null || missing+=(skopeo)
	command -v runc >/dev/null || missing+=(runc)
	[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)
	command -v podman >/dev/null || missing+=(podman)
	dpkg -s azure-cli >/dev/null 2>&1 || missing+=(azure-cli)
	command -v npm >/dev/null || missing+=(nodejs npm)
	command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
	# Debian's docker.io for the docker client tests (each starts its own
	# dockerd); without recommends, which add needrestart and apparmor.
	lean=()
	command -v dockerd >/dev/null || lean+=(docker.io)
	if [ ${#missing[@]} -gt 0 ] || [ ${#lean[@]} -gt 0 ]; then
		echo "==> installing ${missing[*]} ${lean[*]}"
		apt-get update -qq
		[ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
		[ ${#lean[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
	fi
	# PostgreSQL for the pgstore backend's tests: Debian's cluster on
	# loopback, a role that may create the databases the tests make.
	if [ -z "${CERULEAN_TEST_POSTGRES:-}" ]; then
		cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
		[ -n "$cluster" ] || { pg_createcluster 15 main >/dev/null; cluster="15 main"; }
		# Test packages run at once, each server with its own pools (store
		# and registry locks): more than Debian's default 100 connections.
		if [ "$(pg_conftool -s $cluster show max_connections 2>/dev/null)" != 400 ]; then
			pg_conftool $cluster set max_connections 400
			pg_ctlcluster $cluster status >/dev/null 2>&1 && pg_ctlcluster $cluster restart
		fi
		pg_ctlcluster $cluster status >/dev/null 2>&1 || pg_ctlcluster $cluster start
		port=$(pg_lsclusters -h | awk 'NR==1 {print $3}')
		(cd /tmp && runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qc "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='cerulean') THEN CREATE ROLE cerulean LOGIN PASSWORD 'cerulean' CREATEDB; END IF; END\$\$;")
		(cd /tmp && runuser -u postgres -- psql -p "$port" -tAc "SELECT 1 FROM pg_database WHERE datname='cerulean_test'" | grep -q 1) ||
			(cd /tmp && runuser -u postgres -- createdb -p "$port" -O cerulean cerulean_test)
		export CERULEAN_TEST_POSTGRES="postgres://cerulean:cerulean@127.0.0.1:$port/cerulean_test?sslmode=disable"
	fi
	# SeaweedFS (S3 on loopback) for the S3 blob backend's tests: built
	# once per machine, in the background while formatting, vet and lint run.
	if [ -z "${CERULEAN_TEST_S3:-}" ]; then
		weed_log=$(mktemp)
		bash scripts/seaweedfs.sh build >"$weed_log" 2>&1 &
		weed_build=$!
	fi
	if ! getent hosts conformance.azurecr.localhost >/dev/null; then
		echo "==> adding registry login servers to /etc/hosts"
		echo "127.0.0.1 $registry_hosts" >>/etc/hosts
	fi
fi

echo "==> gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "==> go vet"
go vet ./...

echo "==> golangci-lint $golangci_version"
gobin=$(go env GOPATH)/bin
if ! "$gobin/golangci-lint" version 2>/dev/null | grep -q "${golangci_version#v}"; then
	go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_version"
fi
"$gobin/golangci-lint" run ./...

if [ -n "${weed_build:-}" ]; then
	echo "==> SeaweedFS"
	wait "$weed_build" || { cat "$weed_log" >&2; exit 1; }
	eval "$(bash scripts/seaweedfs.sh start /var/tmp/cerulean-seaweedfs 18333)"
	trap 'bash scripts/seaweedfs.sh stop /var/tmp/cerulean-seaweedfs >/dev/null 2>&1 || true' EXIT
fi

echo "==> go test"
# Azure's own clients run one after another (they share port 443): their
# package alone takes several minutes, past go test's default 10.
go test -count=1 -timeout 40m ./...

echo "==> fuzzing (every fuzz target for ${FUZZTIME:-15s} besides its seed corpus)"
bash scripts/fuzz.sh

echo "==> OCI distribution-spec conformance"
if getent hosts conformance.azurecr.localhost >/dev/null || [ "${CERULEAN_E2E_REQUIRE:-}" = 1 ]; then
	OCI_RESULTS_DIR="${OCI_RESULTS_DIR:-$(mktemp -d)}" bash scripts/conformance.sh
	if [ -n "${CERULEAN_TEST_POSTGRES:-}" ] && [ -n "${CERULEAN_TEST_S3:-}" ]; then
		echo "==> OCI conformance against two servers on PostgreSQL + S3, every request to the other one"
		OCI_RESULTS_DIR="$(mktemp -d)" CONFORMANCE_SERVERS=2 bash scripts/conformance.sh
	elif [ "${CERULEAN_E2E_REQUIRE:-}" = 1 ]; then
		echo "conformance on two servers needs CERULEAN_TEST_POSTGRES and CERULEAN_TEST_S3" >&2
		exit 1
	fi
else
	echo "skipped: conformance.azurecr.localhost does not resolve (run as root, or add '127.0.0.1 $registry_hosts' to /etc/hosts)"
fi
