#!/usr/bin/env bash
# Run every chapter as a reader would: with Colab's versions, and with the lowest
# versions pyproject.toml admits.
#
#   bash scripts/check_colab.sh [colab|floor|both]    (default: both)
#
# For each target, tests/TARGET-versions.txt names a Python (a line "# python: X.Y")
# and pinned packages. For each target this script
#   1. finds that Python (pythonX.Y on PATH, else pyenv) and builds a venv from the
#      file under $CHECK_COLAB_DIR (default /tmp/attn-lib-check-colab), reused while
#      the file is unchanged;
#   2. installs attn_lib from this work tree with --no-deps, as the chapters' Colab
#      cell installs its release, so the pinned versions stay as they are;
#   3. registers the venv's kernel and runs scripts/check_colab.py with the book's
#      .venv: every chapter, in an empty folder, without the book's environment
#      variables, each to its end.
# Exits non-zero if any chapter has an error or a stderr output.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-both}" in
  colab|floor) targets=$1 ;;
  both) targets="colab floor" ;;
  *) echo "usage: bash scripts/check_colab.sh [colab|floor|both]" >&2; exit 2 ;;
esac
cache=${CHECK_COLAB_DIR:-/tmp/attn-lib-check-colab}

find_python() {  # find_python X.Y FILE: print the path of a working Python X.Y
  local version=$1 candidate
  for candidate in "python$version" "$(pyenv prefix "$version" 2>/dev/null)/bin/python$version" \
                   "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version"*/bin/"python$version"; do
    if "$candidate" -c "import sys; sys.exit(0 if sys.version.startswith('$version.') else 1)" \
         >/dev/null 2>&1; then
      command -v "$candidate"
      return
    fi
  done
  echo "error: $2 needs Python $version: put python$version on PATH or run" \
       "'pyenv install $version'" >&2
  return 1
}

bash scripts/setup_env.sh  # the driver (nbclient) runs in .venv
status=0
for target in $targets; do
  start=$SECONDS
  requirements=tests/$target-versions.txt
  version=$(sed -n 's/^# python: *\([0-9.]*\).*/\1/p' "$requirements")
  python_bin=$(find_python "$version" "$requirements")
  venv=$cache/$target
  want=$(sha256sum < "$requirements" | cut -d' ' -f1)
  if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$want" ]; then
    echo "==> $target: building $venv with $("$python_bin" --version) and $requirements"
    rm -rf "$venv"
    "$python_bin" -m venv "$venv"
    if ! { "$venv/bin/python" -m pip install --upgrade "pip>=24" &&
           "$venv/bin/python" -m pip install -r "$requirements"; } > "$venv/pip.log" 2>&1; then
      tail -n 30 "$venv/pip.log" >&2
      echo "error: $requirements does not install; see $venv/pip.log" >&2
      exit 1
    fi
    echo "$want" > "$venv/.installed"
  else
    echo "==> $target: reusing $venv ($requirements unchanged)"
  fi

  # attn_lib from a copy of the work tree (a build in place would write into it)
  source_copy=$(mktemp -d)
  cp -r pyproject.toml README.md attn_lib "$source_copy"
  "$venv/bin/python" -m pip install --quiet --no-deps --force-reinstall "$source_copy" \
    > "$venv/attn_lib.log" 2>&1 || { cat "$venv/attn_lib.log" >&2; exit 1; }
  rm -rf "$source_copy"
  "$venv/bin/python" -m ipykernel install --prefix "$venv" --name "check-$target" \
    > "$venv/kernel.log" 2>&1 || { cat "$venv/kernel.log" >&2; exit 1; }
  echo "==> $target: $("$venv/bin/python" --version);" \
       "$("$venv/bin/python" -m pip list --format=freeze 2>/dev/null |
          grep -iE '^(tensorflow(-cpu)?|keras|numpy|matplotlib|pillow|ipywidgets|ipython|ipykernel)==' |
          tr '\n' ' ')"
  .venv/bin/python scripts/check_colab.py --kernel-dir "$venv/share/jupyter/kernels" \
    --kernel-name "check-$target" --out "$venv/executed" || status=1
  echo "==> $target: $((SECONDS - start)) s in all; executed copies in $venv/executed"
done
exit $status
