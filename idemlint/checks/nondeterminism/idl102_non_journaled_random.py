"""IDL102 non-journaled-random."""

from __future__ import annotations

import ast

from ...analysis import ModuleAnalysis
from ...calls import KnownCall
from ...diagnostics import Edit, Fix
from ...fixes.context import FixContext
from ...registry import Invalid, Valid
from ...syntax import argument
from ._shared import KnownCallRule, context_name, fix_strategy, make_fix, readable_call, tables

# Keyword names of the one argument of the `secrets`/`os` functions the fix rewrites.
_SECRETS_KEYWORDS = ("nbytes", "n", "k", "seq", "exclusive_upper_bound", "size")


class NonJournaledRandom(KnownCallRule):
    """
    ## What it does
    Reports unseeded randomness in handler code outside a journaled action (Restate) or in
    workflow code (Temporal):
    - `random` module functions: `random`, `uniform`, `randint`, `randrange`, `choice`, `choices`,
      `shuffle`, `sample`, `getrandbits`, `randbytes`, `triangular` and the distributions
      (`gauss`, `normalvariate`, `expovariate`, `betavariate`, ...), plus `random.seed`,
      `getstate` and `setstate` (the global generator's state is per process and is not restored
      on replay);
    - `random.Random()` without a seed (`random.Random(42)` is deterministic and not reported),
      `random.SystemRandom()`;
    - cryptographic randomness: `secrets.token_bytes`, `token_hex`, `token_urlsafe`, `choice`,
      `randbelow`, `randbits`, `secrets.SystemRandom()`, `os.urandom`, `os.getrandom`;
    - `numpy.random`'s legacy global functions (`rand`, `randn`, `randint`, `choice`, `shuffle`,
      `normal`, `uniform`, ..., `seed`) and `numpy.random.default_rng()` / `RandomState()` without
      a seed.

    Any import spelling is recognised (`from random import choice`, `import random as rnd`).
    Helpers called from a handler are checked too; the finding's detail shows the call chain.
    Draws inside `ctx.run_typed(...)` are journaled and not reported.

    ## Why is this bad?
    Restate replays a handler from its journal after a crash, a retry or a suspension, and code
    outside `ctx.run_typed(...)` runs again on every attempt. Each attempt draws new values: an A/B
    choice flips, a generated code or discount sent to the customer changes between attempts, and
    a branch on the value can call another service or take another path than the one the journal
    recorded, so the invocation fails with a journal mismatch.

    `ctx.random()` returns a `random.Random` that Restate seeds deterministically per invocation:
    the same sequence of draws yields the same values on every attempt, and nothing is written to
    the journal.

    It is **not cryptographically secure**: its values are predictable from the seed. Do not use
    it for tokens, passwords, API keys or nonces. Generate those once, with the OS generator,
    inside a journaled action: the value is then stored in the journal and replayed as is
    (`token = await ctx.run_typed("token", lambda: secrets.token_urlsafe(16))`).

    ## Use instead
    For numpy, seed a generator from the context:
    `numpy.random.default_rng(ctx.random().getrandbits(64))`.

    ## Fix safety
    The fix needs the context in scope (a handler's context parameter, or a helper's); it adds no
    `await`, so it also applies in sync handlers, lambdas and generator expressions.
    - `random.<function>(...)` → `ctx.random().<function>(...)` with the same arguments, and
      `random.Random()` → `ctx.random()`: **safe**, same types and distributions, now replayable.
    - `random.SystemRandom()` / `secrets.SystemRandom()` → `ctx.random()`;
      `secrets.token_bytes(n)` → `ctx.random().randbytes(n)`; `secrets.token_hex(n)` →
      `ctx.random().randbytes(n).hex()`; `secrets.token_urlsafe(n)` →
      `urlsafe_b64encode(ctx.random().randbytes(n)).rstrip(b"=").decode("ascii")` (adds
      `from base64 import urlsafe_b64encode`); `n` defaults to 32 as in `secrets`;
      `secrets.choice(seq)` → `ctx.random().choice(seq)`; `secrets.randbelow(n)` →
      `ctx.random().randrange(n)`; `secrets.randbits(k)` → `ctx.random().getrandbits(k)`;
      `os.urandom(n)` → `ctx.random().randbytes(n)`: **unsafe**. The values have the same type and
      size, but they are predictable. Apply it only where the value need not be secret (test
      data, non-security identifiers); for real secrets use a journaled action as shown above.
    - No fix: `random.seed`/`getstate`/`setstate`, `os.getrandom`, everything in `numpy.random`,
      `secrets` calls with `*args`/`**kwargs` or more than one argument, and places where no
      context is in scope.

    ## Temporal
    In workflow code (a `@workflow.defn` class's methods and what they call, replayed from the
    history) use the SDK's generator: `workflow.random()` is a `random.Random` seeded by the
    workflow and restored on replay; `workflow.new_random()` a fresh `random.Random` seeded from
    the workflow seed (temporalio 1.35, `workflow/_context.py`). Both are "not cryptographically
    safe" (the SDK's docstring). Activities run once per attempt and may use any generator: create
    secrets there. Fixes (the `workflow` module as the file spells it, `import temporalio.workflow
    as wf` gives `wf.random()`; `from temporalio import workflow` is added when missing):
    - `random.<function>(...)` → `workflow.random().<function>(...)`, `random.Random()` →
      `workflow.new_random()`: **safe**, same types and distributions;
    - `secrets.token_bytes(n)` / `os.urandom(n)` → `workflow.random().randbytes(n)`,
      `secrets.token_hex(n)` → `workflow.random().randbytes(n).hex()`, `secrets.choice`/
      `randbelow`/`randbits` → `choice`/`randrange`/`getrandbits`, `SystemRandom()` →
      `workflow.new_random()`: **unsafe** — predictable, not cryptographic (only with the one
      positional argument: `token_hex()` without `n` has no fix);
    - no fix: `random.seed`/`getstate`/`setstate`, `secrets.token_urlsafe`, `os.getrandom`,
      `numpy.random` (seed a generator: `numpy.random.default_rng(workflow.random().getrandbits(64))`),
      and none in queries and update validators, where `workflow.random()` raises
      `ReadOnlyContextError` (`_assert_not_read_only("random")`).
    temporalint: TPL008 `nondeterministic-call` reports every `random.*` and `secrets.*` call and
    `os.urandom` (also `random.Random(seed)`, which is deterministic and not reported here); this
    rule adds `numpy.random` and `os.getrandom`, helpers reached from the workflow, and fixes.

    ## Options
    - `[tool.idemlint.nondeterministic]` adds your own sources: `"mycorp.ids.random_code" = "IDL102"`.
    - `deterministic = ["mycorp.rng.seeded_choice"]` silences a name you know is deterministic.
    - `# noqa: IDL102` on a line where a value that changes per attempt is harmless (sampling of
      debug logs); `[tool.idemlint.per-file-ignores]` `"tests/*" = ["IDL102"]` for test code.
    """

    code = "IDL102"
    frameworks = ("restate", "temporal")
    name = "non-journaled-random"
    summary = "Unseeded randomness in handler code"
    what = "draws unseeded random values"
    consequence = "each replay draws different values"
    fix_availability = "sometimes"
    VALID = [
        Valid("""
            import random

            import restate

            svc = restate.Service("Dice")
            SEEDED = random.Random(42)


            @svc.handler()
            async def roll(ctx: restate.Context) -> int:
                rng = random.Random(7)  # seeded: deterministic
                picked = ctx.random().randint(1, 6)
                drawn = await ctx.run_typed("draw", lambda: random.randint(1, 6))
                return picked + drawn + rng.randint(1, 6)
        """),
        Valid("""
            import random
            import secrets

            from temporalio import activity, workflow
            from temporalio.workflow import random as workflow_random


            @activity.defn
            async def new_token() -> str:
                return secrets.token_urlsafe(16)  # activities run once per attempt


            @workflow.defn
            class Dice:
                @workflow.run
                async def run(self, seed: int) -> int:
                    fixed = random.Random(seed)  # seeded: deterministic
                    own = workflow.new_random()
                    return workflow.random().randint(1, 6) + workflow_random().randint(1, 6) + fixed.randint(1, 6) + own.randint(1, 6)
        """, note="Temporal: workflow.random / new_random, seeded Random, secrets in an activity"),
    ]
    INVALID = [
        Invalid(
            """
                import random as rnd
                from random import choice

                import restate

                svc = restate.Service("Dice")


                @svc.handler()
                async def roll(ctx: restate.Context, faces: list) -> int:
                    first = rnd.randint(1, 6)
                    face = choice(faces)
                    return first + face
            """,
            ((11, 13), (12, 12)),
            fixed="""
                import random as rnd
                from random import choice

                import restate

                svc = restate.Service("Dice")


                @svc.handler()
                async def roll(ctx: restate.Context, faces: list) -> int:
                    first = ctx.random().randint(1, 6)
                    face = ctx.random().choice(faces)
                    return first + face
            """,
            doc=True,
        ),
        Invalid(
            """
                import os
                import secrets

                import restate

                svc = restate.Service("Tokens")


                @svc.handler()
                async def issue(ctx: restate.Context) -> str:
                    salt = os.urandom(16)
                    return secrets.token_hex(8) + salt.hex()
            """,
            ((11, 12), (12, 12)),
            message="draws unseeded random values; use `ctx.random()",
            unsafe=True,
            fixed="""
                import os
                import secrets

                import restate

                svc = restate.Service("Tokens")


                @svc.handler()
                async def issue(ctx: restate.Context) -> str:
                    salt = ctx.random().randbytes(16)
                    return ctx.random().randbytes(8).hex() + salt.hex()
            """,
        ),
        Invalid(
            """
                import random

                import restate

                svc = restate.Service("Dice")


                @svc.handler()
                async def roll(ctx: restate.Context) -> int:
                    rng = random.Random()
                    return rng.randint(1, 6)
            """,
            ((10, 11),),
            fixed="""
                import random

                import restate

                svc = restate.Service("Dice")


                @svc.handler()
                async def roll(ctx: restate.Context) -> int:
                    rng = ctx.random()
                    return rng.randint(1, 6)
            """,
        ),
        Invalid(
            """
                import random

                from temporalio import workflow


                @workflow.defn
                class Dice:
                    @workflow.run
                    async def run(self, sides: list[int]) -> int:
                        total = 0
                        for side in sides:
                            if side > 0:
                                total += random.randint(1, side)
                        return total + self._bonus(sides)

                    def _bonus(self, sides: list[int]) -> int:
                        return random.Random().choice(sides)
            """,
            ((13, 26), (17, 16)),
            fixed="""
                import random

                from temporalio import workflow


                @workflow.defn
                class Dice:
                    @workflow.run
                    async def run(self, sides: list[int]) -> int:
                        total = 0
                        for side in sides:
                            if side > 0:
                                total += workflow.random().randint(1, side)
                        return total + self._bonus(sides)

                    def _bonus(self, sides: list[int]) -> int:
                        return workflow.new_random().choice(sides)
            """,
            note="Temporal: nested in for/if, in a helper method; Random() -> new_random()",
        ),
        Invalid(
            """
                import os
                import secrets

                import temporalio.workflow as wf


                @wf.defn
                class Codes:
                    @wf.run
                    async def run(self) -> str:
                        try:
                            code = secrets.token_hex(8)
                        except ValueError:
                            code = ""
                        return code + os.urandom(4).hex()
            """,
            ((12, 20), (15, 23)),
            message="use `workflow.random().randbytes(n)",
            fixed="""
                import os
                import secrets

                import temporalio.workflow as wf


                @wf.defn
                class Codes:
                    @wf.run
                    async def run(self) -> str:
                        try:
                            code = wf.random().randbytes(8).hex()
                        except ValueError:
                            code = ""
                        return code + wf.random().randbytes(4).hex()
            """,
            unsafe=True,
            note="Temporal: aliased module reused; secrets/urandom: unsafe (not cryptographic)",
        ),
        Invalid(
            """
                from random import shuffle

                from temporalio.workflow import defn, run


                @defn
                class Deck:
                    @run
                    async def deal(self, cards: list[str]) -> list[str]:
                        shuffle(cards)
                        return cards
            """,
            ((10, 9),),
            fixed="""
                from random import shuffle

                from temporalio.workflow import defn, run
                from temporalio import workflow


                @defn
                class Deck:
                    @run
                    async def deal(self, cards: list[str]) -> list[str]:
                        workflow.random().shuffle(cards)
                        return cards
            """,
            note="Temporal: from-imported random function; workflow import added",
        ),
    ]


