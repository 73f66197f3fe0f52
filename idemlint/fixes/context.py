"""What a fix builder works with: exact node text and ranges, libcst for new code, imports.

Ranges come from the ``ast`` positions of the nodes being replaced, so the rest of the file is
untouched byte for byte. libcst parses and renders only the snippets a fix rewrites (a call,
an import statement), which keeps comments and formatting inside them and costs nothing for
files without fixes.
"""

from __future__ import annotations

import ast
import sys
from typing import TYPE_CHECKING

from ..diagnostics import Edit, FixUnavailable
from ..scopes import BUILTIN_NAMES, Binding, Kind, Scope, own_scope

if TYPE_CHECKING:
    import libcst as cst

    from ..analysis import ModuleAnalysis


# libcst is imported inside the methods that use it: runs without fixes never pay for it.


class FixContext:
    """Helpers for building the edits of one fix on one module."""

    def __init__(self, module: ModuleAnalysis) -> None:
        self.module = module
        self.source = module.source
        self._scopes: list[Scope] | None = None

    # -- ranges and text -------------------------------------------------------------------
    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        """(line, column, end line, end column) of a node, columns in characters, 0-based."""
        source = self.source
        line, col = node.lineno, node.col_offset  # type: ignore[attr-defined]
        end_line, end_col = node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]
        if end_line is None or end_col is None:
            raise FixUnavailable("node without an end position")
        return (
            line,
            source.char_column(line, col),
            end_line,
            source.char_column(end_line, end_col),
        )

    def text(self, node: ast.AST) -> str:
        line, col, end_line, end_col = self.span(node)
        source = self.source
        return source.text[source.offset(line, col) : source.offset(end_line, end_col)]

    def replace(self, node: ast.AST, content: str) -> Edit:
        line, col, end_line, end_col = self.span(node)
        return Edit(line, col, end_line, end_col, content)

    def replace_range(self, start: ast.AST, end: ast.AST, content: str) -> Edit:
        line, col, _, _ = self.span(start)
        _, _, end_line, end_col = self.span(end)
        return Edit(line, col, end_line, end_col, content)

    def insert_before(self, node: ast.AST, content: str) -> Edit:
        line, col, _, _ = self.span(node)
        return Edit(line, col, line, col, content)

    # -- libcst snippets -------------------------------------------------------------------
    def cst_expression(self, node: ast.AST) -> cst.BaseExpression:
        """The node's own text parsed by libcst (formatting and comments inside kept)."""
        import libcst as cst

        text = self.text(node)
        try:
            return cst.parse_expression(text)
        except cst.ParserSyntaxError:
            try:  # a multi-line expression outside brackets needs them to parse alone
                return cst.parse_expression(f"({text})")
            except cst.ParserSyntaxError as exc:
                raise FixUnavailable(f"cannot parse {text!r}: {exc}") from None

    @staticmethod
    def code(node: cst.CSTNode) -> str:
        import libcst as cst

        return cst.Module(body=[]).code_for_node(node)

    @staticmethod
    def string(value: str) -> str:
        """A double-quoted Python string literal."""
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'

    # -- imports ---------------------------------------------------------------------------
    def import_name(self, module: str, name: str) -> tuple[str, list[Edit]]:
        """How to spell ``module.name`` at module level, and the edits that import it.

        The spelling must mean the import everywhere in the module: a name that a function
        rebinds (``timedelta = 5`` in a handler) is not used; the fix then qualifies the
        name with its module (``import datetime`` ... ``datetime.timedelta``) or imports it
        under an alias, and raises ``FixUnavailable`` when every spelling is taken.
        """
        target = f"{module}.{name}"
        resolver = self.module.resolver
        scope = self.module.scope
        module_alias: str | None = None
        for bound, bindings in scope.bindings.items():
            binding = bindings[-1]
            if binding.kind is not Kind.IMPORT:
                continue
            absolute = resolver.absolute(binding)
            if absolute is None:
                continue
            canonical = self.module.kb.canonical(absolute)
            if (canonical == target or absolute == target) and self._free(bound, target):
                return bound, []
            if absolute == module and module_alias is None and self._free(bound, module):
                module_alias = bound
        if module_alias is not None:
            return f"{module_alias}.{name}", []
        if self._unbound(name):
            existing = self._from_import(module)
            if existing is not None:
                return name, [self._extend_from_import(existing, name)]
            return name, [self._insert_import(f"from {module} import {name}", module)]
        top = _top(module)
        if self._unbound(top):
            return target, [self._insert_import(f"import {module}", module)]
        for alias in (f"{name}_", f"_{name}"):
            if self._unbound(alias):
                statement = f"from {module} import {name} as {alias}"
                return alias, [self._insert_import(statement, module)]
        raise FixUnavailable(f"`{name}` is already bound to something else")

    def _bindings(self, name: str) -> list[Binding]:
        """Every binding of ``name`` in any scope of the module."""
        scopes = self._scopes
        if scopes is None:
            scopes = [self.module.scope]
            scopes.extend(
                own for node in self.module.indexer.nodes if (own := own_scope(node)) is not None
            )
            self._scopes = scopes
        return [b for scope in scopes for b in scope.bindings.get(name, ())]

    def _unbound(self, name: str) -> bool:
        return not self._bindings(name) and name not in BUILTIN_NAMES

    def _free(self, bound: str, target: str) -> bool:
        """Whether ``bound`` means ``target`` (by an import) wherever it is bound."""
        resolver = self.module.resolver
        kb = self.module.kb
        for binding in self._bindings(bound):
            if binding.kind is not Kind.IMPORT:
                return False
            absolute = resolver.absolute(binding)
            if absolute is None or (absolute != target and kb.canonical(absolute) != target):
                return False
        return True

    def _from_import(self, module: str) -> ast.ImportFrom | None:
        for stmt in self.module.tree.body:
            if (
                isinstance(stmt, ast.ImportFrom)
                and stmt.module == module
                and stmt.level == 0
                and not any(alias.name == "*" for alias in stmt.names)
            ):
                return stmt
        return None

    def _extend_from_import(self, stmt: ast.ImportFrom, name: str) -> Edit:
        import libcst as cst

        text = self.text(stmt)
        try:
            parsed = cst.parse_statement(text + "\n")
        except cst.ParserSyntaxError as exc:
            raise FixUnavailable(str(exc)) from None
        assert isinstance(parsed, cst.SimpleStatementLine)
        node = parsed.body[0]
        assert isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar)
        names = list(node.names)
        last = names[-1]
        trailing = last.comma
        names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        names.append(cst.ImportAlias(name=cst.Name(name), comma=trailing))
        updated = node.with_changes(names=names)
        return self.replace(stmt, self.code(updated))

    def _insert_import(self, statement: str, module: str) -> Edit:
        """Insert after the initial import block (after its stdlib part for stdlib modules)."""
        tree = self.module.tree
        anchor: ast.stmt | None = None
        stdlib_anchor: ast.stmt | None = None
        body = tree.body
        start = 0
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            anchor, start = body[0], 1
        for stmt in body[start:]:
            if not isinstance(stmt, (ast.Import, ast.ImportFrom)):
                break
            anchor = stmt
            if _is_stdlib(stmt):
                stdlib_anchor = stmt
        if stdlib_anchor is not None and _top(module) in sys.stdlib_module_names:
            anchor = stdlib_anchor
        newline = self.source.newline
        if anchor is None:
            return Edit(1, 0, 1, 0, statement + newline)
        end_line = anchor.end_lineno or anchor.lineno
        if end_line >= len(self.source.lines):  # the anchor ends the file, no final newline
            last = self.source.line(end_line)
            return Edit(end_line, len(last), end_line, len(last), newline + statement)
        return Edit(end_line + 1, 0, end_line + 1, 0, statement + newline)


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _is_stdlib(stmt: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(stmt, ast.ImportFrom):
        return stmt.level == 0 and stmt.module is not None and stmt.module != "__future__" \
            and _top(stmt.module) in sys.stdlib_module_names
    return all(_top(alias.name) in sys.stdlib_module_names for alias in stmt.names)
