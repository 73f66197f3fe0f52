"""Qualified names of expressions, through imports, aliases and simple bindings.

``qualname(expr)`` answers "what does this expression name?" in the knowledge base's terms:
``dt.datetime.now`` -> ``datetime.datetime.now``; ``c.get`` with ``c = httpx.AsyncClient()``
-> ``httpx.AsyncClient().get``. ``definition(expr)`` answers "which function in this module
is this?" for calls to local helpers, methods and lambdas.
"""

from __future__ import annotations

import ast

from .knowledge import KnowledgeBase
from .scopes import (
    BUILTIN_NAMES,
    Binding,
    FunctionNode,
    Kind,
    Scope,
    children,
    lookup,
    own_scope,
    position,
    scope_of,
)

_MAX_DEPTH = 12
Definition = FunctionNode | ast.ClassDef


class Resolver:
    """Per-module resolution of names; results are cached per node."""

    def __init__(
        self,
        kb: KnowledgeBase,
        module_name: str | None,
        is_package: bool = False,
    ) -> None:
        self.kb = kb
        self.module_name = module_name
        self.is_package = is_package
        self._qualnames: dict[int, str | None] = {}
        # Rules resolve the same names and callees many times: both answers are cached.
        self._bindings: dict[int, Binding | None] = {}
        self._definitions: dict[int, Definition | None] = {}

    # -- bindings --------------------------------------------------------------------------
    def binding(self, node: ast.Name) -> Binding | None:
        key = id(node)
        try:
            return self._bindings[key]
        except KeyError:
            found = self._bindings[key] = lookup(scope_of(node), node.id, position(node))
            return found

    def absolute(self, binding: Binding) -> str | None:
        """The absolute dotted name an import binding refers to."""
        qualname = binding.qualname
        if qualname is None or binding.level == 0:
            return qualname
        if not self.module_name:
            return None
        parts = self.module_name.split(".")
        keep = len(parts) - binding.level + (1 if self.is_package else 0)
        if keep < 0:
            return None
        base = ".".join(parts[:keep])
        return f"{base}.{qualname}" if base else qualname

    # -- qualified names -------------------------------------------------------------------
    def qualname(self, expr: ast.AST | None, depth: int = 0) -> str | None:
        if expr is None or depth > _MAX_DEPTH:
            return None
        key = id(expr)
        cache = self._qualnames
        if key in cache:
            return cache[key]
        cache[key] = None  # cycle guard
        result = self._qualname(expr, depth)
        cache[key] = result
        return result

    def _qualname(self, expr: ast.AST, depth: int) -> str | None:
        if isinstance(expr, ast.Name):
            binding = self.binding(expr)
            if binding is None:
                return f"builtins.{expr.id}" if expr.id in BUILTIN_NAMES else None
            return self.binding_qualname(binding, depth)
        if isinstance(expr, ast.Attribute):
            attribute = self.self_attribute(expr)
            if attribute is not None:
                return self.binding_qualname(attribute, depth)
            base = self.qualname(expr.value, depth + 1)
            return self.kb.canonical(f"{base}.{expr.attr}") if base else None
        if isinstance(expr, ast.Call):
            base = self.qualname(expr.func, depth + 1)
            if base is None:
                return None
            if base == "functools.partial" and expr.args:
                return self.qualname(expr.args[0], depth + 1)
            result = self.kb.returns.get(base + "()")
            if result is not None:
                return result
            returned = self._returned(expr.func, depth)
            return returned if returned is not None else base + "()"
        if isinstance(expr, ast.Await):
            return self.qualname(expr.value, depth + 1)
        return None

    def binding_qualname(self, binding: Binding, depth: int) -> str | None:
        kind = binding.kind
        if kind is Kind.IMPORT:
            absolute = self.absolute(binding)
            return self.kb.canonical(absolute) if absolute else None
        if kind in (Kind.ASSIGN, Kind.WITH):
            return self.qualname(binding.value, depth + 1)
        if kind is Kind.PARAM:
            annotation = binding.node.annotation  # type: ignore[attr-defined]
            instance = self.annotation_type(annotation, depth)
            return instance + "()" if instance else None
        if kind in (Kind.DEF, Kind.CLASS) and binding.scope.parent is None:
            name = binding.name
            return f"{self.module_name}.{name}" if self.module_name else name
        return None

    def annotation_type(self, annotation: ast.expr | None, depth: int = 0) -> str | None:
        """The class an annotation names (``Optional[X]``, ``X | None`` and strings unwrapped)."""
        if annotation is None:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                parsed = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
            return self._string_annotation(parsed, scope_of(annotation), depth)
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            for side in (annotation.left, annotation.right):
                if not (isinstance(side, ast.Constant) and side.value is None):
                    return self.annotation_type(side, depth + 1)
            return None
        if isinstance(annotation, ast.Subscript):
            outer = self.qualname(annotation.value, depth + 1)
            if outer in ("typing.Optional", "typing.Annotated", "typing_extensions.Annotated"):
                inner = annotation.slice
                if isinstance(inner, ast.Tuple) and inner.elts:
                    inner = inner.elts[0]
                return self.annotation_type(inner, depth + 1)
            return outer
        return self.qualname(annotation, depth + 1)

    def _string_annotation(self, parsed: ast.expr, scope: Scope, depth: int) -> str | None:
        # A string annotation is resolved in the scope it appears in; only dotted names.
        parts: list[str] = []
        node: ast.expr = parsed
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            if isinstance(parsed, ast.Subscript):
                return self._string_annotation(parsed.value, scope, depth)
            return None
        binding = lookup(scope, node.id)
        base = self.binding_qualname(binding, depth + 1) if binding else None
        if base is None:
            return None
        return self.kb.canonical(".".join([base, *reversed(parts)]))

    def self_attribute(self, expr: ast.Attribute) -> Binding | None:
        """For ``self.x`` in a method: the last ``self.x = ...`` made in the class."""
        value = expr.value
        if not isinstance(value, ast.Name):
            return None
        class_scope = self.method_class(value)
        if class_scope is None:
            return None
        bindings = class_scope.attributes.get(expr.attr)
        if bindings:
            return bindings[-1]
        class_bindings = class_scope.bindings.get(expr.attr)
        return class_bindings[-1] if class_bindings else None

    def method_class(self, name: ast.Name) -> Scope | None:
        """The class scope if ``name`` is the first parameter (``self``) of a method."""
        binding = self.binding(name)
        if binding is None or binding.kind is not Kind.PARAM:
            return None
        func = binding.scope.node
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        args = func.args.posonlyargs + func.args.args
        if not args or args[0] is not binding.node:
            return None
        if any(_is_staticmethod(d) for d in func.decorator_list):
            return None
        parent_scope = binding.scope.parent
        return parent_scope if parent_scope is not None and parent_scope.is_class else None

    def _returned(self, func: ast.expr, depth: int) -> str | None:
        """What a local helper returns, when every `return` names the same thing."""
        definition = self.definition(func, depth + 1)
        if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        results: set[str | None] = set()
        for node in own_returns(definition):
            results.add(self.qualname(node.value, depth + 1) if node.value else None)
            if len(results) > 1:
                return None
        if len(results) == 1:
            (only,) = results
            return only
        return None

    # -- definitions -----------------------------------------------------------------------
    def definition(self, expr: ast.AST | None, depth: int = 0) -> Definition | None:
        """The local function, lambda or class an expression refers to, if it is one."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        key = id(expr)
        if key in self._definitions:
            return self._definitions[key]
        self._definitions[key] = None  # cycle guard
        found = self._definition(expr, depth)
        self._definitions[key] = found
        return found

    def _definition(self, expr: ast.AST, depth: int) -> Definition | None:
        if isinstance(expr, ast.Lambda):
            return expr
        if isinstance(expr, ast.Name):
            binding = self.binding(expr)
            if binding is None:
                return None
            if binding.kind in (Kind.DEF, Kind.CLASS):
                return binding.node  # type: ignore[return-value]
            if binding.kind is Kind.ASSIGN and binding.value is not None:
                return self.definition(binding.value, depth + 1)
            return None
        if isinstance(expr, ast.Attribute):
            return self._method(expr, depth)
        if (
            isinstance(expr, ast.Call)
            and expr.args
            and self.qualname(expr.func, depth + 1) == "functools.partial"
        ):
            return self.definition(expr.args[0], depth + 1)
        return None

    def _method(self, expr: ast.Attribute, depth: int) -> Definition | None:
        value = expr.value
        if isinstance(value, ast.Name):
            class_scope = self.method_class(value)
            if class_scope is not None:
                attribute = class_scope.attributes.get(expr.attr)
                if attribute:
                    return self.definition(attribute[-1].value, depth + 1)
                return _member(class_scope, expr.attr)
        owner = self.definition(value, depth + 1)
        if isinstance(owner, ast.ClassDef):
            return _member(own_scope(owner), expr.attr)
        instance = value if isinstance(value, ast.Call) else None
        if instance is None and isinstance(value, ast.Name):
            binding = self.binding(value)
            if binding is not None and binding.kind is Kind.ASSIGN:
                instance = binding.value if isinstance(binding.value, ast.Call) else None
        if instance is not None:
            cls = self.definition(instance.func, depth + 1)
            if isinstance(cls, ast.ClassDef):
                return _member(own_scope(cls), expr.attr)
        return None


def _member(class_scope: Scope | None, name: str) -> Definition | None:
    if class_scope is None:
        return None
    bindings = class_scope.bindings.get(name)
    if not bindings:
        return None
    node = bindings[-1].node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node
    return None


def _is_staticmethod(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Name) and decorator.id == "staticmethod"


def own_returns(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """Return statements of ``func`` itself (not of nested functions or classes)."""
    out: list[ast.Return] = []
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            out.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(children(node))
    return out
