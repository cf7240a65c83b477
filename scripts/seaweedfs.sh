#!/usr/bin/env bash
# SeaweedFS, an S3-compatible object store, for the S3 blob backend's tests.
#
#   scripts/seaweedfs.sh build            build weed once per machine
#   scripts/seaweedfs.sh start DIR PORT   run it on 127.0.0.1:PORT (S3) with
#                                         its data in DIR, print the exports
#   scripts/seaweedfs.sh stop DIR         stop the server started in DIR
#
# SeaweedFS's go.mod has replace directives, so `go install …/weed@version`
# is refused: build from its module directory in the module cache instead.
# Nothing fetched is committed; the binary lands in $(go env GOPATH)/bin.
set -euo pipefail

version=v0.0.0-20261109003541-7506e5f91cd6
bin="$(go env GOPATH)/bin/weed-$version"

# The fixed test key pair the S3 gateway accepts (loopback only, test data).
access_key=cerulean-test
secret_key=cerulean-test-secret
bucket=cerulean-test

build() {
	if [ -x "$bin" ]; then
		return
	fi
	local dir
	# Outside any module so the project's go.mod is not touched.
	dir=$(cd / && GOFLAGS=-mod=mod go mod download -json "github.com/seaweedfs/seaweedfs@$version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] || { echo "seaweedfs: module directory not found" >&2; exit 1; }
	mkdir -p "$(dirname "$bin")"
	echo "==> building SeaweedFS $version (several minutes)" >&2
	(cd "$dir" && GOFLAGS=-mod=mod go build -o "$bin.tmp" ./weed)
	mv "$bin.tmp" "$bin"
}

# answers reports whether an HTTP server answers on 127.0.0.1:$1.
answers() {
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"
}

exports() {
	local port=$1
	echo "export CERULEAN_TEST_S3='s3://$bucket/cerulean?endpoint=http://127.0.0.1:$port&region=us-east-1'"
	echo "export AWS_ACCESS_KEY_ID=$access_key"
	echo "export AWS_SECRET_ACCESS_KEY=$secret_key"
}

# start runs weed server in the background with master, volume, filer and
# S3 gateway on 127.0.0.1 (ports PORT..PORT+3, gRPC 10000 above each), the
# test key pair, and the test bucket. Idempotent: a server already started
# in DIR that answers is kept.
start() {
	local dir=$1 port=$2
	mkdir -p "$dir/data"
	dir=$(cd "$dir" && pwd)
	if [ -f "$dir/weed.pid" ] && kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null && answers "$port"; then
		exports "$port"
		return
	fi
	[ -x "$bin" ] || build
	cat >"$dir/s3.json" <<JSON
{"identities": [{"name": "cerulean-test",
  "credentials": [{"accessKey": "$access_key", "secretKey": "$secret_key"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
	setsid "$bin" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
		-master.port=$((port + 1)) -volume.port=$((port + 2)) -filer.port=$((port + 3)) \
		-master.volumeSizeLimitMB=1024 -volume.max=100 \
		-s3 -s3.port="$port" -s3.config="$dir/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 \
		>"$dir/weed.log" 2>&1 </dev/null &
	echo $! >"$dir/weed.pid"
	local i
	for i in $(seq 120); do
		if answers "$port"; then
			break
		fi
		kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null || { tail -20 "$dir/weed.log" >&2; exit 1; }
		sleep 0.5
	done
	answers "$port" || { echo "seaweedfs: S3 does not answer on $port" >&2; tail -20 "$dir/weed.log" >&2; exit 1; }
	# The bucket, through the master's shell (the filer may need a moment).
	for i in $(seq 60); do
		if echo "s3.bucket.list" | "$bin" shell -master=127.0.0.1:$((port + 1)) 2>/dev/null | grep -qw "$bucket" ||
			echo "s3.bucket.create -name $bucket" | "$bin" shell -master=127.0.0.1:$((port + 1)) >/dev/null 2>&1 &&
			echo "s3.bucket.list" | "$bin" shell -master=127.0.0.1:$((port + 1)) 2>/dev/null | grep -qw "$bucket"; then
			exports "$port"
			return
		fi
		sleep 0.5
	done
	echo "seaweedfs: could not create bucket $bucket" >&2
	exit 1
}

stop() {
	local dir=$1
	[ -f "$dir/weed.pid" ] || return 0
	local pid i
	pid=$(cat "$dir/weed.pid")
	kill "$pid" 2>/dev/null || true
	# The volume server takes about ten seconds to drain.
	for i in $(seq 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/weed.pid"
}

case "${1:-}" in
build)
	build
	;;
start)
	[ $# -eq 3 ] || { echo "usage: $0 start DIR PORT" >&2; exit 2; }
	start "$2" "$3"
	;;
stop)
	[ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
	stop "$2"
	;;
*)
	echo "usage: $0 build | start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac
