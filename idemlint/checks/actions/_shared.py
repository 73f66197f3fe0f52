"""What the journaled-action rules (IDL2xx) share: the SDK tables they read, each action with
the frames its bodies run in (which arguments reach which parameters), whether an expression
inside an action is the handler's context, and the fix that forwards a call's arguments.

The function given to ``ctx.run_typed(name, action, options, *args, **kwargs)`` runs once; on
replay its journaled result is returned and the function is skipped.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, FixUnavailable
from ...fixes.context import FixContext
from ...knowledge import Framework, KnowledgeError
from ...model import Action, HandlerModel
from ...scopes import FUNCTION_NODES, Binding, FunctionNode, Kind
from ...syntax import is_method, param_default, positional_params, scope_within

# -- the SDK tables: `[tables.actions]` of the framework profile ----------------------------------


@dataclass(frozen=True)
class DeprecatedAction:
    """A deprecated journaled-action method and how it maps onto its replacement."""

    replacement: str  # the method to call instead
    params: tuple[str, ...]  # the deprecated method's parameters, in order
    options: Mapping[str, str]  # deprecated keyword -> field of the options object
    type_hint: str | None  # the parameter whose annotation picks the serializer


@dataclass(frozen=True)
class ActionTables:
    """Typed view of ``[tables.actions]`` (empty for a framework without them)."""

    options_type: str | None = None  # qualified name of the options object
    options_keyword: str | None = None  # the positional-only options parameter's name
    draws: frozenset[str] = frozenset()  # context methods drawing from the seeded generator
    scoping: frozenset[str] = frozenset()  # context methods returning a scoped context
    timers: frozenset[str] = frozenset()  # context methods starting a timer
    promise: str | None = None  # `ctx.<promise>(name).<promise_value>()` is a durable future
    promise_value: str | None = None
    renamed_options: Mapping[str, str] = field(default_factory=dict)  # ignored -> use instead
    sends: Mapping[str, str] = field(default_factory=dict)  # call -> its fire-and-forget send
    bounded_options: tuple[str, ...] = ()  # options fields that bound an action's retries
    deprecated: Mapping[str, DeprecatedAction] = field(default_factory=dict)

    @property
    def options_import(self) -> tuple[str, str] | None:
        """(module, name) that imports the options object."""
        if not self.options_type or "." not in self.options_type:
            return None
        module, _, name = self.options_type.rpartition(".")
        return module, name

    @classmethod
    def load(cls, raw: Mapping[str, Any], where: str = "tables.actions") -> ActionTables:
        deprecated = {
            method: DeprecatedAction(
                replacement=_string(spec, "replacement", f"{where}.deprecated.{method}") or method,
                params=tuple(_strings(spec, "params", f"{where}.deprecated.{method}")),
                options=_names(spec, "options", f"{where}.deprecated.{method}"),
                type_hint=_string(spec, "type_hint", f"{where}.deprecated.{method}"),
            )
            for method, spec in _names(raw, "deprecated", where, nested=True).items()
        }
        return cls(
            options_type=_string(raw, "options_type", where),
            options_keyword=_string(raw, "options_keyword", where),
            draws=frozenset(_strings(raw, "draws", where)),
            scoping=frozenset(_strings(raw, "scoping", where)),
            timers=frozenset(_strings(raw, "timers", where)),
            promise=_string(raw, "promise", where),
            promise_value=_string(raw, "promise_value", where),
            renamed_options=_names(raw, "renamed_options", where),
            sends=_names(raw, "sends", where),
            bounded_options=tuple(_strings(raw, "bounded_options", where)),
            deprecated=deprecated,
        )


def _string(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise KnowledgeError(f"{where}: `{key}` must be a string")
    return value


def _strings(raw: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeError(f"{where}: `{key}` must be a list of strings")
    return value


def _names(raw: Mapping[str, Any], key: str, where: str, nested: bool = False) -> dict[str, Any]:
    value = raw.get(key, {})
    kind = dict if nested else str
    if not isinstance(value, dict) or not all(isinstance(v, kind) for v in value.values()):
        raise KnowledgeError(f"{where}: `{key}` must be a table of {'tables' if nested else 'strings'}")
    return value


def tables(module: ModuleAnalysis) -> ActionTables:
    """The actions tables of the module's framework, read once per profile."""
    return module.kb.framework.view(_action_tables)


