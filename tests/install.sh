#!/usr/bin/env bash
# tests/install.sh: `make install` into a scratch DESTDIR, the installed tree
# moved to another folder, and the moved binary run from an unrelated
# working folder: it must serve the demo model from its own share/ and
# answer one request, with llama.cpp's libraries (and its loadable backends)
# loaded from its own lib/interactd, and no file of the tree may name the
# build tree. Run by `make install-check` (part of `make check`); also after
# a plain build: MAKE=make tests/install.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MAKE=${MAKE:-make}
T=$(mktemp -d /tmp/interactd-install.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "install-check: FAIL: $*" >&2; [ -f "$T/log" ] && sed 's/^/  server: /' "$T/log" >&2; exit 1; }

"$MAKE" --no-print-directory install DESTDIR="$T/stage" PREFIX=/opt/interactd >"$T/make.log" 2>&1 ||
  { cat "$T/make.log" >&2; fail "make install failed"; }
mv "$T/stage/opt/interactd" "$T/moved"
rm -rf "$T/stage"
BIN=$T/moved/bin/interactd
[ -x "$BIN" ] || fail "no bin/interactd in the installed tree"
[ -f "$T/moved/share/interactd/demo.gguf" ] || fail "no share/interactd/demo.gguf"

# Nothing in the tree names the build tree (RUNPATH, compiled-in paths).
if grep -rlF -- "$ROOT" "$T/moved" >"$T/named" 2>/dev/null; then
  fail "these installed files name the build tree $ROOT: $(tr '\n' ' ' <"$T/named")"
fi
runpath=$(readelf -d "$BIN" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
echo "install-check: installed to a scratch DESTDIR, moved to $T/moved; RUNPATH $runpath"

mkdir -p "$T/cwd"
(cd "$T/cwd" && exec "$BIN" serve --port 0 --data "$T/data" --threads 1 >"$T/log" 2>&1) &
PID=$!
URL=""
for _ in $(seq 600); do
  URL=$(sed -n 's/.*interactd listening on \(http:[^ ]*\).*/\1/p' "$T/log")
  [ -n "$URL" ] && break
  kill -0 "$PID" 2>/dev/null || fail "the installed server exited"
  sleep 0.1
done
[ -n "$URL" ] || fail "the installed server did not start in 60 s"

# Where its llama.cpp came from: the moved tree (or LLAMA_PREFIX's).
libs=$(grep -oE '/[^ ]*lib(llama|ggml|mtmd)[^ ]*\.so[^ ]*' "/proc/$PID/maps" | sort -u)
if [ -d "$T/moved/lib/interactd" ]; then
  echo "$libs" | grep -q "^$T/moved/lib/interactd/libllama" || fail "libllama not loaded from the moved tree: $libs"
  if echo "$libs" | grep -vq "^$T/moved/lib/interactd/"; then
    fail "llama.cpp libraries loaded from outside the moved tree: $libs"
  fi
fi

body=$(curl -sS --max-time 60 "$URL/v1beta/interactions" -H 'content-type: application/json' \
  -d '{"model":"demo","input":"Hello","generation_config":{"temperature":0,"max_output_tokens":8}}') ||
  fail "the request failed"
status=$(echo "$body" | jq -r .status)
[ "$status" = completed ] || [ "$status" = incomplete ] || fail "unexpected answer: $body"
[ "$(echo "$body" | jq -r '.usage.total_output_tokens // 0')" -gt 0 ] || fail "no output tokens: $body"
echo "install-check: ok: the moved install served demo ($status, $(echo "$body" | jq -r .usage.total_output_tokens)" \
     "tokens), libraries: $(echo "$libs" | sed "s|^$T/moved/||" | tr '\n' ' ')"
