#!/usr/bin/env bash
# README command #1: build the website into _build/html. Safe to run twice.
#
# 1. scripts/setup_env.sh creates or reuses .venv (requirements.txt + attn_lib);
# 2. scripts/sitetools.py runs `npm ci` when node_modules is missing or was
#    installed from another package-lock.json (MathJax, which the site serves
#    itself: book/_ext/offline_assets.py), then
#    `jupyter-book build . --all --warningiserror --nitpick --keep-going`.
# Notebooks are committed executed and are never re-executed here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup_env.sh
.venv/bin/python scripts/sitetools.py build
