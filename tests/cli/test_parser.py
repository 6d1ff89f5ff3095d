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


def run_parser(argv: list[str], capsys) -> str:
    """The error line argparse prints for ``argv`` (it exits with status 2)."""
    import pytest

    from tinysleepnet.cli import build_parser

    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_flags_are_not_abbreviated_and_a_typo_gets_the_nearest(capsys):
    error = run_parser(["predict", "night.edf", "--out", "o", "--chan", "EEG"], capsys)
    assert error == (
        "tinysleepnet: error: unrecognized arguments: --chan EEG; did you mean --channel? "
        "(see tinysleepnet --help)"
    )
    error = run_parser(["demo", "--ful"], capsys)
    assert error.endswith(
        "unrecognized arguments: --ful; did you mean --full? (see tinysleepnet --help)"
    )
    # the flags offered are those of the subcommand given: cv has no --full
    assert run_parser(["cv", "data", "--out", "r", "--ful"], capsys).endswith(
        "mean --fold? (see tinysleepnet --help)"
    )


def test_a_mistyped_subcommand_gets_the_nearest(capsys):
    error = run_parser(["predcit", "night.edf"], capsys)
    assert error.startswith("tinysleepnet: error: argument COMMAND: invalid choice: 'predcit'")
    assert error.endswith("; did you mean predict? (see tinysleepnet --help)")
    assert "did you mean" not in run_parser(["zzz"], capsys)  # nothing near


def test_log_lines_go_through_tqdm_while_a_command_runs(monkeypatch, tmp_path):
    import logging

    from tinysleepnet.cli import evaluate, main

    seen = []

    def run(args):
        seen.extend(type(h).__name__ for h in logging.getLogger("tinysleepnet").handlers)
        return 0

    monkeypatch.setattr(evaluate, "run", run)
    assert main(["evaluate", str(tmp_path)]) == 0
    # printed with tqdm.write, above any progress bar rather than into it
    assert seen == ["_TqdmLoggingHandler"]