def _action_tables(framework: Framework) -> ActionTables:
    return ActionTables.load(framework.table("actions"), f"{framework.name}: tables.actions")


def is_options_call(module: ModuleAnalysis, expr: ast.AST) -> bool:
    """``RunOptions(...)``: the options object built in place."""
    options_type = tables(module).options_type
    return (
        options_type is not None
        and isinstance(expr, ast.Call)
        and module.resolver.qualname(expr.func) == options_type
    )


def options_spelling(fx: FixContext) -> tuple[str, list[Edit]]:
    """How to spell the options object in the fixed module, and the edits importing it."""
    where = tables(fx.module).options_import
    if where is None:
        raise FixUnavailable("the framework has no options object")
    return fx.import_name(*where)


# -- actions and the frames their bodies run in -----------------------------------------------


def action_label(action: Action) -> str:
    """How a finding names an action: its literal name, else where it starts."""
    name = action.name
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return f'`"{name.value}"`'
    return f"at line {action.call.lineno}"


@dataclass
class Frame:
    """A function running inside a journaled action, with the arguments bound to its
    parameters at the call site (each with the frame it is evaluated in; ``None`` is the
    handler code that starts the action)."""

    func: FunctionNode
    sources: dict[int, tuple[ast.expr, Frame | None]] = field(default_factory=dict)


def actions_with_frames(module: ModuleAnalysis) -> list[tuple[Action, list[Frame]]]:
    """Every journaled action of the module with its frames (computed once per module)."""
    return module.shared(_actions_with_frames)


def _actions_with_frames(module: ModuleAnalysis) -> list[tuple[Action, list[Frame]]]:
    model = module.model
    return [(action, action_frames(model, action)) for action in model.actions]


def action_frames(model: HandlerModel, action: Action) -> list[Frame]:
    """One frame per body of the action, with the parameters bound at the action site."""
    frames: list[Frame] = []
    expr = action.action
    for target in action.targets:
        frame = Frame(target)
        params = positional_params(target)
        by_name = {a.arg: a for a in (*params, *target.args.kwonlyargs)}
        index = 0
        direct = expr is not None and model.resolver.definition(expr) is target
        if direct and isinstance(expr, ast.Attribute) and is_method(target) and params:
            frame.sources[id(params[0])] = (expr.value, None)  # the bound instance
            index = 1
        if (
            direct
            and isinstance(expr, ast.Call)
            and model.resolver.qualname(expr.func) == "functools.partial"
        ):
            inner = expr.args[0] if expr.args else None
            if isinstance(inner, ast.Attribute) and is_method(target) and params:
                frame.sources[id(params[0])] = (inner.value, None)
                index = 1
            index = _bind(frame, params, by_name, expr.args[1:], expr.keywords, index)
        if direct:
            positional, keywords = forwarded_arguments(action)
            _bind(frame, params, by_name, positional, keywords, index)
        frames.append(frame)
    return frames


def forwarded_arguments(action: Action) -> tuple[list[ast.expr], list[ast.keyword]]:
    """Arguments the SDK passes to the action: ``run_typed``'s extra arguments, ``run``'s
    ``args=(...)``."""
    spec, call = action.spec, action.call
    if spec.forwards:
        start = (spec.options if spec.options is not None else spec.action) + 1
        return list(call.args[start:]), list(call.keywords)
    if spec.args_keyword:
        for keyword in call.keywords:
            if keyword.arg == spec.args_keyword and isinstance(keyword.value, ast.Tuple):
                return list(keyword.value.elts), []
    return [], []


def forwards_nothing(action: Action) -> bool:
    """A forwarding action method (``run_typed``) given no arguments for the action yet."""
    positional, keywords = forwarded_arguments(action)
    return not positional and not keywords and action.spec.forwards


def _bind(
    frame: Frame,
    params: list[ast.arg],
    by_name: dict[str, ast.arg],
    args: list[ast.expr],
    keywords: list[ast.keyword],
    index: int,
    source_frame: Frame | None = None,
) -> int:
    for arg in args:
        if isinstance(arg, ast.Starred):
            return index + len(args)
        if index < len(params):
            frame.sources[id(params[index])] = (arg, source_frame)
        index += 1
    for keyword in keywords:
        if keyword.arg in by_name:
            frame.sources[id(by_name[keyword.arg])] = (keyword.value, source_frame)
    return index


