#!/bin/sh
# Checks docs/interactd.service with systemd-analyze verify (its directives,
# sections and values), and docs/interactd.toml through the binary
# (--print-config reads it: every key known, exit 0). The unit's ExecStart
# names the installed binary; the check points it at this build's, since
# verify also checks that the command exists. Without systemd-analyze the
# unit's check is skipped, saying so.
set -eu
bin=${1:-build/interactd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" serve --config docs/interactd.toml --print-config > "$tmp/print" || { echo "docs/interactd.toml: refused"; exit 1; }
grep -q '^port = "8080"  # file docs/interactd.toml' "$tmp/print" || { echo "docs/interactd.toml: port not read"; cat "$tmp/print"; exit 1; }
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "service-check: systemd-analyze is not installed: docs/interactd.service NOT verified"
    exit 0
fi
sed "s|/usr/local/bin/interactd|$(realpath "$bin")|" docs/interactd.service > "$tmp/interactd.service"
if ! systemd-analyze verify --man=no "$tmp/interactd.service" > "$tmp/out" 2>&1 || grep -q interactd.service "$tmp/out"; then
    echo "service-check: systemd-analyze verify found problems in docs/interactd.service:"
    cat "$tmp/out"
    exit 1
fi
echo "service-check: docs/interactd.service verified by $(systemd-analyze --version | head -1); docs/interactd.toml read"
