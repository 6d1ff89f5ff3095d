#!/usr/bin/env bash
# Install tinysleepnet and run the whole pipeline on the embedded default cohort
# (or on real Sleep-EDF files: bash scripts/demo.sh --data DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -c constraints.txt -e .
tinysleepnet demo "$@"
