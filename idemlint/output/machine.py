"""Machine formats: ``json`` (the contract: an array of findings) and ``json-lines``."""

from __future__ import annotations

import json

from . import Report, register


@register("json")
def as_json(report: Report) -> str:
    return json.dumps([f.to_json() for f in report.findings], indent=2) + "\n"


@register("json-lines")
def as_json_lines(report: Report) -> str:
    return "".join(json.dumps(f.to_json()) + "\n" for f in report.findings)
