#!/usr/bin/env bash
# Installs what Parley needs on a fresh machine, idempotently and quickly when nothing changed.
#   scripts/setup.sh            npm dependencies (native addons built from source when no prebuilt fits)
#   scripts/setup.sh --browser  also Debian's Chromium, for the e2e tests
set -euo pipefail
cd "$(dirname "$0")/.."
# Everything this script says goes to stderr, so `npm run -s ledger -- export ... > bundle.json` stays clean.
exec 1>&2

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# Electron's npm package downloads its binary lazily; nothing here may try to fetch it.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
# node-llama-cpp ships prebuilt llama.cpp binaries as npm packages; it must never download or build one.
export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true

if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian chromium for e2e tests"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

stamp=node_modules/.parley-setup
lock_hash=$( (cat package-lock.json; node --version) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
  # better-sqlite3 must load in this Node; a failed native build is reported here, not at first use.
  node -e "require('better-sqlite3')(':memory:').close()" || {
    echo "setup: better-sqlite3 did not build; it needs python3, make and g++" >&2
    exit 1
  }
  # The prebuilt llama.cpp binding must load here (CPU build, never a source build).
  node scripts/check-llama.mjs || {
    echo "setup: node-llama-cpp's prebuilt binary does not load on this machine (linux-x64 CPU build expected)" >&2
    exit 1
  }
  echo "$lock_hash" >"$stamp"
fi
