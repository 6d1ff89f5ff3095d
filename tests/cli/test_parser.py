"""The command line starts without torch and the other heavy libraries, so --help is quick."""

import subprocess
import sys

HEAVY = ("torch", "mne", "matplotlib", "pandas", "sklearn")


def heavy_modules_after(code):
    """The heavy libraries loaded once ``code`` has run in a fresh interpreter."""
    script = f"import sys\n{code}\nprint(*[m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_building_the_parser_imports_no_heavy_library():
    code = "import tinysleepnet.cli\ntinysleepnet.cli.build_parser()"
    assert heavy_modules_after(code) == []


def test_every_commands_help_imports_no_heavy_library():
    code = """
import contextlib, io
from tinysleepnet.cli import COMMANDS, build_parser
for name in COMMANDS:
    with contextlib.redirect_stdout(io.StringIO()) as text, contextlib.suppress(SystemExit):
        build_parser().parse_args([name, "--help"])
    assert text.getvalue().startswith(f"usage: tinysleepnet {name}"), name
"""
    assert heavy_modules_after(code) == []


def test_the_control_a_heavy_import_is_seen():
    assert heavy_modules_after("import torch") == ["torch"]
