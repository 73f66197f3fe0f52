"""Execute example code against the real restate-sdk and build ``restate.app`` from it.

Third-party modules an example imports but this environment does not have (asyncpg, redis,
...) are replaced by stub modules: the point is that Restate accepts the services and
handlers (decorators, signatures, type hints), not that those clients exist.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import restate


class _StubModule(types.ModuleType):
    """A module whose every attribute is a mock (also usable as a package)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []

    def __getattr__(self, attribute: str) -> object:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        value = mock.MagicMock(name=f"{self.__name__}.{attribute}")
        setattr(self, attribute, value)
        return value


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, missing: set[str]) -> None:
        self.missing = missing

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".")[0] in self.missing:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _StubModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _missing_top_level(code: str) -> set[str]:
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return {name for name in names if importlib.util.find_spec(name) is None}


@contextmanager
def _stubs(missing: set[str]) -> Iterator[None]:
    finder = _StubFinder(missing)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in list(sys.modules):
            if name.split(".")[0] in missing:
                del sys.modules[name]


def build_app(code: str, directory: Path) -> list[object]:
    """Import ``code`` as a module and build a Restate app from its services; returns them."""
    name = f"idemlint_example_{uuid.uuid4().hex}"
    path = directory / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    with _stubs(_missing_top_level(code)):
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            sys.modules.pop(name, None)
    kinds = (restate.Service, restate.VirtualObject, restate.Workflow)
    services = [value for value in vars(module).values() if isinstance(value, kinds)]
    if services:
        restate.app(services=services)
    return services
