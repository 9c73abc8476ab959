#!/usr/bin/env bash
# `make pulumi-cli`: builds the Pulumi CLI and Pulumi YAML's language host from Pulumi's Go modules
# (the releases tools/pulumi-cli/go.mod and tools/pulumi-yaml/go.mod pin) into .tools/pulumi/bin,
# or reuses builds of the same releases. Beside `pulumi` it installs the two scripts of the sdk/v3
# module the engine runs Python with: pulumi-resource-pulumi-python (the dynamic-provider plugin)
# and pulumi-language-python-exec. The YAML host sits beside `pulumi`, where the CLI looks for the
# language hosts it ships with.
#
# The Python language host (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
# is not built: the module has no tags and the Go module proxy serves no version of it. Programs
# run through Pulumi's inline language server instead (tools/pulumi_host.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${PULUMI_CLI_DIR:-$here/../../.tools/pulumi/bin}")

if ! command -v go >/dev/null; then
    echo "pulumi-cli: Go is not installed; the real-CLI tests need it (https://go.dev/dl)" >&2
    exit 1
fi
mkdir -p "$out"

build_cli() {
    cd "$here"
    local version sdk_version start sdk_dir
    version=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
    sdk_version=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)
    if [ "$version" != "$sdk_version" ]; then
        echo "pulumi-cli: go.mod pins pkg/v3 $version but sdk/v3 $sdk_version; pin one release" >&2
        exit 1
    fi
    if [ -x "$out/pulumi" ] && [ "$("$out/pulumi" version 2>/dev/null)" = "$version" ] \
        && [ -x "$out/pulumi-resource-pulumi-python" ] && [ -x "$out/pulumi-language-python-exec" ]; then
        echo "pulumi-cli: pulumi $version is built already ($out)"
        return
    fi
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
}

build_yaml() {
    cd "$here/../pulumi-yaml"
    local version stamp start
    version=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi-yaml)
    # The host has no version command: a stamp beside it says which release it is.
    stamp="$out/.pulumi-language-yaml.version"
    if [ -x "$out/pulumi-language-yaml" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
        echo "pulumi-cli: pulumi-language-yaml $version is built already ($out)"
        return
    fi
    start=$SECONDS
    echo "pulumi-cli: downloading the modules of pulumi-language-yaml $version"
    go mod download
    echo "pulumi-cli: building pulumi-language-yaml $version (1-3 minutes on 2 cores)"
    go build -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$version" \
        -o "$out/pulumi-language-yaml.partial" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
    mv "$out/pulumi-language-yaml.partial" "$out/pulumi-language-yaml"
    echo "$version" >"$stamp"
    echo "pulumi-cli: pulumi-language-yaml $version in $out ($((SECONDS - start))s)"
}

build_cli
build_yaml
