"""Text-edit helpers for fix builders: indentation, parentheses, adding and removing call
arguments and dict items without disturbing comments or formatting."""

from __future__ import annotations

import ast
import io
import re
import tokenize

from ..diagnostics import FixUnavailable
from ..scopes import Scope, is_primary_operand
from .context import FixContext

# == moved from checks/action_support.py / actions.py (actions family) ==


# == moved from checks/ingress_support.py (ingress/keys family) ==


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