def call_frame(call: ast.Call, func: FunctionNode, caller: Frame) -> Frame:
    """The frame of ``func`` called by ``call`` from code running in ``caller``."""
    frame = Frame(func)
    params = positional_params(func)
    by_name = {a.arg: a for a in (*params, *func.args.kwonlyargs)}
    index = 0
    if isinstance(call.func, ast.Attribute) and is_method(func) and params:
        frame.sources[id(params[0])] = (call.func.value, caller)
        index = 1
    _bind(frame, params, by_name, call.args, call.keywords, index, caller)
    return frame


def parameter_value(binding: Binding, frame: Frame) -> tuple[ast.AST, Frame | None] | None:
    """What a parameter of a function running in ``frame`` holds: the argument the call (or
    run_typed's forwarding) bound to it, with the frame that argument is evaluated in; else
    its default, evaluated in ``frame``; None when neither is known."""
    arg = binding.node
    assert isinstance(arg, ast.arg)
    source = frame.sources.get(id(arg))
    if source is not None:
        return source
    owner = binding.scope.node
    if isinstance(owner, FUNCTION_NODES):
        default = param_default(owner, arg)
        if default is not None:
            return default, frame
    return None


def local_value(binding: Binding, frame: Frame) -> tuple[ast.AST, Frame | None] | None:
    """What a name bound inside the frame's function stands for: a parameter's argument (or
    default), or the name/attribute an alias assignment copies; None when neither."""
    if binding.kind is Kind.PARAM:
        return parameter_value(binding, frame)
    if binding.kind is Kind.ASSIGN and isinstance(binding.value, (ast.Name, ast.Attribute)):
        return binding.value, frame
    return None


def outer_context(
    module: ModuleAnalysis, expr: ast.AST | None, frame: Frame | None, depth: int = 0
) -> bool:
    """Whether ``expr``, evaluated in ``frame``, is the Restate context of the handler."""
    model = module.model
    if expr is None or depth > 10:
        return False
    if frame is None:
        return model.is_context(expr)
    if isinstance(expr, ast.Name):
        binding = model.resolver.binding(expr)
        if binding is None:
            return False
        if not scope_within(binding.scope, frame.func):
            return model.is_context(expr)
        if binding.kind is Kind.PARAM:
            value = parameter_value(binding, frame)
            if value is not None:
                return outer_context(module, value[0], value[1], depth + 1)
            if binding.scope.node is not frame.func and isinstance(binding.node, ast.arg):
                # a function nested in the action: the model follows calls to it
                return model.is_context_param(binding.node)
            return False
        if binding.kind is Kind.ASSIGN and binding.value is not None:
            return outer_context(module, binding.value, frame, depth + 1)
        return False
    if isinstance(expr, ast.Attribute):
        if isinstance(expr.value, ast.Name):
            base = model.resolver.binding(expr.value)
            if (
                base is not None
                and base.kind is Kind.PARAM
                and scope_within(base.scope, frame.func)
                and model.resolver.self_attribute(expr) is None
            ):
                return False
        return model.is_context(expr)
    if isinstance(expr, ast.Call):
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in tables(module).scoping:
            return outer_context(module, expr.func.value, frame, depth + 1)
        return model.is_context(expr)  # the framework's contextvar getters: the handler's context
    if isinstance(expr, ast.Await):
        return outer_context(module, expr.value, frame, depth + 1)
    return False


# -- the fix that passes a function and forwards its call's arguments (IDL202, IDL203) --------


def forward_edits(
    fx: FixContext, action: Action, replaced: ast.AST, func: ast.expr, call: ast.Call
) -> list[Edit]:
    """Replace the action argument ``replaced`` by ``func`` and forward ``call``'s arguments
    through ``run_typed`` (inserting ``RunOptions()`` when positional arguments follow)."""
    positional = [fx.text(a) for a in call.args]
    keywords = [fx.text(k) for k in call.keywords]
    edits: list[Edit] = []
    if action.options is not None:
        edits.append(fx.replace(replaced, fx.text(func)))
        if positional or keywords:
            _, _, end_line, end_col = fx.span(action.options)
            text = "".join(", " + p for p in (*positional, *keywords))
            edits.append(Edit(end_line, end_col, end_line, end_col, text))
        return edits
    parts = [fx.text(func)]
    if positional:
        options, edits = options_spelling(fx)
        parts.append(f"{options}()")
    parts.extend(positional)
    parts.extend(keywords)
    return [*edits, fx.replace(replaced, ", ".join(parts))]


