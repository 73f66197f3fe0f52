"""IDL506 invalid-workflow-definition."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ...analysis import ModuleAnalysis
from ...diagnostics import Finding
from ...knowledge import Framework
from ...registry import Invalid, Rule, Valid
from ...scopes import FUNCTION_NODES, scope_of
from ._shared import hygiene_tables

DefNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class _Spec:
    """``[tables.hygiene.definition]``: the roles and names the SDK validates."""

    run: str
    init: str
    init_method: str
    update: str
    validator: str
    dynamic_keyword: str
    dynamic_run_type: tuple[str, ...]
    dynamic_config: str

    @classmethod
    def read(cls, table: Mapping[str, Any]) -> _Spec | None:
        try:
            return cls(
                run=str(table["run_role"]), init=str(table["init_role"]),
                init_method=str(table["init_method"]), update=str(table["update_role"]),
                validator=str(table["validator_role"]),
                dynamic_keyword=str(table["dynamic_keyword"]),
                dynamic_run_type=tuple(table["dynamic_run_type"]),
                dynamic_config=str(table["dynamic_config"]),
            )
        except KeyError:
            return None


class InvalidWorkflowDefinition(Rule):
    """
    ## What it does
    Reports a workflow class the SDK rejects when the class is defined (so when its module is
    imported by the worker, or when the function defining it runs):
    - no `@workflow.run` method (on the class or on a base class of the module), or several;
    - a `@workflow.run` method that is not `async def`;
    - `@workflow.run` only on a base class: the run method must be defined (or overridden, with
      the decorator) on the `@workflow.defn` class itself;
    - a `@workflow.defn` class defined inside a function or inside another class;
    - `@workflow.init` on a method other than `__init__`, or an `__init__` whose parameters
      differ from the run method's (kind, default, annotation; names may differ);
    - an update validator whose parameters differ from its update's;
    - a dynamic workflow (`@workflow.defn(dynamic=True)`) whose run does not take exactly one
      parameter annotated `collections.abc.Sequence[RawValue]` (`typing.Sequence[...]` does not
      compare equal and is rejected too);
    - `@workflow.dynamic_config` on a workflow that is not dynamic.

    Base classes imported from other modules are not looked into (nothing is reported that
    depends on them).

    ## Why is this bad?
    `@workflow.defn` validates the class as it is defined (`_Definition._apply_to_class` in
    `temporalio/workflow/_definition.py`), `@workflow.run` and `@workflow.init` validate their
    function, and a dynamic workflow's run signature is checked in `_Definition.__post_init__`:
    each raises `ValueError` (or `TypeError`), so the worker module does not even import. This
    rule says so in the editor, before a deploy.

    ## Use instead
    One `@workflow.run async def` on the `@workflow.defn` class, at module level; an
    `@workflow.init` `__init__` taking exactly the run method's parameters.

    ## Fix safety
    No fix.

    ## Options
    None.

    ## Temporal
    Temporal only. Each check is the one `temporalio/workflow/_definition.py` (temporalio 1.35)
    performs: `run` ("Workflow run method must be an async function", "Local classes
    unsupported"), `init` ("may only be used on the __init__ method"), `_apply_to_class`
    ("Missing @workflow.run method", "Multiple @workflow.run methods", "@workflow.run method ...
    must be defined on ..." — `_is_unbound_method_on_cls` compares the method's `__qualname__`
    with the class's `__name__`, which rejects a class nested in another class too — "defined on
    ... but not on the override", "@workflow.init and @workflow.run method parameters do not
    match" via `_parameters_identical_up_to_naming`, "Update validator method ... parameters do
    not match", "@workflow.dynamic_config can only be used in dynamic workflows"), and
    `__post_init__` ("Dynamic workflow must accept a single Sequence[temporalio.common.RawValue]").
    """

    code = "IDL506"
    name = "invalid-workflow-definition"
    summary = "Workflow class the SDK rejects when it is defined"
    severity = "error"
    frameworks = ("temporal",)
    VALID = [
        Valid("""
            from collections.abc import Sequence

            from temporalio import workflow
            from temporalio.common import RawValue


            class Base:
                @workflow.signal
                def ping(self) -> None:
                    self.pinged = True


            @workflow.defn
            class Greeter(Base):
                @workflow.init
                def __init__(self, name: str, times: int = 1) -> None:
                    self.name = name
                    self.pinged = False

                @workflow.run
                async def run(self, who: str, count: int = 1) -> str:
                    return who * count

                @workflow.update
                async def rename(self, name: str) -> None:
                    self.name = name

                @rename.validator
                def check_rename(self, new_name: str) -> None:
                    if not new_name:
                        raise ValueError("empty")


            @workflow.defn(dynamic=True)
            class Anything:
                @workflow.run
                async def run(self, args: Sequence[RawValue]) -> None:
                    return None

                @workflow.dynamic_config
                def config(self) -> workflow.DynamicWorkflowConfig:
                    return workflow.DynamicWorkflowConfig()
            """, note="names may differ; an inherited signal; a dynamic workflow", doc=True),
    ]
    INVALID = [
        Invalid(
            """
            from temporalio import workflow


            @workflow.defn
            class Greeter:
                @workflow.run
                def run(self, name: str) -> str:
                    return f"Hello {name}"
            """,
            ((7, 5),),
            message="`@workflow.run` method `run` must be `async def`",
            builds=False,
            doc=True,
        ),
        Invalid(
            """
            import temporalio.workflow as wf


            class Base:
                @wf.run
                async def run(self) -> None:
                    return None


            @wf.defn
            class OnlyInherited(Base):
                pass


            @wf.defn
            class Nothing:
                @wf.signal
                def poke(self) -> None:
                    return None


            @wf.defn
            class Twice:
                @wf.run
                async def first(self) -> None:
                    return None

                @wf.run
                async def second(self) -> None:
                    return None
            """,
            ((11, 1), (16, 1), (29, 5)),
            builds=False,
            note="aliased: run only on a base class, no run, two runs",
        ),
        Invalid(
            """
            from temporalio.workflow import defn, init, run, update


            @defn
            class Order:
                @init
                def __init__(self, order_id: str) -> None:
                    self.order_id = order_id

                @run
                async def execute(self, order_id: int) -> str:
                    return self.order_id

                @update
                async def amend(self, line: str) -> None:
                    return None

                @amend.validator
                def check(self, line: str, strict: bool) -> None:
                    return None
            """,
            ((7, 5), (19, 5)),
            builds=False,
            note="from-imported: init/run and validator/update parameters differ",
        ),
        Invalid(
            """
            import typing

            from temporalio import workflow
            from temporalio.common import RawValue


            def make() -> type:
                @workflow.defn
                class Local:
                    @workflow.run
                    async def run(self) -> None:
                        return None

                return Local


            class Outer:
                @workflow.defn
                class Inner:
                    @workflow.run
                    async def run(self) -> None:
                        return None


            @workflow.defn(dynamic=True)
            class Dynamic:
                @workflow.run
                async def run(self, args: typing.Sequence[RawValue]) -> None:
                    return None


            @workflow.defn
            class Configured:
                @workflow.run
                async def run(self) -> None:
                    return None

                @workflow.dynamic_config
                def config(self) -> workflow.DynamicWorkflowConfig:
                    return workflow.DynamicWorkflowConfig()

                @workflow.init
                def setup(self) -> None:
                    return None
            """,
            ((9, 5), (19, 5), (28, 5), (39, 5), (43, 5)),
            builds=False,
            note="nested in a function and in a class, dynamic run signature, dynamic_config "
            "on a named workflow, init not on __init__",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        for fw in module.model.frameworks:
            if fw.name not in self.frameworks or not fw.entry_classes:
                continue
            spec = _Spec.read(hygiene_tables(module, fw).definition)
            if spec is None:
                continue
            checker = _Checker(module, fw, spec)
            for node in module.nodes:
                if isinstance(node, ast.ClassDef):
                    for where, message in checker.problems(node):
                        yield module.finding(
                            self, where, message,
                            detail=(
                                "The SDK validates a workflow class when it is defined and "
                                "raises, so the module does not import (or the function "
                                "defining the class fails)."
                            ),
                        )


class _Checker:
    def __init__(self, module: ModuleAnalysis, fw: Framework, spec: _Spec) -> None:
        self.module = module
        self.fw = fw
        self.spec = spec
        self.resolver = module.resolver
        self.future_annotations = any(
            isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
            and any(a.name == "annotations" for a in stmt.names)
            for stmt in module.tree.body
        )

    # -- what the class is -----------------------------------------------------------------
    def _decorator(self, cls: ast.ClassDef) -> tuple[ast.expr, Mapping[str, str]] | None:
        for decorator in cls.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            methods = self.fw.entry_classes.get(self.resolver.qualname(target) or "")
            if methods is not None:
                return decorator, methods
        return None

    def _roles(self, cls: ast.ClassDef, methods: Mapping[str, str]) -> list[tuple[str, DefNode,
                                                                                   ast.expr]]:
        """(role, method, decorator) of the methods of ``cls`` declaring a handler."""
        out = []
        for item in cls.body:
            if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in item.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                role = methods.get(self.resolver.qualname(target) or "")
                if role is None and isinstance(target, ast.Attribute):
                    role = methods.get(f"*.{target.attr}")
                if role is not None:
                    out.append((role, item, decorator))
                    break
        return out

    def _bases(self, cls: ast.ClassDef, depth: int = 0) -> list[ast.ClassDef] | None:
        """The local ancestors of ``cls`` (None: one of them is not known)."""
        out: list[ast.ClassDef] = []
        for base in cls.bases:
            if self.resolver.qualname(base) == "builtins.object":
                continue
            definition = self.resolver.definition(base)
            if not isinstance(definition, ast.ClassDef) or depth > 8:
                return None
            above = self._bases(definition, depth + 1)
            if above is None:
                return None
            out.extend([definition, *above])
        if cls.keywords:
            return None  # a metaclass or other class arguments
        return out

    # -- the checks --------------------------------------------------------------------------
    def problems(self, cls: ast.ClassDef) -> Iterator[tuple[ast.AST, str]]:
        found = self._decorator(cls)
        if found is None:
            return
        decorator, methods = found
        spec = self.spec
        owner = scope_of(cls).node
        if isinstance(owner, FUNCTION_NODES):
            yield cls, (f"workflow class `{cls.name}` is defined inside a function; the SDK "
                        "accepts only module-level workflow classes")
        elif isinstance(owner, ast.ClassDef):
            yield cls, (f"workflow class `{cls.name}` is nested in class `{owner.name}`; the "
                        "SDK accepts only module-level workflow classes")
        roles = self._roles(cls, methods)
        runs = [(func, d) for role, func, d in roles if role == spec.run]
        run_names = list(dict.fromkeys(func.name for func, _ in runs))
        for func, _ in runs:
            if isinstance(func, ast.FunctionDef):
                yield func, f"`@workflow.run` method `{func.name}` must be `async def`"
        if len(run_names) > 1:
            later = [func for func, _ in runs if func.name != run_names[0]]
            yield later[0], (f"several `@workflow.run` methods ({', '.join(run_names)}); a "
                             "workflow has exactly one")
        bases = self._bases(cls)
        if bases is not None:
            inherited = [func for base in bases
                         for role, func, _ in self._roles(base, methods) if role == spec.run]
            if not runs and not inherited:
                yield cls, f"workflow class `{cls.name}` has no `@workflow.run` method"
            for func in inherited:
                if func.name not in run_names:
                    yield cls, (f"`@workflow.run` is on a base class's `{func.name}` only; "
                                f"define it on `{cls.name}` with the decorator")
                    break
        dynamic = self._dynamic(decorator)
        run = runs[0][0] if runs else None
        for role, func, deco in roles:
            if role == spec.init:
                if func.name != spec.init_method:
                    yield func, (f"`@workflow.init` is on `{func.name}`; it may only decorate "
                                 f"`{spec.init_method}`")
                elif run is not None and not self._same_parameters(func, run):
                    yield func, (f"`{func.name}` and `@workflow.run` `{run.name}` take different "
                                 "parameters; with `@workflow.init` they must match")
            elif role == spec.validator:
                update = self._validated(cls, deco, roles)
                if update is not None and not self._same_parameters(func, update):
                    yield func, (f"validator `{func.name}` and update `{update.name}` take "
                                 "different parameters")
        if dynamic and run is not None and not self._dynamic_signature(run):
            yield run, ("a dynamic workflow's run must take one parameter annotated "
                        "`collections.abc.Sequence[RawValue]`")
        if not dynamic:
            for item in cls.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    self._names(d, spec.dynamic_config) for d in item.decorator_list
                ):
                    yield item, (f"`{item.name}` configures a dynamic workflow, but "
                                 f"`{cls.name}` is not dynamic")

    def _names(self, decorator: ast.expr, qualname: str) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return self.resolver.qualname(target) == qualname

    def _dynamic(self, decorator: ast.expr) -> bool:
        if not isinstance(decorator, ast.Call):
            return False
        return any(
            k.arg == self.spec.dynamic_keyword and isinstance(k.value, ast.Constant)
            and k.value.value is True
            for k in decorator.keywords
        )

    def _validated(
        self, cls: ast.ClassDef, decorator: ast.expr, roles: list[tuple[str, DefNode, ast.expr]]
    ) -> DefNode | None:
        """The update a ``@<update>.validator`` decorator validates."""
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if not isinstance(target, ast.Attribute) or not isinstance(target.value, ast.Name):
            return None
        name = target.value.id
        return next((func for role, func, _ in roles
                     if role == self.spec.update and func.name == name), None)

    def _dynamic_signature(self, run: DefNode) -> bool:
        args = run.args
        params = [*args.posonlyargs, *args.args][1:]
        if args.vararg or args.kwarg or args.kwonlyargs or len(params) != 1:
            return False
        annotation = params[0].annotation
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            return True  # a string annotation: not resolved here
        if not isinstance(annotation, ast.Subscript):
            return False
        sequence, item = self.spec.dynamic_run_type
        return (self.resolver.qualname(annotation.value) == sequence
                and self.resolver.qualname(annotation.slice) == item)

    # -- parameters, as `_parameters_identical_up_to_naming` compares them -------------------
    def _same_parameters(self, a: DefNode, b: DefNode) -> bool:
        return self._parameters(a) == self._parameters(b)

    def _parameters(self, func: DefNode) -> list[tuple[str, str | None, str | None]]:
        args = func.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults.extend(args.defaults)
        out = []
        for i, arg in enumerate(positional):
            kind = "posonly" if i < len(args.posonlyargs) else "positional"
            out.append((kind, self._annotation(arg.annotation), _text(defaults[i])))
        if args.vararg is not None:
            out.append(("varargs", self._annotation(args.vararg.annotation), None))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            out.append(("kwonly", self._annotation(arg.annotation), _text(default)))
        if args.kwarg is not None:
            out.append(("varkw", self._annotation(args.kwarg.annotation), None))
        return out

    def _annotation(self, annotation: ast.expr | None) -> str | None:
        if annotation is None:
            return None
        if not self.future_annotations and isinstance(annotation, (ast.Name, ast.Attribute)):
            qualname = self.resolver.qualname(annotation)
            if qualname is not None:
                return qualname  # the same object however it is spelled
        return ast.unparse(annotation)


def _text(node: ast.expr | None) -> str | None:
    return None if node is None else ast.unparse(node)
