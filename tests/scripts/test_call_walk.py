"""``scripts/call_walk.py`` counts the stays and returns of a walk as its docstring says.

Each test writes a tiny package whose walk is known by hand: a stay begins when the walk
enters a function of another file than the one entered before; a return is a stay in a file
it had already left. Resuming in the caller after a callee is not a stay.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "call_walk.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("call_walk", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


call_walk = _load_script()


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    """Write package ``pkg`` under ``tmp_path/src``; returns ``src``."""
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name, text in files.items():
        (package / f"{name}.py").write_text(textwrap.dedent(text))
    return tmp_path / "src"


def _walk(src: Path, entry: str, param: str) -> dict[str, int]:
    return call_walk.walk_counts(call_walk.load_package(src, "pkg"), entry, param)


def test_resuming_in_the_caller_is_not_a_stay(tmp_path: Path) -> None:
    # entry (a) -> first (b) -> second (b): the walk resumes in entry between the two calls,
    # but enters no function of a.py again, so it stays in b.py once and never returns.
    src = _package(
        tmp_path,
        {
            "a": """
                from .b import first, second

                def entry(x):
                    first(x)
                    second(x)
            """,
            "b": """
                def first(v):
                    return v

                def second(v):
                    return v
            """,
        },
    )
    assert _walk(src, "pkg.a:entry", "x") == {"stays": 2, "files": 2, "returns": 0}


def test_entering_a_left_file_again_is_a_return(tmp_path: Path) -> None:
    # entry (a) -> helper (b) -> _local (a, a return) -> other (b, a return); the value
    # reaches helper through a name assigned from it, and unrelated arguments are not walked.
    src = _package(
        tmp_path,
        {
            "a": """
                from .b import helper, other, unrelated

                def entry(x):
                    y = x + 1
                    helper(y)
                    unrelated(3)
                    _local(x)
                    other(1, value=x)

                def _local(v):
                    return v
            """,
            "b": """
                def helper(v):
                    return v

                def other(n, value):
                    return value

                def unrelated(n):
                    return n
            """,
        },
    )
    entries = call_walk.walk_entries(call_walk.load_package(src, "pkg"), "pkg.a:entry", "x")
    assert [(e.function, e.param, e.depth) for e in entries] == [
        ("entry", "x", 0),
        ("helper", "v", 1),
        ("_local", "v", 1),
        ("other", "value", 1),
    ]
    assert _walk(src, "pkg.a:entry", "x") == {"stays": 4, "files": 2, "returns": 2}


def test_each_parameter_that_receives_the_value_is_a_new_entry(tmp_path: Path) -> None:
    # step(a, b) receives x twice: walked once per parameter, each walk going into c.py,
    # so the second entry into b.py is a return. Bundled into one argument, it is entered
    # once, and the walk never returns.
    callee = """
        from .c import use

        def step(first, second):
            use(first)
            use(second)

        def step_bundled(both):
            use(both)
    """
    use = """
        def use(v):
            return v
    """
    twice = """
        from .b import step

        def entry(x):
            y = x * 2
            step(x, y)
    """
    bundled = """
        from .b import step_bundled

        def entry(x):
            step_bundled((x, x * 2))
    """
    src = _package(tmp_path / "twice", {"a": twice, "b": callee, "c": use})
    assert _walk(src, "pkg.a:entry", "x") == {"stays": 4, "files": 3, "returns": 1}
    src = _package(tmp_path / "bundled", {"a": bundled, "b": callee, "c": use})
    assert _walk(src, "pkg.a:entry", "x") == {"stays": 3, "files": 3, "returns": 0}


def test_each_function_and_parameter_is_walked_once(tmp_path: Path) -> None:
    # Recursion and a second call with the same parameter add no entries.
    src = _package(
        tmp_path,
        {
            "a": """
                def entry(x):
                    entry(x)
                    _again(x)
                    _again(x)

                def _again(v):
                    entry(v)
            """,
        },
    )
    entries = call_walk.walk_entries(call_walk.load_package(src, "pkg"), "pkg.a:entry", "x")
    assert [e.function for e in entries] == ["entry", "_again"]


def test_steps_declared_as_data_are_walked(tmp_path: Path) -> None:
    # STEPS.run(value) hands the value to every function the declaration names.
    src = _package(
        tmp_path,
        {
            "a": """
                from .b import Steps, load, stage

                STEPS = Steps(load, stage)

                def entry(x):
                    STEPS.run(x)
            """,
            "b": """
                class Steps:
                    def __init__(self, *steps):
                        self.steps = steps

                def load(state):
                    return state

                def stage(state):
                    return state
            """,
        },
    )
    entries = call_walk.walk_entries(call_walk.load_package(src, "pkg"), "pkg.a:entry", "x")
    assert [(e.function, e.param) for e in entries] == [
        ("entry", "x"),
        ("load", "state"),
        ("stage", "state"),
    ]


def test_trace_marks_the_returns(tmp_path: Path) -> None:
    src = _package(
        tmp_path,
        {
            "a": """
                from .b import helper

                def entry(x):
                    helper(x)
                    _local(x)

                def _local(v):
                    return v
            """,
            "b": """
                def helper(v):
                    return v
            """,
        },
    )
    entries = call_walk.walk_entries(call_walk.load_package(src, "pkg"), "pkg.a:entry", "x")
    assert call_walk.trace(entries, src) == [
        "pkg.a:entry(x)   [stay 1: pkg/a.py]",
        "  pkg.b:helper(v)   [stay 2: pkg/b.py]",
        "  pkg.a:_local(v)   [stay 3: pkg/a.py  << return]",
    ]


def test_the_standard_walks_name_functions_of_the_package(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Every standard entry point exists (moving one must update the script), and a walk
    # from each goes beyond its own file.
    assert call_walk.main(["--standard"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == [
        f"{entry}({param})" for entry, param in call_walk.STANDARD_WALKS
    ]
    assert all(int(row.split()[2]) > 1 for row in rows)  # files
