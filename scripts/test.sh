#!/usr/bin/env bash
# Set up a development environment from nothing and run every check: lint, types, tests.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# constraints.txt pins the CPU build of torch; the package itself accepts a range.
python -m pip install --quiet -c constraints.txt -e ".[dev]"
ruff check src tests benchmarks
mypy
lint-imports  # the layers contract in pyproject.toml
pytest "$@"
