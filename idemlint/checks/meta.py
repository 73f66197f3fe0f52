"""IDL001 (a file that cannot be analysed) and IDL002 (a ``# noqa`` that suppresses nothing)."""

from __future__ import annotations

from collections.abc import Iterable

from ..analysis import ModuleAnalysis
from ..diagnostics import Edit, Finding, Fix
from ..fixes.context import FixContext
from ..noqa import Directive, Suppressions, without_codes
from ..registry import Invalid, Rule, Valid, all_rules, register
from ..source import LoadError


@register
class FileNotAnalysable(Rule):
    code = "IDL001"
    name = "file-not-analysable"
    summary = "File cannot be read, decoded or parsed"
    requires = "passive"
    VALID = [Valid("x = 1\n")]
    INVALID = [
        Invalid("import restate\ndef broken(:\n    pass\n", ((2, 12),), message="syntax error"),
    ]

    def load_error(self, path: str, error: LoadError) -> Finding:
        return Finding(
            code=self.code,
            message=error.message,
            path=path,
            line=error.line,
            column=error.column,
            end_line=error.line,
            end_column=error.column,
            severity="error",
        )

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        return ()


_ALL_ENABLED = {"select": ["ALL"]}


@register
class UnusedNoqa(Rule):
    code = "IDL002"
    name = "unused-noqa"
    summary = "A `# noqa: IDLxxx` directive that suppresses nothing"
    severity = "warning"
    requires = "suppressions"
    fix_availability = "always"
    VALID = [
        Valid(
            config=_ALL_ENABLED,
            code="import time\nimport restate\n\nsvc = restate.Service('S')\n\n\n@svc.handler()\n"
            "async def h(ctx: restate.Context) -> float:\n"
            "    return time.time()  # noqa: IDL101\n",
        ),
        Valid("x = 1  # noqa: E501\n", note="codes of other tools are not ours to judge"),
        Valid("x = 1  # noqa\n", note="a bare noqa may serve another tool"),
        Valid("s = '# noqa: IDL101'\n", note="text in a string is not a comment"),
    ]
    INVALID = [
        Invalid(
            "import restate\nx = 1  # noqa: IDL101\n",
            ((2, 8),),
            fixed="import restate\nx = 1\n",
            config=_ALL_ENABLED,
        ),
        Invalid(
            "import restate\nx = 1  # noqa: E501, IDL103\n",
            ((2, 8),),
            fixed="import restate\nx = 1  # noqa: E501\n",
            config=_ALL_ENABLED,
        ),
        Invalid(
            "import restate\nx = 1  # noqa: IDL999\n",
            ((2, 8),),
            message="unknown",
            fixed="import restate\nx = 1\n",
        ),
    ]

    def check(self, module: ModuleAnalysis) -> Iterable[Finding]:
        return ()

    def suppressions(
        self, module: ModuleAnalysis, suppressions: Suppressions, enabled: set[str]
    ) -> Iterable[Finding]:
        known = all_rules()
        for directive in suppressions.lines.values():
            if directive.codes is None:
                continue
            unknown = [c for c in directive.codes if c.startswith("IDL") and c not in known]
            unused = [
                c for c in directive.codes
                if c in known and c in enabled and c not in directive.used and c != self.code
            ]
            if not unknown and not unused:
                continue
            parts = []
            if unused:
                parts.append(f"unused: {', '.join(unused)}")
            if unknown:
                parts.append(f"unknown: {', '.join(unknown)}")
            yield self._finding(module, directive, set(unused) | set(unknown), "; ".join(parts))

    def _finding(
        self, module: ModuleAnalysis, directive: Directive, remove: set[str], detail: str
    ) -> Finding:
        def build(fx: FixContext) -> list[Edit]:
            line_text = fx.source.line(directive.line)
            replacement = without_codes(directive.comment, remove)
            start = directive.start
            if not replacement:
                start = len(line_text[:start].rstrip())
            return [Edit(directive.line, start, directive.line, directive.end, replacement)]

        return Finding(
            code=self.code,
            message=f"Unused `noqa` directive ({detail})",
            path=module.path,
            line=directive.line,
            column=directive.start + 1,
            end_line=directive.line,
            end_column=directive.end + 1,
            severity=self.effective_severity(),
            fix=Fix("safe", "Remove unused `noqa` codes", build),
        )
