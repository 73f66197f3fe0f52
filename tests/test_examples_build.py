"""Rule examples, their fixed versions, and the bundled example service are real Restate code:
they import, and ``restate.app`` accepts their services (restate-sdk installed for tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from idemlint.registry import Invalid, Valid, all_rules, iter_examples

from .sdk_build import build_app

ROOT = Path(__file__).resolve().parent.parent
CASES: list[tuple[str, str]] = []
for rule, example, index in iter_examples(all_rules()):
    if rule.code in ("IDL001", "IDL002"):  # unparsable on purpose / not about services
        continue
    kind = "valid" if isinstance(example, Valid) else "invalid"
    if isinstance(example, Invalid) and not example.builds:  # rejected by the SDK on purpose
        continue
    CASES.append((f"{rule.code}-{kind}-{index}", example.code))
    if isinstance(example, Invalid) and example.fixed is not None:
        CASES.append((f"{rule.code}-{kind}-{index}-fixed", example.fixed))


@pytest.mark.parametrize(("name", "code"), CASES, ids=[c[0] for c in CASES])
def test_example_builds_with_the_sdk(name: str, code: str, tmp_path: Path) -> None:
    """Every example (and every fixed text) runs as a module (clients that are not installed
    are stubbed) and ``restate.app`` accepts the services it defines at module level."""
    build_app(code, tmp_path)


def test_bundled_example_service_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import restate

    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    app_module = importlib.import_module("shop.app")
    try:
        services = {
            id(value): value
            for name in ("shop.checkout", "shop.cart", "shop.signup")
            for value in vars(importlib.import_module(name)).values()
            if isinstance(value, (restate.Service, restate.VirtualObject, restate.Workflow))
        }
        assert len(services) == 3
        assert callable(app_module.app)
    finally:
        for name in [n for n in sys.modules if n == "shop" or n.startswith("shop.")]:
            del sys.modules[name]
