"""Sphinx configuration of the tinysleepnet documentation (built by ``bash scripts/docs.sh``)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import tinysleepnet

DOCS = Path(__file__).parent
ROOT = DOCS.parent

project = "tinysleepnet"
author = "tinysleepnet developers"
copyright = "tinysleepnet developers; MIT licence"
version = release = tinysleepnet.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinxarg.ext",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_toplevel.rst", "auto_examples/*.ipynb", "sg_execution_times.rst"]
templates_path = ["_templates"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# API reference: one page per public name, generated from the docstrings.
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()


# The example gallery runs at build time on simulated nights. The examples share the
# simulated cohort and the tiny model of ``examples/_tiny.py`` through one fresh folder per
# build (docs/_build/examples-data), so the model is trained once.
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(DOCS))  # _cli_parser.py, for the CLI reference
_EXAMPLES_DATA = DOCS / "_build" / "examples-data"
shutil.rmtree(_EXAMPLES_DATA, ignore_errors=True)  # a fresh cohort and model per build
_EXAMPLES_DATA.mkdir(parents=True)
os.environ["TINYSLEEPNET_EXAMPLES_DIR"] = str(_EXAMPLES_DATA)
os.environ.setdefault("OMP_NUM_THREADS", "1")
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|_tiny)\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "furo"
html_title = f"tinysleepnet {version}"
html_static_path: list[str] = []


def _top_level_names() -> list[str]:
    """``(name, home)`` of every top-level name, read from ``__init__.pyi`` (their one list)."""
    stub = ROOT / "src" / "tinysleepnet" / "__init__.pyi"
    names = []
    for line in stub.read_text().splitlines():
        if line.startswith("from ."):
            home, name = line[len("from .") :].split(" import ")
            names.append(f"tinysleepnet.{home}.{name.split(' as ')[0]}")
    return names


# The API page's table of top-level names is written from __init__.pyi at every build, so
# it cannot drift from the package's interface.
(DOCS / "_toplevel.rst").write_text(
    ".. autosummary::\n\n" + "".join(f"   ~{name}\n" for name in _top_level_names())
)

# ``|x|`` (an absolute value) in docstrings is not a substitution.
rst_epilog = "\n.. |x| replace:: \\|x\\|\n"
