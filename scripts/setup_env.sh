#!/usr/bin/env bash
# Create (or reuse) the virtual environment .venv and install the pinned
# requirements, attn_lib included. Safe to run twice: it reinstalls only when
# requirements.txt or pyproject.toml changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=${PYTHON:-}
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python_bin=$candidate; break; fi
  done
fi
[ -n "$python_bin" ] || { echo "error: Python 3.11 is needed (python3.11 or python3 on PATH)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$python_bin" --version)"
  "$python_bin" -m venv .venv
fi

want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
have=$(cat .venv/.installed 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  echo "==> installing pinned requirements into .venv (first run takes a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade "pip>=24"
  .venv/bin/python -m pip install --quiet -r requirements.txt
  echo "$want" > .venv/.installed
else
  echo "==> .venv is up to date"
fi
