#!/usr/bin/env bash
# Rebuilds resources/models/parley-npc.gguf from nothing: corpus -> train -> export -> evaluate.
# Extra arguments go to train.py (e.g. --minutes 10 for a quick try). Needs PyTorch for the Python
# that runs train.py: PYTHON=/usr/bin/python3 by default (Debian's python3-torch).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-/usr/bin/python3}"
mkdir -p training/out
npx tsx training/corpus.ts
"$PYTHON" training/train.py "$@" 2>&1 | tee training/out/train.log
npx tsx training/export.ts
npx tsx training/evaluate.ts | tee training/out/eval.log
