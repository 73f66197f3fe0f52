"""Adding `# noqa` comments (`--add-noqa`, the editor's "suppress" action)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from idemlint.config import load_settings
from idemlint.diagnostics import Finding
from idemlint.discovery import discover
from idemlint.engine import FileResult
from idemlint.project import Project
from idemlint.runner import Job, run
from idemlint.source import SourceFile
from idemlint.suppress import add_noqa, add_noqa_edits, run_add_noqa
from idemlint.testing import lint_code, settings_for

FIXTURES = Path(__file__).parent / "fixtures" / "frontends"
ALL = settings_for({"select": ["ALL"]})  # IDL002 included: no directive may end up unused

HEADER = 'import random\nimport time\nimport uuid\n\nimport restate\n\nsvc = restate.Service("S")\n'


def handler(body: str) -> str:
    """A module with one handler whose body is ``body`` (dedented, indented 4)."""
    return (
        HEADER
        + "\n\n@svc.handler()\nasync def h(ctx: restate.Context) -> object:\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
    )


def lint(text: str) -> list[Finding]:
    return lint_code(text, ALL)


def suppressed(text: str) -> str:
    """``text`` after adding noqa for its findings; checks the result is clean and stable."""
    findings = lint(text)
    assert findings, "the example must have findings"
    new = add_noqa(text, findings)
    compile(new, "<suppressed>", "exec")  # still valid Python
    assert lint(new) == [], new
    assert add_noqa(new, lint(new)) == new  # adding again changes nothing
    assert add_noqa(new, findings) == new  # even with the old findings
    return new


def body_of(text: str) -> list[str]:
    return text.split("-> object:\n", 1)[1].splitlines()


def test_appends_a_directive() -> None:
    new = suppressed(handler("started = time.time()   \nreturn started\n"))
    assert body_of(new)[0] == "    started = time.time()  # noqa: IDL101"


def test_one_directive_per_line_with_all_codes() -> None:
    new = suppressed(handler("return time.time() + random.random() + time.time()\n"))
    assert body_of(new)[0].endswith("  # noqa: IDL101, IDL102")


def test_merges_with_an_existing_noqa() -> None:
    new = suppressed(handler("return time.time()  # noqa: E501\n"))
    assert body_of(new)[0] == "    return time.time()  # noqa: E501, IDL101"


def test_merges_with_an_existing_noqa_after_other_text() -> None:
    new = suppressed(handler("return time.time()  # keep: this  # noqa:E501 -- why\n"))
    assert body_of(new)[0] == "    return time.time()  # keep: this  # noqa: E501, IDL101 -- why"


def test_keeps_an_ordinary_comment() -> None:
    new = suppressed(handler("return time.time()  # seconds since the epoch\n"))
    assert body_of(new)[0] == "    return time.time()  # seconds since the epoch  # noqa: IDL101"


def test_multi_line_statement_comments_each_findings_line() -> None:
    """The finding's own line (what flake8 honours too), even inside a bracketed statement."""
    new = suppressed(handler("""\
        return dict(
            at=time.time(),
            token=uuid.uuid4(),
        )
    """))
    assert body_of(new)[0] == "    return dict("
    assert body_of(new)[1] == "        at=time.time(),  # noqa: IDL101"
    assert body_of(new)[2] == "        token=uuid.uuid4(),  # noqa: IDL103"


def test_compound_statement_header() -> None:
    new = suppressed(handler("""\
        if time.time() > 0:
            return 1
        return 0
    """))
    assert body_of(new)[0] == "    if time.time() > 0:  # noqa: IDL101"


def test_hash_inside_strings_is_not_a_comment() -> None:
    new = suppressed(handler("""\
        label = "#1 # noqa: IDL103 " + str(uuid.uuid4())
        return label
    """))
    assert body_of(new)[0] == '    label = "#1 # noqa: IDL103 " + str(uuid.uuid4())  # noqa: IDL103'


def test_never_inside_a_multi_line_string() -> None:
    new = suppressed(handler('''\
        text = f"""started
        at {time.time()}
        """
        return text
    '''))
    assert body_of(new)[:3] == ['    text = f"""started', "    at {time.time()}",
                                '    """  # noqa: IDL101']


def test_string_opening_on_the_first_line() -> None:
    new = suppressed(handler('''\
        text = """header
        """ + str(time.time())
        return text
    '''))
    assert body_of(new)[:2] == ['    text = """header', '    """ + str(time.time())  # noqa: IDL101']


def test_never_after_a_backslash_continuation() -> None:
    new = suppressed(handler("""\
        total = 1 + \\
            time.time()
        return total
    """))
    assert body_of(new)[:2] == ["    total = 1 + \\", "        time.time()  # noqa: IDL101"]


def test_backslash_on_the_findings_line() -> None:
    new = suppressed(handler("""\
        total = time.time() + \\
            1
        return total
    """))
    assert body_of(new)[:2] == ["    total = time.time() + \\", "        1  # noqa: IDL101"]


def test_backslash_inside_a_comment_continues_nothing() -> None:
    new = suppressed(handler("return time.time()  # path C:\\\\temp\\\\\n"))
    assert body_of(new)[0] == "    return time.time()  # path C:\\\\temp\\\\  # noqa: IDL101"


def test_crlf_and_non_bmp_text() -> None:
    text = handler('label = "🚀" + str(uuid.uuid4())\nreturn label\n').replace("\n", "\r\n")
    new = suppressed(text)
    assert '    label = "🚀" + str(uuid.uuid4())  # noqa: IDL103\r\n' in new
    assert new.count("\r\n") == text.count("\r\n") and "\n" not in new.replace("\r\n", "")


def test_file_errors_are_not_suppressible() -> None:
    text = "import restate\ndef broken(:\n"
    findings = lint(text)
    assert [f.code for f in findings] == ["IDL001"]
    assert add_noqa(text, findings) == text


def test_one_edit_per_line() -> None:
    text = handler("a = time.time(); b = uuid.uuid4()\nreturn a, b\n")
    source = SourceFile.from_text("x.py", text)
    edits = add_noqa_edits(source, lint(text))
    assert len(edits) == 1 and edits[0].content == "  # noqa: IDL101, IDL103"


def test_fixture_project_checks_clean_after_add_noqa(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES, root)
    # A file with a BOM and CRLF newlines must keep both.
    special = root / "shop" / "legacy.py"
    special.write_bytes(b"\xef\xbb\xbf" + handler("return time.time()\n").replace(
        "\n", "\r\n").encode())

    def check() -> list[FileResult]:
        settings = load_settings(None, root)
        project = Project.for_paths([root], settings.root)
        return run(discover([root], settings), settings, Job(), project, 1)

    results = check()
    before = sum(len(r.findings) for r in results)
    assert before > 10
    changed, errors = run_add_noqa(results)
    assert errors == [] and changed > 0
    assert [f for r in check() for f in r.findings] == []
    assert special.read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"return time.time()  # noqa: IDL101\r\n" in special.read_bytes()
    assert run_add_noqa(check()) == (0, [])  # a second run changes nothing


@pytest.mark.parametrize("name", ["checkout.py", "accounts.py", "signup.py"])
def test_fixture_files(name: str) -> None:
    text = (FIXTURES / "shop" / name).read_text(encoding="utf-8")
    suppressed(text)


def test_an_unused_noqa_is_silenced_too() -> None:
    # IDL002 is a finding like any other: --add-noqa silences it, so the gate passes today.
    new = suppressed(handler('return "pong"  # noqa: IDL104\n'))
    assert body_of(new)[0] == '    return "pong"  # noqa: IDL104, IDL002'
