"""IDL001 file-not-analysable."""

from __future__ import annotations

from ...diagnostics import Finding
from ...registry import Invalid, Rule, Valid
from ...source import LoadError


class FileNotAnalysable(Rule):
    """
    ## What it does
    Reports a file that idemlint cannot read, decode or parse, with the reason and, where one is
    known, the position. One finding per file; the run goes on with the other files. The rule
    stays on unless it is ignored by its exact code.

    | cause | message |
    |---|---|
    | syntax error, including syntax newer than the interpreter running idemlint (`type X = int` on Python 3.11) | `syntax error: invalid syntax (parsed with Python 3.11)`, at the error's line and column |
    | bytes that are not valid in the file's encoding (PEP 263 coding cookie or BOM, else UTF-8) | `cannot decode as utf-8: invalid start byte (byte 0xff at offset 20)`, at the byte's line and column |
    | unknown coding cookie (`# -*- coding: klingon -*-`) | `cannot decode: klingon` |
    | NUL bytes | `binary file: contains NUL bytes, not Python source` |
    | larger than `max-file-size` | `file too large to analyse: 12.3 MB (limit 10.0 MB, see max-file-size)` |
    | nesting beyond the parser's or the analysis' limits | `too deeply nested to parse (the Python parser gave up)`, `too deeply nested to analyse`, or the parser's `syntax error: too many nested parentheses` |
    | the OS refuses the read: permissions, a symlink loop, a file removed during the run | `cannot read file: Permission denied`, `cannot read file: Too many levels of symbolic links` |

    Read errors and oversized files are reported for every file the run looks at, because reading
    happens first. Decoding and parsing happen only for files that can contain findings: a file that
    mentions neither `restate`, a handler decorator (`.handler(`, `.main(`), an ingress URL nor a
    `noqa` is skipped without being decoded or parsed, so a syntax error there is left to your
    other tools (ruff, `python -m compileall`, your tests).

    ## Why is this bad?
    A file idemlint cannot analyse is a file whose handlers were not checked. Without this finding
    the run would look clean while a service with `time.time()` or an unjournaled HTTP call in its
    handlers went unchecked. And a handler module with a syntax error cannot even be imported by
    the service's endpoint.

    ## Example
    ```console
    $ idemlint check greeter.py
    greeter.py:8:26: IDL001 syntax error: invalid syntax (parsed with Python 3.11)
    ```

    ## Use instead
    Fix the cause the message names: correct the syntax, or run idemlint with the Python version
    your code targets (the message says which one parsed the file); save the file as UTF-8 or
    declare its real encoding; raise `max-file-size` for a large generated module, or exclude it.

    ## Fix safety
    There is no fix.

    ## Options
    - `max-file-size` (default `10_000_000` bytes, or a string such as `"20MB"`): larger files are
      reported instead of analysed.
    - `ignore = ["IDL001"]` (or `--ignore IDL001`) turns the rule off. Only the exact code does:
      prefixes such as `"IDL"` or `"IDL0"` in `ignore` leave it on.
    - `# noqa` and `# idemlint: noqa` comments do not silence it (the file was not analysed), and
      neither does `per-file-ignores`. To skip a file, exclude it: `extend-exclude = ["generated/*"]`.
    - The rule reports only what other enabled rules make idemlint read: with `--select IDL001`
      alone, nothing is parsed and only read errors are reported.
    """

    code = "IDL001"
    name = "file-not-analysable"
    summary = "File cannot be read, decoded or parsed"
    requires = "passive"
    frameworks = ()  # about the run itself, whatever the framework
    VALID = [
        Valid("x = 1\n"),
        Valid(
            """
            import restate

            svc = restate.Service("Greeter")


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                greeting = "Hello "
                return greeting + name
            """,
            doc=True,
        ),
    ]
    INVALID = [
        Invalid(
            """
            import restate

            svc = restate.Service("Greeter")


            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                greeting = "Hello " +
                return greeting + name
            """,
            ((8, 26),),
            message="syntax error",
            doc=True,
        ),
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
