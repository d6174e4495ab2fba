"""A directory that deploys as it is: the SAM template, the steps' code and their requirements.

``DIR/template.yaml`` is the SAM template whose functions' ``CodeUri`` is ``src``;
``DIR/src`` holds the packages the steps live in, the packages they import from this project,
``saga_lambda_runtime.py`` (the functions' handler, standard library only) and
``requirements.txt`` naming, pinned to the installed versions, the distributions the steps
import (boto3 and botocore come with Lambda's Python runtime and are left out).
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import engine.lambda_runtime
from asl_export.functions import (
    CODE_FOLDER,
    LAMBDA_ADAPTER_HANDLER,
    FunctionSpec,
)
from asl_export.render import ExportError
from asl_export.sam import render_sam
from engine.model import StateMachine

__all__ = ["ADAPTER_MODULE", "Package", "write_package"]

ADAPTER_MODULE = LAMBDA_ADAPTER_HANDLER.rsplit(".", 1)[0] + ".py"
"""The file name of the handler module inside the code folder."""

_RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})
_CACHES = ("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".hypothesis")
"""What is never copied into the package."""
_PROJECT_PACKAGES = ("engine", "saga", "asl_export")
"""This project's packages: a step importing one gets all three (they import each other)."""


@dataclass(frozen=True)
class Package:
    """What :func:`write_package` wrote: the template, the code folder and the requirements."""

    directory: Path
    template: Path
    code: Path
    modules: tuple[str, ...]
    requirements: tuple[str, ...]


def _module_file(name: str) -> Path | None:
    """The source file of module ``name`` (None for a namespace package or a non-module)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imports(name: str, path: Path) -> set[str]:
    """Modules module ``name`` (at ``path``) imports: ``a.b`` and, for ``from a.b import c``,
    ``a.b.c`` too (it may be a submodule); relative imports resolved."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path}: cannot read it to find its imports: {exc}") from None
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            try:
                module = importlib.util.resolve_name(base, package) if node.level else base
            except ImportError:
                continue
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def _project_requirements() -> list[str]:
    """This project's own dependencies (without extras), as distribution names."""
    owners = importlib.metadata.packages_distributions().get(_PROJECT_PACKAGES[0], [])
    if not owners:
        return []
    names: list[str] = []
    for requirement in importlib.metadata.requires(owners[0]) or []:
        text, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue
        name = re.split(r"[\s<>=!~\[(]", text.strip(), maxsplit=1)[0]
        if name:
            names.append(name)
    return names


def _pinned(distribution: str) -> str:
    try:
        return f"{distribution}=={importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return distribution


@dataclass
class _Plan:
    modules: dict[str, Path] = field(default_factory=dict)
    distributions: set[str] = field(default_factory=set)
    needs_project: bool = False


def _plan(roots: Sequence[str]) -> _Plan:
    """The modules to copy and the distributions to require for the step modules ``roots``.

    Imports are followed module by module: a module of an installed distribution makes it a
    requirement, this project's packages are copied whole (with the project's dependencies),
    anything else importable (the user's own modules and their packages) is copied.
    """
    owners = importlib.metadata.packages_distributions()
    project = set(owners.get(_PROJECT_PACKAGES[0], []))
    plan = _Plan()
    pending = list(dict.fromkeys(roots))
    while pending:
        name = pending.pop()
        top = name.partition(".")[0]
        if name in plan.modules or top in sys.stdlib_module_names or top == "__future__":
            continue
        if top in _PROJECT_PACKAGES:
            plan.needs_project = True
            continue
        owner = set(owners.get(top, []))
        if owner and not owner & project:
            plan.distributions.update(owner)
            continue
        path = _module_file(name)
        if path is None:
            if name in roots:
                raise ExportError(f"cannot find the source of the step module {name!r}")
            continue
        plan.modules[name] = path
        if "." in name:
            pending.append(name.rpartition(".")[0])
        pending.extend(sorted(_imports(name, path) - set(plan.modules)))
    return plan


def _requirements(plan: _Plan) -> list[str]:
    distributions = set(plan.distributions)
    if plan.needs_project:
        distributions.update(_project_requirements())
    wanted = sorted({d for d in distributions if d.lower() not in _RUNTIME_PROVIDED}, key=str.lower)
    return [_pinned(d) for d in wanted]


def _is_data_file(path: Path) -> bool:
    return path.is_file() and path.suffix not in (".py", ".pyc") and not path.name.startswith(".")


def _copy_modules(modules: Mapping[str, Path], code: Path) -> None:
    """Copy each module to its place under ``code``, with the data files of its package."""
    folders: dict[Path, Path] = {}
    for name, path in sorted(modules.items()):
        parts = name.split(".")
        if path.name == "__init__.py":
            target = code.joinpath(*parts, "__init__.py")
        else:
            target = code.joinpath(*parts[:-1], path.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        if len(parts) > 1 or path.name == "__init__.py":
            # A package's data files go with it. A top-level module's folder is a root of the
            # import path (often the working directory): what lies there (execution stores,
            # exports, reports) is not the module's, and must not be deployed with it.
            folders[path.parent] = target.parent
    for source, target in folders.items():
        for data in sorted(source.iterdir()):
            if (
                data.is_file()
                and data.suffix not in (".py", ".pyc")
                and not data.name.startswith(".")
            ):
                shutil.copy2(data, target / data.name)


def _copy_project(code: Path) -> None:
    for name in _PROJECT_PACKAGES:
        source = _module_file(name)
        if source is None:
            raise ExportError(f"cannot find this project's package {name!r} to package it")
        shutil.copytree(source.parent, code / name, ignore=shutil.ignore_patterns(*_CACHES))


def _runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def write_package(
    machine: StateMachine,
    *,
    name: str,
    functions: Sequence[FunctionSpec],
    directory: Path,
    values: Mapping[str, str] | None = None,
) -> Package:
    """Write the deployable directory for ``machine`` and its Python ``functions``.

    Raises :class:`ExportError` when a step's code cannot be found or read. Files of an
    earlier package in ``directory`` are replaced.
    """
    roots = [spec.handler.partition(":")[0] for spec in functions]
    plan = _plan(roots)
    requirements = _requirements(plan)
    code = directory / CODE_FOLDER
    if code.exists():
        shutil.rmtree(code)
    code.mkdir(parents=True)
    _copy_modules(plan.modules, code)
    if plan.needs_project:
        _copy_project(code)
    shutil.copy2(engine.lambda_runtime.__file__, code / ADAPTER_MODULE)
    (code / "requirements.txt").write_text(
        "".join(f"{line}\n" for line in requirements), encoding="utf-8"
    )
    runtime = _runtime()
    specs = [
        replace(spec, code_uri=CODE_FOLDER, runtime=runtime)
        if spec.runtime == FunctionSpec.runtime
        else replace(spec, code_uri=CODE_FOLDER)
        for spec in functions
    ]
    template = directory / "template.yaml"
    template.write_text(
        render_sam(machine, name=name, functions=specs, values=values), encoding="utf-8"
    )
    modules = tuple(sorted(plan.modules)) + (_PROJECT_PACKAGES if plan.needs_project else ())
    return Package(directory, template, code, modules, tuple(requirements))
