"""IDL002 unused-noqa."""

from __future__ import annotations

from collections.abc import Iterable

from ...analysis import ModuleAnalysis
from ...diagnostics import Edit, Finding, Fix
from ...fixes.context import FixContext
from ...noqa import Directive, Suppressions, without_codes
from ...registry import Invalid, Rule, Valid, all_rules

_ALL_ENABLED = {"select": ["ALL"]}


class UnusedNoqa(Rule):
    """
    ## What it does
    Reports a `# noqa: IDLxxx` comment that names idemlint codes it does not need:
    - **unused**: the code belongs to an enabled rule, but no finding of that code was reported on
      the line (or, for a multi-line statement, on the statement the comment covers). Example:
      ``Unused `noqa` directive (unused: IDL101)``.
    - **unknown**: the code looks like an idemlint code (`IDL...`) but no rule has it, e.g. a typo
      or a rule that was removed: ``Unused `noqa` directive (unknown: IDL999)``.

    Left alone:
    - codes of other tools (`# noqa: E501`, `# noqa: B018`): they are not idemlint's to judge;
    - a bare `# noqa`, which may serve another tool;
    - codes of rules that are not enabled (`ignore`d, not `select`ed, opt-in rules that were not
      selected, or disabled for the file by `per-file-ignores`): with the rule off, idemlint cannot
      tell whether the comment is needed;
    - `IDL002` itself, and file-level `# idemlint: noqa[: codes]` comments;
    - text that only looks like a comment inside a string (`s = "# noqa: IDL101"`).

    Comments are found with Python's tokenizer, so only real comments count.

    ## Why is this bad?
    A stale suppression hides nothing today and the next real finding on that line tomorrow: once
    the `time.time()` it silenced has been replaced by `await ctx.time()`, a `# noqa: IDL101` left
    behind would also silence a new non-journaled clock read added to the line later, and that
    one would be replayed with a different value on every retry. An unknown code is usually a typo
    (`IDL10` for `IDL101`): the comment silences nothing, and the finding it was meant for is
    still reported.

    ## Fix safety
    The fix is **safe**: it removes only the unused and unknown codes and keeps everything else.
    - Other codes stay: `# noqa: E501, IDL103` → `# noqa: E501`.
    - When no code is left, the `noqa` part goes: `x = 1  # noqa: IDL101` → `x = 1`; text after it
      or another comment before it is kept: `# noqa: IDL101 legacy clock` → `# legacy clock`,
      `# type: ignore  # noqa: IDL104` → `# type: ignore`.

    ## Options
    - The rule follows the selection: a code counts as unused only if its rule is enabled for the
      file (`select`, `extend-select`, `ignore`, `per-file-ignores`).
    - `ignore = ["IDL002"]` turns it off; `# noqa: IDL002` on the line, or
      `# idemlint: noqa: IDL002` in the file, keeps a directive you want to leave in place.
    - Under flake8 (the `flake8` plugin), `# noqa` is flake8's business and IDL002 is never
      reported.
    """

    code = "IDL002"
    name = "unused-noqa"
    summary = "A `# noqa: IDLxxx` directive that suppresses nothing"
    severity = "warning"
    requires = "suppressions"
    frameworks = ()  # about the run itself, whatever the framework
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
            """
            import time

            import restate

            svc = restate.Service("Billing")


            @svc.handler()
            async def bill(ctx: restate.Context) -> float:
                started = await ctx.time()  # noqa: IDL101
                return started + time.mktime(time.localtime(started))  # noqa: E501, IDL103
            """,
            ((10, 33), (11, 60)),
            fixed="""
            import time

            import restate

            svc = restate.Service("Billing")


            @svc.handler()
            async def bill(ctx: restate.Context) -> float:
                started = await ctx.time()
                return started + time.mktime(time.localtime(started))  # noqa: E501
            """,
            config=_ALL_ENABLED,
            doc=True,
        ),
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
