"""The repository's layout: the layers are top-level packages, and no other installed
distribution may provide one of their import names (a clash would silently shadow them)."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _declared_layers() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["importlinter"]["root_packages"])


def test_every_layer_is_a_top_level_package_and_declared() -> None:
    on_disk = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "scripts"}
    }
    assert on_disk == _declared_layers()


def test_no_other_distribution_provides_one_of_our_import_names() -> None:
    providers = importlib.metadata.packages_distributions()
    ours = _declared_layers()
    for name in sorted(ours):
        assert set(providers.get(name, [])) <= {"tenantgraph"}, (
            f"import name {name!r} is also provided by {providers[name]}"
        )
    shipped = {name for name, dists in providers.items() if "tenantgraph" in dists}
    assert ours <= shipped, f"not installed with the distribution: {sorted(ours - shipped)}"


def test_layers_import_one_way() -> None:
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(  # noqa: S603 - our own linter, fixed arguments
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
# Migrations are a record of how the schema got here; they are never edited afterwards.
EXEMPT_DIRECTORIES = {"migrations"}
# Installed, git-ignored trees (the peer benchmark's npm packages): not our code.
PEER_DIRECTORY = ".peer"
# Modules being split by concern right now; each entry names why, and goes when it is done.
# Nothing else may join this list: split the module or the function instead.
TOO_LARGE_FOR_NOW: set[str] = set()


def _python_files() -> list[Path]:
    folders = sorted(_declared_layers() | {"scripts"})
    return sorted(
        path
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if not EXEMPT_DIRECTORIES & set(path.relative_to(ROOT).parts)
        and PEER_DIRECTORY not in path.relative_to(ROOT).parts
    )


def test_the_walk_sees_every_layer_and_the_scripts() -> None:
    seen = {path.relative_to(ROOT).parts[0] for path in _python_files()}
    assert seen == _declared_layers() | {"scripts"}


def _size_problems(path: Path) -> list[str]:
    """The module's length and each function's, where over the limits."""
    name = path.relative_to(ROOT).as_posix()
    source = path.read_text(encoding="utf-8")
    problems = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        problems.append(f"{name}: {lines} lines")
    for node in ast.walk(ast.parse(source, filename=name)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                problems.append(f"{name}:{node.lineno} {node.name}() is {length} lines")
    return problems


def test_no_module_over_500_lines_and_no_function_over_80() -> None:
    too_long = [
        problem
        for path in _python_files()
        if path.relative_to(ROOT).as_posix() not in TOO_LARGE_FOR_NOW
        for problem in _size_problems(path)
    ]
    assert not too_long, "\n".join(too_long)


def test_the_allow_list_only_names_modules_that_still_need_it() -> None:
    for name in TOO_LARGE_FOR_NOW:
        path = ROOT / name
        assert path.exists() and _size_problems(path), f"{name} is within the limits now: unlist it"
