#!/usr/bin/env bash
# The main job: build Cerulean, start the server on its embedded defaults
# (data in ~/.cerulean, HTTPS on 127.0.0.1:8443), run the az scenario
# against it, and stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."

# Container groups run under runc, and the scenario's image uses the
# host's static busybox as its shell: install both once, as root.
if [ "$(id -u)" = 0 ]; then
	missing=()
	command -v runc >/dev/null || missing+=(runc)
	[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)
	if [ ${#missing[@]} -gt 0 ]; then
		echo "==> installing ${missing[*]}" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
fi

bin="$PWD/bin"
mkdir -p "$bin"
go build -o "$bin/cerulean" ./cmd/cerulean
ln -sf cerulean "$bin/az"
export PATH="$bin:$PATH"

log=$(mktemp)
cerulean serve >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT

# The server logs "cerulean serving" once its listener is up.
for _ in $(seq 1 300); do
	grep -q "cerulean serving" "$log" && break
	if ! kill -0 "$server" 2>/dev/null; then
		cat "$log" >&2
		echo "cerulean serve exited before serving" >&2
		exit 1
	fi
	sleep 0.1
done
grep -q "cerulean serving" "$log" || { cat "$log" >&2; echo "cerulean serve did not start" >&2; exit 1; }

bash scripts/scenario.sh
