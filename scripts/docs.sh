#!/usr/bin/env bash
# Build the documentation site into docs/_build/html, warnings as errors, running the
# example gallery (examples/) on simulated nights. Uses the same ./.venv as scripts/test.sh:
# after it, only the docs extra is installed.
# Usage: bash scripts/docs.sh [sphinx-build args...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# constraints.txt pins the CPU build of torch; the package itself accepts a range.
python -m pip install --quiet -c constraints.txt -e ".[dev,docs]"
ruff check examples docs
# One torch thread per process: the examples' models are tiny, and threads only contend.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MPLBACKEND=Agg
rm -rf docs/generated  # API pages of modules that no longer exist would fail the build
python -m sphinx -b html -W --keep-going docs docs/_build/html "$@"
echo "docs: open docs/_build/html/index.html"
