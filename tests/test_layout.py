"""The package reads like the DAG: a folder per stage, each saying in one line what it is, and at the top only
the plumbing every stage uses."""

import importlib
import pkgutil
import re
from pathlib import Path

import breakeven

PACKAGE = Path(breakeven.__file__).parent
README = PACKAGE.parent / "README.md"


def subpackages() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules([str(PACKAGE)]) if info.ispkg)


def test_every_subpackage_imports_and_says_what_it_is() -> None:
    assert len(subpackages()) >= 10
    for name in subpackages():
        module = importlib.import_module(f"breakeven.{name}")
        assert module.__doc__ and module.__doc__.strip(), f"breakeven/{name}/__init__.py has no docstring"


def test_top_level_holds_only_shared_plumbing() -> None:
    modules = sorted(info.name for info in pkgutil.iter_modules([str(PACKAGE)]) if not info.ispkg)
    assert modules == ["config", "jsonio", "registry", "runtime", "storage"]


def test_every_rule_file_names_its_package_in_the_readme() -> None:
    layout = README.read_text().split("## Layout", 1)[1]
    rule_files = sorted(p.name for p in (PACKAGE.parent / "rules").glob("*.smk") if p.name != "common.smk")
    for rule_file in rule_files:
        row = re.search(rf"^\| `{re.escape(rule_file)}` \| (.+?) \|", layout, re.M)
        assert row, f"README layout table has no row for rules/{rule_file}"
        for package in re.findall(r"`breakeven/(\w+)/`", row.group(1)):
            assert package in subpackages(), f"README names breakeven/{package}/, which does not exist"
