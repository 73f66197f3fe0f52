"""Rule-code selectors (``IDL1``, ``IDL101``, ``ALL``): a leaf module, so configuration can
validate selectors without importing the rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

CODE = re.compile(r"^IDL\d{3}$")
_SELECTOR = re.compile(r"^IDL\d{0,3}$")


def is_valid_selector(selector: str) -> bool:
    return selector == "ALL" or bool(_SELECTOR.match(selector))


def expand_selector(selector: str, codes: Iterable[str]) -> set[str]:
    """Codes matched by a selector: a code prefix (``IDL1``, ``IDL10``), or ``ALL``."""
    if selector == "ALL":
        return set(codes)
    return {code for code in codes if code.startswith(selector)}


def select_codes(
    select: Iterable[str] | None,
    extend_select: Iterable[str],
    ignore: Iterable[str],
    default_enabled: Mapping[str, bool],
) -> set[str]:
    """The enabled codes: ``select`` (default: codes enabled by default), plus, minus.

    IDL001 (unreadable file) stays on unless ignored by its exact code.
    """
    codes = list(default_enabled)
    if select is None:
        enabled = {code for code, on in default_enabled.items() if on}
    else:
        enabled = set()
        for selector in select:
            enabled |= expand_selector(selector, codes)
    for selector in extend_select:
        enabled |= expand_selector(selector, codes)
    ignore = list(ignore)
    for selector in ignore:
        enabled -= {c for c in expand_selector(selector, codes) if c != "IDL001"}
    if "IDL001" not in ignore and "IDL001" in default_enabled:
        enabled.add("IDL001")
    return enabled
