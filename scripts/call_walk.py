"""Walk one value through the package's calls, statically, and count how often it comes back.

Starting at a function and one of its parameters, the walk follows every call that passes the
value on (the parameter itself, or a name assigned from an expression that uses it), into the
called function's matching parameter, depth first in source order, each function and
parameter once (a function that receives the value in three parameters is entered three
times). The functions entered, in order, fall into *stays*: one per uninterrupted stretch of
entries into functions of one file. A *return* is a stay in a file the walk had already left.
Coming back to the caller after a callee is not a stay: only entering a function is. Many
returns mean a flow that goes back and forth between modules instead of down through them.

Usage::

    python scripts/call_walk.py tinysleepnet.evaluation.cv:cross_validate config
    python scripts/call_walk.py tinysleepnet.evaluation.cv:cross_validate config --trace
    python scripts/call_walk.py --standard --src OTHER/src   # the walks the layout is judged by

``--trace`` prints every function entered (``module:function(parameter)``, indented by call
depth), numbering the stays and marking the returns: what to read to find their causes.

Only calls resolvable statically are followed: functions of the same module, imported
functions and modules, ``self.method`` within a class, ``Class(...)`` to its ``__init__``
(not a dataclass's generated one), and ``Class.method``. A value handed to a method of a
module-level object (``STEPS.run(state)``, a declared list of steps) goes to every package
function that object's definition names, directly or through the functions it calls (their
first parameter): steps declared as data are walked like steps called one by one.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Entry points and the value walked from each (function, parameter).
STANDARD_WALKS = (
    ("tinysleepnet.evaluation.cv:cross_validate", "config"),
    ("tinysleepnet.workflows.reproduce:reproduce", "row"),
    ("tinysleepnet.workflows.finetune:finetune", "model"),
    ("tinysleepnet.workflows.demo:run_pipeline", "out"),
)


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    constants: dict[str, ast.expr] = field(default_factory=dict)


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def load_package(src: Path, package: str = "tinysleepnet") -> dict[str, Module]:
    """Every module of the package under ``src``, parsed, with its functions and imports."""
    modules: dict[str, Module] = {}
    for path in sorted((src / package).rglob("*.py")):
        rel = path.relative_to(src).with_suffix("")
        is_package = rel.name == "__init__"
        name = ".".join(rel.parts[:-1] if is_package else rel.parts)
        tree = ast.parse(path.read_text(), str(path))
        module = Module(name, path, tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                module.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                module.classes[node.name] = node
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                for assigned in node.targets:
                    if isinstance(assigned, ast.Name):
                        module.constants[assigned.id] = node.value
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = (
                    _resolve_relative(name, is_package, node.level, node.module)
                    if node.level
                    else node.module or ""
                )
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = (source, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0],
                        None,
                    )
        modules[name] = module
    return modules


@dataclass(frozen=True)
class Target:
    module: str
    function: ast.FunctionDef | ast.AsyncFunctionDef
    cls: str | None = None


@dataclass(frozen=True)
class Entry:
    """The walk entering one function with one parameter holding the value."""

    depth: int
    module: str
    function: str
    param: str
    path: str


class Walker:
    def __init__(self, modules: dict[str, Module]) -> None:
        self.modules = modules
        self.entries: list[Entry] = []
        self.seen: set[tuple[str, str, str]] = set()

    # -- resolution -------------------------------------------------------------------------
    def _lookup(self, module: str, name: str, depth: int = 0) -> Target | None:
        """A function (or a class's ``__init__``) called ``name`` as seen from ``module``."""
        mod = self.modules.get(module)
        if mod is None or depth > 5:
            return None
        if name in mod.functions:
            return Target(module, mod.functions[name])
        if name in mod.classes:
            init = _method(mod.classes[name], "__init__")
            return Target(module, init, name) if init else None
        if name in mod.imports:
            source, attr = mod.imports[name]
            if attr is None:
                return None
            if f"{source}.{attr}" in self.modules:
                return None  # a module, not a function
            return self._lookup(source, attr, depth + 1)
        return None

    def _module_of(self, module: str, name: str) -> str | None:
        mod = self.modules[module]
        if name not in mod.imports:
            return None
        source, attr = mod.imports[name]
        full = f"{source}.{attr}" if attr else source
        return full if full in self.modules else None

    def resolve(self, module: str, cls: str | None, call: ast.Call) -> Target | None:
        func = call.func
        if isinstance(func, ast.Name):
            return self._lookup(module, func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = func.value.id
            if owner in ("self", "cls") and cls:
                method = _method(self.modules[module].classes[cls], func.attr)
                return Target(module, method, cls) if method else None
            if (sub := self._module_of(module, owner)) is not None:
                return self._lookup(sub, func.attr)
            if owner in self.modules[module].constants:
                return None  # a declared object: see declared_functions
            klass = self._lookup_class(module, owner)
            if klass is not None:
                method = _method(self.modules[klass[0]].classes[klass[1]], func.attr)
                return Target(klass[0], method, klass[1]) if method else None
        return None

    def _lookup_class(self, module: str, name: str, depth: int = 0) -> tuple[str, str] | None:
        mod = self.modules.get(module)
        if mod is None or depth > 5:
            return None
        if name in mod.classes:
            return module, name
        if name in mod.imports and mod.imports[name][1]:
            source, attr = mod.imports[name]
            return self._lookup_class(source, attr or "", depth + 1)
        return None

    def declared_functions(self, module: str, expr: ast.AST, depth: int = 0) -> list[Target]:
        """The package functions an expression names, and those named by the bodies of the
        functions it calls (``experiment(Step("recordings", _recordings))``)."""
        found: list[Target] = []
        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                callee = self.resolve(module, None, node)
                if callee is not None and depth < 2 and callee.cls is None:
                    found += self.declared_functions(callee.module, callee.function, depth + 1)
                for arg in node.args:
                    if isinstance(arg, ast.Name):
                        target = self._lookup(module, arg.id)
                        if target is not None and target.cls is None:
                            found.append(target)
        return found

    # -- the walk -----------------------------------------------------------------------------
    def walk(self, target: Target, param: str, depth: int = 0) -> None:
        """Enter ``target`` with the value in ``param`` (once per function and parameter),
        then follow its calls that pass the value on."""
        function = f"{target.cls}.{target.function.name}" if target.cls else target.function.name
        key = (target.module, function, param)
        if key in self.seen:
            return
        self.seen.add(key)
        path = str(self.modules[target.module].path)
        self.entries.append(Entry(depth, target.module, function, param, path))
        tainted = {param}
        for node in _in_order(target.function):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                value = node.value
                if value is not None and _uses(value, tainted):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in targets:
                        tainted |= _names(t)
            elif isinstance(node, ast.For | ast.comprehension) and _uses(node.iter, tainted):
                tainted |= _names(node.target)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                if _uses(node.context_expr, tainted):
                    tainted |= _names(node.optional_vars)
            elif isinstance(node, ast.Call):
                callee = self.resolve(target.module, target.cls, node)
                if callee is None:
                    self.walk_declared(target, node, tainted, depth)
                    continue
                for name in _receiving_params(callee.function, node, tainted):
                    self.walk(callee, name, depth + 1)

    def walk_declared(self, caller: Target, call: ast.Call, tainted: set[str], depth: int) -> None:
        """``OBJECT.method(value)`` with OBJECT a module-level declaration: the value goes to
        the first parameter of every function the declaration names."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return
        declaration = self.modules[caller.module].constants.get(func.value.id)
        if declaration is None or not any(_uses(arg, tainted) for arg in call.args):
            return
        for step in self.declared_functions(caller.module, declaration):
            params = [a.arg for a in step.function.args.args]
            if params:
                self.walk(step, params[0], depth + 1)


def _method(cls: ast.ClassDef, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


def _in_order(function: ast.AST) -> list[ast.AST]:
    """The nodes of a function body in source order (assignments before the calls after)."""
    nodes = [n for n in ast.walk(function) if hasattr(n, "lineno") or isinstance(n, ast.withitem)]
    nodes = [n for n in nodes if n is not function]
    return sorted(
        nodes,
        key=lambda n: (
            getattr(n, "lineno", getattr(getattr(n, "context_expr", None), "lineno", 0)),
            getattr(n, "col_offset", 0),
        ),
    )


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _uses(node: ast.AST, tainted: set[str]) -> bool:
    return bool(_names(node) & tainted)


def _receiving_params(
    function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call, tainted: set[str]
) -> list[str]:
    args = function.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    if positional and positional[0] in ("self", "cls"):
        positional = positional[1:]
    names = set(positional) | {a.arg for a in args.kwonlyargs}
    receiving = []
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred) or not _uses(arg, tainted):
            continue
        if index < len(positional):
            receiving.append(positional[index])
        elif args.vararg:
            receiving.append(args.vararg.arg)
    for keyword in call.keywords:
        if keyword.arg in names and _uses(keyword.value, tainted):
            receiving.append(keyword.arg)
    return receiving


def find_function(modules: dict[str, Module], name: str) -> Target:
    """``module:function`` or a bare function name unique in the package."""
    if ":" in name:
        module, function = name.split(":")
        return Target(module, modules[module].functions[function])
    found = [Target(m.name, m.functions[name]) for m in modules.values() if name in m.functions]
    found = [t for t in found if not t.module.startswith("tinysleepnet.cli")]
    if len(found) != 1:
        raise SystemExit(f"{name}: {len(found)} functions of that name; give module:function")
    return found[0]


def walk_entries(modules: dict[str, Module], entry: str, param: str) -> list[Entry]:
    """The functions one walk enters, in order."""
    walker = Walker(modules)
    walker.walk(find_function(modules, entry), param)
    return walker.entries


def stays(entries: Sequence[Entry]) -> list[tuple[int, bool]]:
    """For each entry that begins a stay: its index and whether the stay is a return."""
    begun: list[tuple[int, bool]] = []
    left: set[str] = set()
    for index, entry in enumerate(entries):
        previous = entries[index - 1].path if index else None
        if entry.path != previous:
            if previous is not None:
                left.add(previous)
            begun.append((index, entry.path in left))
    return begun


def walk_counts(modules: dict[str, Module], entry: str, param: str) -> dict[str, int]:
    """Stays, distinct files and returns of one walk."""
    entries = walk_entries(modules, entry, param)
    begun = stays(entries)
    return {
        "stays": len(begun),
        "files": len({e.path for e in entries}),
        "returns": sum(is_return for _, is_return in begun),
    }


def trace(entries: Sequence[Entry], src: Path) -> list[str]:
    """One line per function entered, indented by call depth; a line that begins a stay is
    numbered, and one that begins a return says so (``<< return``)."""
    begun = dict(stays(entries))
    numbers = {index: n for n, index in enumerate(begun, start=1)}
    lines = []
    for index, entry in enumerate(entries):
        mark = ""
        if index in begun:
            where = Path(entry.path).relative_to(src).as_posix()
            mark = f"   [stay {numbers[index]}: {where}{'  << return' if begun[index] else ''}]"
        lines.append(f"{'  ' * entry.depth}{entry.module}:{entry.function}({entry.param}){mark}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entry", nargs="?", help="module:function or a unique function name")
    parser.add_argument("param", nargs="?", help="the parameter whose value is walked")
    parser.add_argument("--src", type=Path, default=Path(__file__).parents[1] / "src")
    parser.add_argument("--standard", action="store_true", help="run the standard walks")
    parser.add_argument(
        "--trace", action="store_true", help="print each walk: every function entered"
    )
    args = parser.parse_args(argv)
    if args.entry and not args.param:
        parser.error("give the parameter whose value is walked")
    modules = load_package(args.src)
    walks = STANDARD_WALKS if args.standard or not args.entry else [(args.entry, args.param)]
    rows = []
    for entry, param in walks:
        entries = walk_entries(modules, entry, param)
        if args.trace:
            print(f"# {entry}({param})", *trace(entries, args.src), "", sep="\n")
        begun = stays(entries)
        rows.append(
            f"{entry + f'({param})':<56} {len(begun):>6} {len({e.path for e in entries}):>6} "
            f"{sum(is_return for _, is_return in begun):>8}"
        )
    print(f"{'walk':<56} {'stays':>6} {'files':>6} {'returns':>8}", *rows, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
