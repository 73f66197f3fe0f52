"""Every rule's VALID/INVALID examples, run as tests (Fixit-style).

For an INVALID example: the rule reports exactly at the expected positions; if the example
gives the fixed text, ``--fix`` produces exactly that text, fixing twice equals fixing once,
the result parses, and re-checking it finds nothing fixable left for that rule.
"""

from __future__ import annotations

import ast

import pytest

from idemlint.registry import Invalid, Rule, Valid, all_rules, iter_examples
from idemlint.testing import fix_code, lint_code, settings_for

EXAMPLES = list(iter_examples(all_rules()))


def _id(item: tuple[type[Rule], Valid | Invalid, int]) -> str:
    rule, example, index = item
    kind = "valid" if isinstance(example, Valid) else "invalid"
    return f"{rule.code}-{kind}-{index}"


def _settings(rule: type[Rule], example: Valid | Invalid):  # type: ignore[no-untyped-def]
    config = {"select": [rule.code], **example.config}
    return settings_for(config)


@pytest.mark.parametrize("item", EXAMPLES, ids=[_id(e) for e in EXAMPLES])
def test_example(item: tuple[type[Rule], Valid | Invalid, int]) -> None:
    rule, example, _ = item
    settings = _settings(rule, example)
    found = [f for f in lint_code(example.code, settings) if f.code == rule.code]
    if isinstance(example, Valid):
        assert found == [], f"unexpected findings: {[(f.line, f.column, f.message) for f in found]}"
        return
    assert [(f.line, f.column) for f in found] == list(example.expected), [
        (f.line, f.column, f.message) for f in found
    ]
    if example.message is not None:
        for finding in found:
            assert example.message in finding.message
    if example.fixed is None:
        offered = [f for f in found if f.fix is not None and (
            f.fix.applicability == "safe" or example.unsafe)]
        assert offered == [], "the example says no fix is offered"
        return
    fixed = fix_code(example.code, settings, unsafe=example.unsafe, codes={rule.code})
    assert fixed == example.fixed
    ast.parse(fixed)
    assert fix_code(fixed, settings, unsafe=example.unsafe, codes={rule.code}) == fixed
    left = [
        f for f in lint_code(fixed, settings)
        if f.code == rule.code and f.fix is not None
        and (f.fix.applicability == "safe" or example.unsafe)
    ]
    assert left == [], [(f.line, f.column, f.message) for f in left]


def test_every_rule_has_examples() -> None:
    for code, rule in all_rules().items():
        if code == "IDL001":
            assert rule.INVALID, code
            continue
        assert rule.VALID, f"{code} has no VALID examples"
        assert rule.INVALID, f"{code} has no INVALID examples"
        if rule.fix_availability != "none":
            assert any(e.fixed is not None for e in rule.INVALID), f"{code}: no fix example"