def _generator(module: ModuleAnalysis, kc: KnownCall) -> str | None:
    """`ctx.random()` where the call is, if the context is in scope."""
    ctx = context_name(module, kc.node)
    method = tables(module, kc).random_method
    return f"{ctx}.{method}()" if ctx is not None and method else None


@fix_strategy("ctx-random-method")
def ctx_random_method(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """`random.randint(1, 6)` -> `ctx.random().randint(1, 6)`."""
    call = kc.node
    generator = _generator(module, kc)
    if not isinstance(call, ast.Call) or generator is None:
        return None
    text = f"{generator}.{kc.method}"
    return make_fix(kc, f"Use `{text}(...)`", lambda fx: [fx.replace(call.func, text)])


@fix_strategy("ctx-random")
def ctx_random(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """`random.Random()` -> `ctx.random()`."""
    call = kc.node
    generator = _generator(module, kc)
    if not isinstance(call, ast.Call) or generator is None or call.args or call.keywords:
        return None
    return make_fix(kc, f"Use `{generator}`", lambda fx: [fx.replace(call, generator)])


@fix_strategy("ctx-secrets")
def ctx_secrets(module: ModuleAnalysis, kc: KnownCall) -> Fix | None:
    """`secrets.token_hex(8)` -> `ctx.random().randbytes(8).hex()` (not secure: unsafe)."""
    call = readable_call(kc.node)
    generator = _generator(module, kc)
    rewrite = tables(module, kc).secrets.get(kc.method)
    if call is None or generator is None or rewrite is None:
        return None
    if len(call.args) + len(call.keywords) > 1:
        return None
    given = argument(call, 0, *_SECRETS_KEYWORDS)
    if isinstance(given, ast.Constant) and given.value is None:
        given = None
    if given is None and rewrite.default is None:
        return None
    template, default = rewrite.template, rewrite.default

    def build(fx: FixContext) -> list[Edit]:
        edits: list[Edit] = []
        b64 = ""
        if "{b64}" in template:
            b64, edits = fx.import_name("base64", "urlsafe_b64encode")
        text = template.format(r=generator, a=fx.text(given) if given else default, b64=b64)
        return [*edits, fx.replace(call, text)]

    return make_fix(
        kc, f"Derive it from `{generator}` (deterministic, NOT cryptographically secure)", build
    )
