#!/usr/bin/env bash
# README command 2: run every test of the book from a fresh clone. Safe to run twice.
#   1. set up .venv (pinned requirements + attn_lib) and Debian's chromium
#   2. lint (ruff, notebooks included)
#   3. unit tests, doctests and the chapter contract (pytest)
#   4. nbval, strict, on every notebook against its committed outputs, twice: with this
#      CPU's numerics, then with other numerics (PERTURBED_ENV in scripts/run_notebooks.py),
#      as on a reader's CPU with other vector instructions
#   5. every chapter run as readers run it: with Colab's published versions and with the
#      floor versions of pyproject.toml (scripts/check_colab.sh)
#   6. the website: build with Sphinx warnings as errors, then the browser test
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

bash scripts/setup_env.sh
bash scripts/setup_browser.sh

py=.venv/bin/python
# The same quiet, reproducible TensorFlow as scripts/run_notebooks.py used when the
# notebooks were executed and committed: BOOK_ENV of attn_lib/_env.py, printed as
# NAME=VALUE words (unquoted below, so that they split).
book_env=$($py scripts/run_notebooks.py --book-env)
export $book_env

echo "==> lint"
.venv/bin/ruff check .

echo "==> unit tests, doctests, chapter contract"
$py -m pytest tests attn_lib --ignore=tests/test_site.py -q

nbval=(-m pytest notebooks --nbval --nbval-current-env
       --nbval-sanitize-with tests/nbval_sanitize.cfg -n 2 --dist loadfile -q)
echo "==> notebooks (nbval, strict)"
$py "${nbval[@]}"
perturbed=$($py scripts/run_notebooks.py --perturbed-env)
echo "==> notebooks again under other numerics ($perturbed): trained results differ, claims hold"
env $perturbed $py "${nbval[@]}"

echo "==> chapters with Colab's versions and with the floor versions (no errors, no stderr)"
bash scripts/check_colab.sh both

echo "==> website: build (warnings are errors) and browser test"
bash scripts/build_book.sh
ATTN_SITE_PREBUILT=1 $py -m pytest tests/test_site.py -q

echo "==> all tests passed in $((SECONDS - start)) s"
