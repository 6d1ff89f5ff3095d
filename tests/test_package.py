"""The package's top-level names: imported lazily, each the object of its home module."""

import ast
import importlib
import inspect
import subprocess
import sys

import tinysleepnet


def test_each_public_name_is_its_home_modules_object():
    for name, home in tinysleepnet._HOMES.items():
        module = importlib.import_module(f"tinysleepnet.{home}")
        assert getattr(tinysleepnet, name) is getattr(module, name)
    assert set(tinysleepnet.__all__) == {"__version__", *tinysleepnet._HOMES}


def test_type_checkers_see_the_same_names_and_homes():
    tree = ast.parse(inspect.getsource(tinysleepnet))
    block = next(n for n in tree.body if isinstance(n, ast.If))  # if TYPE_CHECKING:
    seen = {
        alias.asname: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == tinysleepnet._HOMES


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
