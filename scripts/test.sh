#!/usr/bin/env bash
# The whole test suite: formatting, vet, lint, then every test (unit,
# integration, and end-to-end through the built binary).
set -euo pipefail
cd "$(dirname "$0")/.."

golangci_version=v2.15.0

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

echo "==> go test"
go test -count=1 ./...
