"""The README's configuration tables list exactly the environment variables the code reads: those
of the settings object, and the few read by name elsewhere in the package (library variables)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from outropy_pipelines.defs import definitions
from outropy_pipelines.settings import Settings
from outropy_pipelines_tests.conftest import REPO

PACKAGE = REPO / "outropy_pipelines"

#: variables the configuration tables may list although `Settings` does not read them, because
#: they are part of a deployment recipe rather than read by us (none today)
DOCUMENTED_NOT_READ: set[str] = set()


def env_names(cls: type[BaseSettings]) -> set[str]:
    """Every environment variable a settings class reads: `env_prefix` + field name, or the
    field's alias(es), which pydantic-settings uses as they are; nested settings by their own."""
    prefix = cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for name, field in cls.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            names |= env_names(field.annotation)
            continue
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def _is_environ(node: ast.AST) -> bool:
    """`os.environ` (under any alias of os) or a bare `environ`."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _string_names(tree: ast.AST) -> dict[str, set[str]]:
    """What a variable of the module can hold when it only ever holds string literals: `X = "A"`,
    and the loop variable of `for x in ("A", "B")`."""
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            values = [node.value]
            targets = node.targets
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple | ast.List):
            values, targets = node.iter.elts, [node.target]
        else:
            continue
        if all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
            for t in targets:
                if isinstance(t, ast.Name):
                    out.setdefault(t.id, set()).update(v.value for v in values)
    return out


def env_reads(source: str, where: str) -> tuple[set[str], list[str]]:
    """The environment variables `source` reads by name (`os.environ[...]`, `os.environ.get`,
    `.setdefault` (a value already set wins), `os.getenv`, `... in os.environ`), and the places
    whose variable name cannot be told from the code. Writes (`os.environ[X] = ...`, `.pop`) and
    handing the whole environment on (`{**os.environ}`) are not reads."""
    tree = ast.parse(source)
    strings = _string_names(tree)
    names: set[str] = set()
    unresolved: list[str] = []

    def read(arg: ast.AST | None, node: ast.AST) -> None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value)
        elif isinstance(arg, ast.Name) and arg.id in strings:
            names.update(strings[arg.id])
        else:
            unresolved.append(f"{where}:{getattr(node, 'lineno', '?')}")

    def reads_by_name(call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Attribute) and _is_environ(func.value):
            return func.attr in ("get", "setdefault")
        return (isinstance(func, ast.Attribute) and func.attr == "getenv") or (
            isinstance(func, ast.Name) and func.id == "getenv"
        )

    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_environ(node.value) and isinstance(node.ctx, ast.Load):
            read(node.slice, node)
        elif isinstance(node, ast.Call) and reads_by_name(node):
            read(node.args[0] if node.args else None, node)
        elif (
            isinstance(node, ast.Compare)
            and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
            and any(_is_environ(c) for c in node.comparators)
        ):
            read(node.left, node)
    return names, unresolved


def package_env_reads(root: Path = PACKAGE) -> tuple[set[str], list[str]]:
    """`env_reads` over every module of the package."""
    names: set[str] = set()
    unresolved: list[str] = []
    for path in sorted(root.rglob("*.py")):
        found, unknown = env_reads(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
        names |= found
        unresolved += unknown
    return names, unresolved


def documented_names() -> set[str]:
    """The variables in the first column of the tables of the README's Configuration section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, flags=re.MULTILINE))


def test_the_derived_names_are_the_ones_the_settings_read(monkeypatch):
    names = env_names(Settings)
    assert "OUTROPY_LLM" not in names and "OUTROPY_SLACK_BOT_TOKEN" not in names
    # a prefix, an alias, a nested prefix, a nested alias: each derived name reaches its field
    for name, value, read in (
        ("OUTROPY_DAYS_PER_RUN", "3", lambda s: s.days_per_run == 3),
        ("DAGSTER_HOME", "/tmp/dh", lambda s: str(s.dagster_home) == "/tmp/dh"),
        ("OUTROPY_LLM_MODEL", "m1", lambda s: s.llm.model == "m1"),
        ("SMTP_FROM", "a@b.c", lambda s: s.smtp.sender == "a@b.c"),
        ("OUTROPY_DELIVERY_SLACK_TIMEOUT_SECONDS", "3", lambda s: s.delivery.slack_timeout_seconds == 3),
        ("OUTROPY_RESEND_ON_CHANGE", "true", lambda s: s.delivery.resend_on_change is True),
    ):
        assert name in names
        assert not read(Settings()), name
        monkeypatch.setenv(name, value)
        assert read(Settings()), name


def test_the_scan_finds_every_way_of_reading_a_variable_by_name():
    source = """
import os
import os as _os
from os import environ, getenv
TOKEN = "A_TOKEN"
for _var in ("V1", "V2"):
    _os.environ.setdefault(_var, "1")
os.environ["B"], os.environ.get("C"), getenv("D"), environ.get("E"), os.getenv(TOKEN)
if "F" in os.environ:
    pass
os.environ["WRITTEN"] = "x"
os.environ.pop("POPPED", None)
env = {**os.environ, "PASSED": "1"}
os.environ.get(name_from_a_call())
"""
    names, unresolved = env_reads(source, "example.py")
    assert names == {"A_TOKEN", "V1", "V2", "B", "C", "D", "E", "F"}
    assert unresolved == ["example.py:14"]


def test_the_package_reads_no_variable_whose_name_the_scan_cannot_tell():
    names, unresolved = package_env_reads()
    assert not unresolved, (
        f"environment reads with a computed name (name them, or extend the scan): {unresolved}"
    )
    # the package does read some variables outside the settings (library variables)
    assert "OPENBLAS_NUM_THREADS" in names


def test_the_secrets_dagster_reads_are_settings():
    """The definitions hand secrets to Dagster as `EnvVar`s, which Dagster reads when a run starts:
    each is also a variable of the settings object (so it is in the README's table)."""
    secrets = {
        definitions.SLACK_BOT_TOKEN,
        definitions.OPENAI_API_KEY,
        definitions.SMTP_PASSWORD,
        definitions.DUCKLAKE_PASSWORD,
    }
    assert secrets <= env_names(Settings)


def test_every_setting_read_is_documented_and_every_documented_one_is_read():
    read, documented = env_names(Settings) | package_env_reads()[0], documented_names()
    assert len(documented) > 30, "the README's configuration tables were not found"
    assert not read - documented, (
        f"read but not in the README's configuration tables: {sorted(read - documented)}"
    )
    stale = documented - read - DOCUMENTED_NOT_READ
    assert not stale, f"in the README's configuration tables but read by nothing: {sorted(stale)}"
