"""Text-edit helpers for fix builders: indentation, parentheses, adding and removing call
arguments and dict items without disturbing comments or formatting."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..diagnostics import Edit, FixUnavailable

if TYPE_CHECKING:  # libcst is imported only when a fix is built
    import libcst as cst

    from .context import FixContext

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


# == moved from checks/replacements.py (nondeterminism family) ==


# == moved from checks/hygiene.py (hygiene family) ==
