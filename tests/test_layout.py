"""The repository's layout: the layers are top-level packages, and no other installed
distribution may provide one of their import names (a clash would silently shadow them)."""

from __future__ import annotations

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
