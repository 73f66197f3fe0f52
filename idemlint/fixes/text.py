"""Text-edit helpers for fix builders: indentation, parentheses, adding and removing call
arguments and dict items without disturbing comments or formatting."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import TYPE_CHECKING

from ..diagnostics import Edit, FixUnavailable
from ..scopes import Scope, is_primary_operand
from ..syntax import call_items
from .context import FixContext

if TYPE_CHECKING:  # libcst is imported only when a fix is built
    import libcst as cst

    from ..analysis import ModuleAnalysis

# == moved from checks/action_support.py / actions.py (actions family) ==


def comma() -> cst.Comma:
    """``, `` as libcst spells it."""
    import libcst as cst

    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def tight_equal() -> cst.AssignEqual:
    """``=`` without spaces, as in a keyword argument."""
    import libcst as cst

    return cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
    )


def as_positional(arg: cst.Arg) -> cst.Arg:
    """The argument without its ``keyword=``."""
    import libcst as cst

    return arg.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT)


def comma_joined(args: list[cst.Arg]) -> list[cst.Arg]:
    """Arguments separated by ``, `` (the last keeps its own trailing comma, if any)."""
    return [a.with_changes(comma=comma()) for a in args[:-1]] + args[-1:]


def keyword_to_positional(
    fx: FixContext, call: ast.Call, keyword: ast.keyword, slot: int
) -> list[Edit]:
    """Pass ``keyword``'s value positionally at index ``slot`` of ``call``'s arguments,
    keeping the other arguments' text and the call's trailing comma."""
    import libcst as cst

    node = fx.cst_expression(call)
    if not isinstance(node, cst.Call):
        raise FixUnavailable("not a call")
    args = list(node.args)
    last_comma = args[-1].comma
    index = next(
        (i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == keyword.arg),
        None,
    )
    if index is None:
        raise FixUnavailable("keyword not found")
    moved = args.pop(index)
    args.insert(slot, cst.Arg(value=moved.value))
    rebuilt: list[cst.Arg] = []
    for i, arg in enumerate(args):
        if i == len(args) - 1:
            rebuilt.append(arg.with_changes(comma=last_comma))
        elif isinstance(arg.comma, cst.Comma):
            rebuilt.append(arg)
        else:
            rebuilt.append(arg.with_changes(comma=comma()))
    return [fx.replace(call, fx.code(node.with_changes(args=rebuilt)))]



# == moved from checks/ingress_support.py (ingress/keys family) ==
def _offset(fx: FixContext, line: int, column: int) -> int:
    return fx.source.offset(line, column)


def append_to_brackets(fx: FixContext, node: ast.AST, items: list[ast.AST], text: str) -> Edit:
    """Add ``text`` as the last element of a call's arguments or a dict/list display."""
    source = fx.source.text
    _, _, end_line, end_col = fx.span(node)
    close = _offset(fx, end_line, end_col) - 1  # the closing bracket
    if not items:
        line, col = fx.source.position(close)
        return Edit(line, col, line, col, text)
    last = items[-1]
    _, _, last_line, last_col = fx.span(last)
    after = _offset(fx, last_line, last_col)
    gap = source[after:close]
    if "#" in gap:
        raise FixUnavailable("a comment follows the last element")
    stripped = gap.lstrip()
    if stripped.startswith(","):  # trailing comma
        comma = after + gap.index(",")
        if "\n" in gap:
            first_line, _, _, _ = fx.span(last)
            indent = re.match(r"[ \t]*", fx.source.line(first_line)).group(0)  # type: ignore[union-attr]
            insert = f"{fx.source.newline}{indent}{text},"
        else:
            insert = f" {text}"
        line, col = fx.source.position(comma + 1)
        return Edit(line, col, line, col, insert)
    line, col = fx.source.position(after)
    return Edit(line, col, line, col, f", {text}")


def _offset_of(module: ModuleAnalysis, node: ast.AST, end: bool) -> int:
    source = module.source
    line = (node.end_lineno if end else node.lineno) or 0  # type: ignore[attr-defined]
    col = (node.end_col_offset if end else node.col_offset) or 0  # type: ignore[attr-defined]
    return source.offset(line, source.char_column(line, col))


