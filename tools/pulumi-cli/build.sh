#!/usr/bin/env bash
# `make pulumi-cli`: builds the Pulumi CLI from Pulumi's Go modules (the release go.mod pins) into
# .tools/pulumi/bin, or reuses a build of the same release. Beside `pulumi` it installs the two
# scripts of the sdk/v3 module the engine runs Python with: pulumi-resource-pulumi-python (the
# dynamic-provider plugin) and pulumi-language-python-exec.
#
# The Python language host (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
# is not built: the module has no tags and the Go module proxy serves no version of it. Programs
# run through Pulumi's inline language server instead (tools/pulumi_host.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${PULUMI_CLI_DIR:-$here/../../.tools/pulumi/bin}")
cd "$here"

if ! command -v go >/dev/null; then
    echo "pulumi-cli: Go is not installed; the real-CLI tests need it (https://go.dev/dl)" >&2
    exit 1
fi
version=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
sdk_version=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)
if [ "$version" != "$sdk_version" ]; then
    echo "pulumi-cli: go.mod pins pkg/v3 $version but sdk/v3 $sdk_version; pin one release" >&2
    exit 1
fi
if [ -x "$out/pulumi" ] && [ "$("$out/pulumi" version 2>/dev/null)" = "$version" ] \
    && [ -x "$out/pulumi-resource-pulumi-python" ] && [ -x "$out/pulumi-language-python-exec" ]; then
    echo "pulumi-cli: pulumi $version is built already ($out)"
    exit 0
fi

mkdir -p "$out"
start=$SECONDS
echo "pulumi-cli: downloading the modules of pulumi $version"
go mod download
echo "pulumi-cli: building pulumi $version (a first build takes 5-8 minutes on 2 cores)"
go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$out/pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
mv "$out/pulumi.partial" "$out/pulumi"
sdk_dir=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$out/"
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$out/"
echo "pulumi-cli: pulumi $("$out/pulumi" version) in $out ($((SECONDS - start))s)"
