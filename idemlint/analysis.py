"""What a rule receives: one parsed module with its index, resolver and handler model."""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .diagnostics import Finding, Fix, Severity
from .knowledge import KnowledgeBase
from .model import HandlerModel, Service
from .project import Project, module_name
from .resolve import Resolver
from .scopes import Indexer, Scope, finish_self_attributes, parent
from .source import SourceFile

if TYPE_CHECKING:
    from .config import Settings
    from .registry import Rule


_Result = TypeVar("_Result")

class ModuleAnalysis:
    """A module, indexed once; the handler model is built on first use."""

    def __init__(
        self,
        source: SourceFile,
        tree: ast.Module,
        settings: Settings,
        project: Project | None = None,
        file_path: Path | None = None,
    ) -> None:
        self.source = source
        self.tree = tree
        self.settings = settings
        self.kb: KnowledgeBase = settings.kb
        self.project = project
        self.file_path = file_path
        name, is_package = module_name(file_path) if file_path else (None, False)
        self.indexer = Indexer()
        self.scope: Scope = self.indexer.index(tree)
        finish_self_attributes(self.indexer)
        self.resolver = Resolver(self.kb, name, is_package)
        # Results shared by several rules, by the function that computes them (see `shared`).
        self._shared: dict[Callable[[ModuleAnalysis], Any], Any] = {}

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def nodes(self) -> list[ast.AST]:
        """Every node of the module in preorder (use instead of ``ast.walk(tree)``)."""
        return self.indexer.nodes

    def shared(self, compute: Callable[[ModuleAnalysis], _Result]) -> _Result:
        """A per-module result several rules use (the catalogued calls in handler code, the
        calls into the ingress, ...), computed once by ``compute`` and typed by it."""
        results = self._shared
        if compute not in results:
            results[compute] = compute(self)
        return results[compute]  # type: ignore[no-any-return]

    def name_loads(self, name: str) -> list[ast.Name]:
        """Every read of ``name`` in the module (collected by the indexer)."""
        return self.indexer.name_loads.get(name, [])

    @cached_property
    def model(self) -> HandlerModel:
        return HandlerModel(
            kb=self.kb,
            resolver=self.resolver,
            index=self.indexer,
            module_scope=self.scope,
            find_service=self._find_service if self.project is not None else None,
        ).build(
            frozenset(self.settings.frameworks) if self.settings.frameworks is not None else None
        )

    # -- other modules of the linted tree ----------------------------------------------------
    def _find_service(self, dotted: str) -> Service | None:
        """A service object defined at module level in another module of the tree."""
        assert self.project is not None
        module, _, attribute = dotted.rpartition(".")
        if not module:
            return None
        path = self.project.find(module, near=self.file_path)
        if path is None or (self.file_path is not None and path == self.file_path.resolve()):
            return None
        settings, project = self.settings, self.project

        def build(source: SourceFile, tree: ast.Module) -> object:
            return ModuleAnalysis(source, tree, settings, project, path)

        other = self.project.summary(path, build)
        if not isinstance(other, ModuleAnalysis):
            return None
        bindings = other.scope.bindings.get(attribute)
        if not bindings:
            return None
        target = ast.Name(attribute, ast.Load())
        target._sc = other.scope  # type: ignore[attr-defined]
        target.lineno, target.col_offset = 10**9, 0
        with self.project.inside(path):  # what it looks up is its dependency (result cache)
            return other.model.service_of(target)

    # -- reporting -------------------------------------------------------------------------
    def text(self, node: ast.AST) -> str:
        """The exact source text of a node."""
        source = self.source
        line, end_line = node.lineno, node.end_lineno  # type: ignore[attr-defined]
        if end_line is None:
            return ""
        start = source.offset(line, source.char_column(line, node.col_offset))  # type: ignore[attr-defined]
        end = source.offset(end_line, source.char_column(end_line, node.end_col_offset))  # type: ignore[attr-defined]
        return source.text[start:end]

    def finding(
        self,
        rule: Rule,
        node: ast.AST,
        message: str,
        fix: Fix | None = None,
        end: ast.AST | None = None,
        severity: Severity | None = None,
        detail: str = "",
    ) -> Finding:
        """A finding spanning ``node`` (to ``end`` if given), positioned in characters."""
        source = self.source
        line, col = node.lineno, node.col_offset  # type: ignore[attr-defined]
        last = end if end is not None else node
        end_line = getattr(last, "end_lineno", None) or line
        end_col = getattr(last, "end_col_offset", None)
        if end_col is None:
            end_col = col
        return Finding(
            code=rule.code,
            message=message,
            path=source.path,
            line=line,
            column=source.char_column(line, col) + 1,
            end_line=end_line,
            end_column=source.char_column(end_line, end_col) + 1,
            severity=severity or rule.effective_severity(),
            fix=fix,
            statement=statement_lines(node),
            detail=detail,
        )


def statement_lines(node: ast.AST) -> tuple[int, int] | None:
    """First and last line of the innermost statement (a compound statement's header)."""
    current: ast.AST | None = node
    while current is not None and not isinstance(current, ast.stmt):
        current = parent(current)
    if current is None:
        return None
    start = current.lineno
    body = getattr(current, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        first = body[0]
        if (
            isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and current.decorator_list
        ):
            start = current.decorator_list[0].lineno
        return start, max(start, first.lineno - 1)
    return start, current.end_lineno or start
