#!/usr/bin/env bash
# Release bootstraps for Lambda with cargo lambda (zig as the cross linker).
# arm64 (Graviton: cheaper per ms) is the target; where the aarch64 standard
# library cannot be installed (`rustup target add` needs its download host),
# fall back to x86_64 and say so. Output: target/lambda/<binary>/bootstrap(.zip).
set -euo pipefail
cd "$(dirname "$0")/.."
arch="${ARCH:-arm64}"
if [[ "$arch" == arm64 ]] && ! rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$'; then
    if ! rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
        echo "build: the aarch64 target cannot be installed here; building x86_64 instead" \
             "(set Architectures: [x86_64] in template.yaml to deploy this build)" >&2
        arch=x86_64
    fi
fi
flag=(); [[ "$arch" == arm64 ]] && flag=(--arm64) || flag=(--x86-64)
out="target/lambda-$arch"
cargo lambda build --release --locked "${flag[@]}" --lambda-dir "$out"
cargo lambda build --release --locked "${flag[@]}" --lambda-dir "$out-zip" --output-format zip
for bin in token-refresher token-reader; do
    printf '%-16s %-7s bootstrap %9d bytes   zip %9d bytes\n' "$bin" "$arch" \
        "$(stat -c %s "$out/$bin/bootstrap")" "$(stat -c %s "$out-zip/$bin/bootstrap.zip")"
done
