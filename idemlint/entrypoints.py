"""Entry points of durable code: where replayed code starts, found the three ways a framework
profile can declare them (decorator methods of declaring objects such as ``svc.handler()``,
decorators known by their qualified name, methods of decorated classes), and the declaring
objects themselves. A part of the model (``model.HandlerModel`` builds on it)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .knowledge import Framework
from .resolve import Resolver
from .scopes import DefNode, Indexer, Kind, scope_of

# Finds a service object defined in another module of the linted tree: (dotted name) -> Service.
ServiceFinder = Callable[[str], "Service | None"]


@dataclass(eq=False)
class Service:
    """A declaring object whose decorator methods declare entry points (a Restate service,
    an Inngest client, a Hatchet workflow)."""

    kind: str  # the profile's name for it, e.g. "service" | "object" | "workflow"
    name: str | None  # the service's name as given to the constructor
    node: ast.Call | None
    wrappers: tuple[str, ...] = ()
    module: str | None = None
    framework: Framework | None = None


@dataclass(eq=False)
class Handler:
    """An entry point of durable code: a handler of a service, a workflow's run/signal/update
    method, a durable task."""

    func: DefNode
    service: Service | None
    role: str  # the profile's role, e.g. "handler" | "main" | "run" | "query"
    name: str
    decorator: ast.expr
    kind: str | None = None  # `kind=` of the decorator: exclusive/shared/workflow
    framework: Framework | None = None
    cls: ast.ClassDef | None = None  # the decorated class of a class-based entry point

    @property
    def ctx(self) -> ast.arg | None:
        """The durable-context parameter, if the framework passes one."""
        position = self.framework.context_position if self.framework is not None else 0
        if position is None:
            return None
        args = self.func.args.posonlyargs + self.func.args.args
        if self.cls is not None:  # a method of a decorated class: `self` comes first
            position += 1
        return args[position] if position < len(args) else None


class EntryPoints:
    """Finding entry points and declaring objects; mixed into ``HandlerModel``, whose fields
    these methods read and fill."""

    resolver: Resolver
    index: Indexer
    frameworks: tuple[Framework, ...]
    find_service: ServiceFinder | None
    services: dict[int, Service]
    handlers: list[Handler]
    _handler_of: dict[int, Handler]
    _imported: frozenset[str]

    def _find_handlers(self) -> None:
        for func in self.index.functions:
            if isinstance(func, ast.Lambda):
                continue
            handler = self._declared_handler(func)
            if handler is not None:
                self.handlers.append(handler)
                self._handler_of[id(func)] = handler
        self._find_class_handlers()

    def _declared_handler(self, func: DefNode) -> Handler | None:
        """An entry point declared by a decorator of ``func`` (a decorator method of a
        declaring object, or a decorator known by its qualified name)."""
        for decorator in func.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            named = self._entry_decorator(target)
            if named is not None:
                fw, role = named
                return Handler(
                    func=func, service=None, role=role,
                    name=(_handler_name(call) if call is not None else None) or func.name,
                    decorator=decorator, framework=fw,
                )
            if call is None or not isinstance(call.func, ast.Attribute):
                continue
            attr = call.func.attr
            if not any(attr in f.decorators for f in self.frameworks):
                continue
            service = self.service_of(call.func.value)
            owner = service.framework if service is not None else self._unresolved(func, call)
            if owner is None or attr not in owner.decorators:
                continue
            return Handler(
                func=func,
                service=service,
                role=owner.decorators[attr],
                name=_handler_name(call) or func.name,
                decorator=call,
                kind=_constant_keyword(call, "kind"),
                framework=owner,
            )
        return None

    def _entry_decorator(self, target: ast.expr) -> tuple[Framework, str] | None:
        if not any(fw.entry_decorators for fw in self.frameworks):
            return None
        qualname = self.resolver.qualname(target)
        if not qualname:
            return None
        for fw in self.frameworks:
            role = fw.entry_decorators.get(qualname)
            if role is not None:
                return fw, role
        return None

    def _find_class_handlers(self) -> None:
        """Methods of decorated classes (a ``@workflow.defn`` class's ``@workflow.run``)."""
        profiles = [fw for fw in self.frameworks if fw.entry_classes]
        if not profiles:
            return
        decided: dict[int, tuple[Framework, Mapping[str, str]] | None] = {}
        for func in self.index.functions:
            cls = scope_of(func).node
            if not isinstance(cls, ast.ClassDef) or not cls.decorator_list:
                continue
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if id(cls) not in decided:
                decided[id(cls)] = self._entry_class(cls, profiles)
            entry = decided[id(cls)]
            if entry is not None and id(func) not in self._handler_of:
                self._class_method_handler(entry[0], cls, func, entry[1])

    def _entry_class(
        self, cls: ast.ClassDef, profiles: list[Framework]
    ) -> tuple[Framework, Mapping[str, str]] | None:
        for decorator in cls.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            qualname = self.resolver.qualname(target) or ""
            for fw in profiles:
                if qualname in fw.entry_classes:
                    return fw, fw.entry_classes[qualname]
        return None

    def _class_method_handler(
        self, fw: Framework, cls: ast.ClassDef, func: DefNode, methods: Mapping[str, str]
    ) -> None:
        for decorator in func.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            # `@query.validator` style decorators name another handler's attribute
            qualname = self.resolver.qualname(target) or ""
            role = methods.get(qualname)
            if role is None and isinstance(target, ast.Attribute):
                role = methods.get(f"*.{target.attr}")
            if role is None:
                continue
            handler = Handler(
                func=func, service=None, role=role,
                name=(_handler_name(call) if call is not None else None) or func.name,
                decorator=decorator, framework=fw, cls=cls,
            )
            self.handlers.append(handler)
            self._handler_of[id(func)] = handler
            return

    def _unresolved(self, func: DefNode, decorator: ast.Call) -> Framework | None:
        """The framework of a decorator whose declaring object cannot be resolved (defined
        out of the tree): the context annotation tells, or an imported receiver in a module
        that imports the framework."""
        args = func.args.posonlyargs + func.args.args
        if not args:
            return None
        for fw in self.frameworks:
            if fw.context_position is None or fw.context_position >= len(args):
                continue
            if self._is_context_annotation(args[fw.context_position].annotation, fw):
                return fw
        receiver = decorator.func.value  # type: ignore[attr-defined]
        if not isinstance(receiver, ast.Name) or not isinstance(func, ast.AsyncFunctionDef):
            return None
        binding = self.resolver.binding(receiver)
        if binding is None or binding.kind is not Kind.IMPORT:
            return None
        attr = decorator.func.attr  # type: ignore[attr-defined]
        return next(
            (fw for fw in self.frameworks
             if fw.package in self._imported and attr in fw.decorators),
            None,
        )

    def service_of(self, expr: ast.expr, depth: int = 0) -> Service | None:
        """The service object an expression refers to, if it is one."""
        if depth > 8:
            return None
        cached = self.services.get(id(expr))
        if cached is not None:
            return cached
        service: Service | None = None
        if isinstance(expr, ast.Call):
            qualname = self.resolver.qualname(expr.func) or ""
            for fw in self.frameworks:
                if qualname in fw.services:
                    service = Service(
                        kind=fw.services[qualname],
                        name=_first_string(expr, "name"),
                        node=expr,
                        module=self.resolver.module_name,
                        framework=fw,
                    )
                    break
                if qualname in fw.service_wrappers and expr.args:
                    inner = self.service_of(expr.args[0], depth + 1)
                    if inner is not None:
                        service = Service(
                            inner.kind, inner.name, inner.node, (*inner.wrappers, qualname),
                            inner.module, inner.framework,
                        )
                    break
        elif isinstance(expr, ast.BoolOp):  # `service or restate.Service("x")`
            for value in expr.values:
                service = self.service_of(value, depth + 1)
                if service is not None:
                    break
        elif isinstance(expr, ast.Name):
            binding = self.resolver.binding(expr)
            if binding is not None:
                if binding.kind is Kind.PARAM:  # `service: restate.Service` parameter
                    annotation = binding.node.annotation  # type: ignore[attr-defined]
                    type_name = self.resolver.annotation_type(annotation) or ""
                    for fw in self.frameworks:
                        kind = fw.services.get(type_name)
                        if kind is not None:
                            service = Service(kind=kind, name=None, node=None, framework=fw)
                            break
                elif binding.kind is Kind.ASSIGN and binding.value is not None:
                    service = self.service_of(binding.value, depth + 1)
                elif binding.kind is Kind.IMPORT and self.find_service is not None:
                    absolute = self.resolver.absolute(binding)
                    service = self.find_service(absolute) if absolute else None
        elif isinstance(expr, ast.Attribute):
            attribute = self.resolver.self_attribute(expr)
            if attribute is not None and attribute.value is not None:
                service = self.service_of(attribute.value, depth + 1)
            elif self.find_service is not None:
                dotted = self.resolver.qualname(expr)
                service = self.find_service(dotted) if dotted else None
        if service is not None:
            self.services[id(expr)] = service
        return service

    def _is_context_annotation(
        self, annotation: ast.expr | None, fw: Framework | None = None
    ) -> bool:
        return self._annotated_framework(annotation, fw) is not None

    def _annotated_framework(
        self, annotation: ast.expr | None, only: Framework | None = None
    ) -> Framework | None:
        """The framework whose context type ``annotation`` names, if any."""
        if annotation is None:
            return None
        type_name = self.resolver.annotation_type(annotation)
        for fw in (only,) if only is not None else self.frameworks:
            if type_name in fw.context_types:
                return fw
        return None


def _first_string(call: ast.Call, keyword: str) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return _constant_keyword(call, keyword)


def _constant_keyword(call: ast.Call, keyword: str) -> str | None:
    for kw in call.keywords:
        if kw.arg == keyword and isinstance(kw.value, ast.Constant):
            value = kw.value.value
            return value if isinstance(value, str) else None
    return None


def _handler_name(decorator: ast.Call) -> str | None:
    return _first_string(decorator, "name")
