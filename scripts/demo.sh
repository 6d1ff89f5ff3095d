#!/usr/bin/env bash
# Install tinysleepnet into ./.venv (once) and run the whole pipeline on the embedded default
# cohort: bash scripts/demo.sh [--full] (or on real Sleep-EDF files: --data DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
# The install is redone only when what it installs changed: the stamp holds the hash of
# pyproject.toml and constraints.txt of the last install.
stamp=.venv/.tinysleepnet-installed
wanted=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [[ -x .venv/bin/tinysleepnet && -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
    echo "set-up: .venv is installed and up to date" >&2
else
    echo "set-up: installing tinysleepnet and its dependencies into .venv (once; a few minutes, about 1 GB)" >&2
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c constraints.txt -e .
    echo "$wanted" > "$stamp"
fi
exec .venv/bin/tinysleepnet demo "$@"
