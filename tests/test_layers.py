"""The package's layers import one way only (cli > workflows > prediction > models >
evaluation > training > data/nn > scoring > io/config > stages/errors/text): import-linter
checks the contract in pyproject.toml, and notices when a layer is crossed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))

pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is not installed")


def lint_imports(src: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        capture_output=True, text=True, env=env, cwd=src, check=False,
    )  # fmt: skip


def test_the_package_keeps_its_layers():
    done = lint_imports(ROOT / "src", ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 kept, 0 broken" in done.stdout


def test_an_import_that_crosses_a_layer_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "src" / "tinysleepnet", tmp_path / "tinysleepnet")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    loop = tmp_path / "tinysleepnet" / "training" / "loop.py"
    loop.write_text(loop.read_text() + "\nfrom ..prediction import stage  # noqa: E402\n")
    done = lint_imports(tmp_path, tmp_path / "pyproject.toml")
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert "tinysleepnet.training.loop -> tinysleepnet.prediction.stage" in done.stdout
