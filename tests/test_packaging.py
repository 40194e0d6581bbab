"""pyproject lists packages by hand (migrations/ lives outside src/): keep the list complete."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT / "src").parts)
        for path in (ROOT / "src").rglob("__init__.py")
    }
    found |= {"okrbot.migrations", "okrbot.migrations.versions"}
    assert found == listed, f"add to or remove from pyproject's packages: {sorted(found ^ listed)}"
