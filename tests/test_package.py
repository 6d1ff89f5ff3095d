"""The package's top-level names: imported lazily, each the object of its home module."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import tinysleepnet


def stub_names():
    """``{name: home module}`` of each top-level name in ``__init__.pyi``."""
    stub = Path(tinysleepnet.__file__).with_suffix(".pyi")
    return {
        alias.asname or alias.name: node.module
        for node in ast.parse(stub.read_text()).body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_each_name_in_the_stub_resolves_to_its_home_modules_object():
    names = stub_names()
    assert len(names) >= 15
    for name, home in names.items():
        module = importlib.import_module(f"tinysleepnet.{home}")
        assert getattr(tinysleepnet, name) is getattr(module, name)
    assert sorted(tinysleepnet.__all__) == sorted(["__version__", *names])


def test_light_modules_do_not_import_torch():
    code = "import sys, tinysleepnet.config, tinysleepnet.stages; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_unknown_name_raises_attribute_error():
    try:
        tinysleepnet.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("expected AttributeError")


def test_python_dash_m_runs_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "tinysleepnet", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith(
        f"tinysleepnet {tinysleepnet.__version__}"
    )


def test_declared_python_floor_is_the_one_type_checked():
    """``requires-python`` names the oldest Python the package is checked on (mypy's
    ``python_version``; the package uses ``typing.Self``, new in 3.11)."""
    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    floor = project["project"]["requires-python"].removeprefix(">=")
    assert floor == project["tool"]["mypy"]["python_version"]
    assert sys.version_info >= tuple(map(int, floor.split(".")))