# -- activities started by reference: `[tables.activities]` of the framework profile ------------


@dataclass(frozen=True)
class ActivityTables:
    """Typed view of ``[tables.activities]``: how a framework whose journaled units are
    decorated functions (activities) starts them, and which of its calls need its event loop."""

    starts: Mapping[str, str] = field(default_factory=dict)  # qualname -> "execute" | "start"
    timeouts: tuple[str, ...] = ()  # keywords of which a start needs at least one
    execute: str | None = None  # qualname of the call that runs an activity and waits for it
    awaitables: frozenset[str] = frozenset()  # module functions returning a coroutine
    # a coroutine function that waits for completion -> the call that starts without waiting
    start_instead: Mapping[str, str] = field(default_factory=dict)
    loop_bound: frozenset[str] = frozenset()  # functions that raise outside the workflow loop
    heartbeat: frozenset[str] = frozenset()  # calls that record an activity heartbeat
    heartbeat_keyword: str | None = None  # the start keyword that needs heartbeats
    retry_keyword: str | None = None  # the start keyword taking the retry policy
    retry_policy: str | None = None  # qualname of the retry policy type
    retry_limit: str | None = None  # the policy field bounding the attempts
    retry_window: str | None = None  # the start keyword bounding all attempts in time

    @classmethod
    def load(cls, raw: Mapping[str, Any], where: str = "tables.activities") -> ActivityTables:
        starts = _names(raw, "starts", where)
        if any(kind not in ("execute", "start") for kind in starts.values()):
            raise KnowledgeError(f"{where}: `starts` values must be \"execute\" or \"start\"")
        return cls(
            starts=starts,
            timeouts=tuple(_strings(raw, "timeouts", where)),
            execute=_string(raw, "execute", where),
            awaitables=frozenset(_strings(raw, "awaitables", where)),
            start_instead=_names(raw, "start_instead", where),
            loop_bound=frozenset(_strings(raw, "loop_bound", where)),
            heartbeat=frozenset(_strings(raw, "heartbeat", where)),
            heartbeat_keyword=_string(raw, "heartbeat_keyword", where),
            retry_keyword=_string(raw, "retry_keyword", where),
            retry_policy=_string(raw, "retry_policy", where),
            retry_limit=_string(raw, "retry_limit", where),
            retry_window=_string(raw, "retry_window", where),
        )


def activity_tables(framework: Framework | None) -> ActivityTables:
    """The activities tables of one framework (empty for none), read once per profile."""
    return ActivityTables() if framework is None else framework.view(_activity_tables)


def _activity_tables(framework: Framework) -> ActivityTables:
    return ActivityTables.load(framework.table("activities"), f"{framework.name}: tables.activities")


def activity_starts(module: ModuleAnalysis) -> list[tuple[ast.Call, str, Framework]]:
    """Every call in the module that starts an activity by reference, with its kind
    ("execute" or "start") and framework (computed once per module)."""
    return module.shared(_activity_starts)


def _activity_starts(module: ModuleAnalysis) -> list[tuple[ast.Call, str, Framework]]:
    views = [(fw, activity_tables(fw)) for fw in module.model.frameworks]
    views = [(fw, view) for fw, view in views if view.starts]
    found: list[tuple[ast.Call, str, Framework]] = []
    if views:
        for call in module.indexer.calls:
            qualname = module.resolver.qualname(call.func)
            if not qualname:
                continue
            for fw, view in views:
                kind = view.starts.get(qualname)
                if kind is not None:
                    found.append((call, kind, fw))
                    break
    return found


def keyword_value(call: ast.Call, name: str) -> ast.expr | None:
    """The value passed as keyword ``name`` (None if absent)."""
    return next((k.value for k in call.keywords if k.arg == name), None)


def has_double_star(call: ast.Call) -> bool:
    """``f(**options)``: any keyword may be among them."""
    return any(k.arg is None for k in call.keywords)