def comment_in_the_way(module: ModuleAnalysis, container: ast.AST, items: list[ast.AST],
                       item: ast.AST | None = None) -> bool:
    """Whether removing ``item`` (or, without it, appending after the last of ``items``) would
    delete or land inside a comment: such fixes are not offered."""
    text = module.source.text
    if item is None:
        if not items:
            return False
        start, end = _offset_of(module, items[-1], True), _offset_of(module, container, True)
        return "#" in text[start:end]
    index = next(i for i, n in enumerate(items) if n is item)
    if index > 0:
        start, end = _offset_of(module, items[index - 1], True), _offset_of(module, item, False)
    elif index + 1 < len(items):
        start, end = _offset_of(module, item, True), _offset_of(module, items[index + 1], False)
    else:
        return False
    return "#" in text[start:end]


def remove_argument(fx: FixContext, call: ast.Call, item: ast.AST) -> Edit:
    """Delete one argument (keyword) of a call with its separating comma."""
    source = fx.source.text
    items = call_items(call)
    index = next(i for i, n in enumerate(items) if n is item)
    line, col, end_line, end_col = fx.span(item)
    start, end = _offset(fx, line, col), _offset(fx, end_line, end_col)
    if index > 0:
        _, _, prev_line, prev_col = fx.span(items[index - 1])
        cut_from = _offset(fx, prev_line, prev_col)
        if "#" in source[cut_from:start]:
            raise FixUnavailable("a comment sits between the arguments")
        start = cut_from
    elif index + 1 < len(items):
        next_line, next_col, _, _ = fx.span(items[index + 1])
        cut_to = _offset(fx, next_line, next_col)
        if "#" in source[end:cut_to]:
            raise FixUnavailable("a comment sits between the arguments")
        end = cut_to
    else:
        gap = source[end:]
        stripped = gap.lstrip(" \t")
        if stripped.startswith(","):
            end += len(gap) - len(stripped) + 1
    first = fx.source.position(start)
    last = fx.source.position(end)
    return Edit(first[0], first[1], last[0], last[1], "")


def string_literal_like(original: str, value: str) -> str:
    """``value`` as a literal with the prefix and quotes of ``original`` (a plain string)."""
    match = re.match(r"^([rRuU]?)('''|\"\"\"|'|\")", original)
    if match is None:
        raise FixUnavailable("not a plain string literal")
    prefix, quote = match.groups()
    if not original.endswith(quote) or quote in value:
        raise FixUnavailable("unexpected string literal")
    return f"{prefix}{quote}{value}{quote}"



# == moved from checks/replacements.py (nondeterminism family) ==

def parenthesized(text: str, node: ast.AST, fx: FixContext) -> str:
    """``text`` replacing ``node``, parenthesized where only a primary may stand (the object
    of ``.attr``, ``[...]`` or ``(...)``) unless the node is already in parentheses."""
    if not is_primary_operand(node):
        return text
    line, col, end_line, end_col = fx.span(node)
    source = fx.source
    before = source.text[: source.offset(line, col)].rstrip()
    after = source.text[source.offset(end_line, end_col) :].lstrip()
    if before.endswith("(") and after.startswith(")"):
        return text  # already `( ... )`
    return f"({text})"


def statement_indent(fx: FixContext, statement: ast.stmt) -> str:
    """The indentation of a statement that starts its own line (room to insert one above)."""
    line, col, _, _ = fx.span(statement)
    prefix = fx.source.line(line)[:col]
    if prefix.strip():
        raise FixUnavailable("the statement does not start its line")
    return prefix


def indented_text(fx: FixContext, node: ast.AST, indent: str) -> str:
    """The node's text with its continuation lines indented one level more, for moving it
    into a new function body (unchanged if a multi-line string would change)."""
    text = fx.text(node)
    if "\n" not in text and "\r" not in text:
        return text
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    if any(t.type == tokenize.STRING and t.start[0] != t.end[0] for t in tokens):
        return text  # a multi-line string: its content must not change
    lines = text.splitlines(keepends=True)
    return lines[0] + "".join("    " + line if line.strip() else line for line in lines[1:])


def fresh_name(words: str, *scopes: Scope) -> str:
    """A private identifier made of the words of ``words`` (`client.get` -> `_client_get`),
    numbered until no binding of ``scopes`` has it."""
    parts = re.findall(r"[A-Za-z0-9]+", words)
    base = "_" + "_".join(parts).lower() if parts else "_action"
    taken: set[str] = set()
    for scope in scopes:
        taken.update(scope.bindings)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate



# == moved from checks/hygiene.py (hygiene family) ==
