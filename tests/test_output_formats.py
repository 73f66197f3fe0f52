"""CI output formats against their documented shapes.

One small project gives findings of every kind a format must carry: an error and a
warning-severity finding, IDL001, two identical findings on one line, non-ASCII text,
messages and paths with ``%``, ``:`` and ``,``, a message spanning two lines and one with a
control character. ``json`` is the reference the other formats are compared with.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from jsonschema import Draft7Validator

from idemlint.output import names

from .conftest import Run

SCHEMA_PATH = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"
ODD_DIR = "app/odd: dir,ü"  # a directory name with both property separators of GitHub's grammar

CLOCK = '''\
"""Ünïcödé docstring: handlers that read the clock — 100% wrong, on replay."""
import random
import time
import uuid

import restate

svc = restate.Service("Clöck")


@svc.handler()
async def now(ctx: restate.Context) -> str:
    stamp = time.time()  # noqa: IDL101, IDL103
    größe = "50%: a, b"
    return f"{größe}{stamp}{uuid.uuid4()}{random.random()}"


@svc.handler()
async def twice(ctx: restate.Context) -> float:
    return time.time() + time.time()
'''

INGRESS = '''\
import restate

payments = restate.Service("Payments")


@payments.handler()
async def pay(ctx: restate.Context, amount: int) -> str:
    return "ok"


async def pay_order(amount: int) -> None:
    async with restate.create_client("http://localhost:8080") as client:
        await client.service_call(pay, amount, idempotency_key="100%: naïve, ✓")
        await client.service_call(pay, amount, idempotency_key=("multi-"
                                                                "line"))
        await client.service_call(pay, amount, idempotency_key="<tag & \x07bell>")
'''

BAD = "import restate\ndef broken(:\n    pass\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ODD_DIR).mkdir(parents=True)
    (root / "app" / "clock.py").write_text(CLOCK, encoding="utf-8")
    (root / ODD_DIR / "ingress.py").write_text(INGRESS, encoding="utf-8")
    (root / "app" / "bad.py").write_text(BAD, encoding="utf-8")
    return root


@pytest.fixture
def check(cli: Callable[..., Run]) -> Callable[..., Run]:
    def run(root: Path, fmt: str, *paths: str) -> Run:
        result = cli("check", "--isolated", "-q", "--output-format", fmt, *(paths or ("app",)),
                     cwd=root)
        assert result.code in (0, 1), result.err
        return result

    return run


@pytest.fixture
def reference(project: Path, check: Callable[..., Run]) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = check(project, "json").json()
    return findings


def test_fixture_covers_the_cases(reference: list[dict[str, Any]]) -> None:
    codes = {f["code"] for f in reference}
    assert {"IDL001", "IDL002", "IDL101", "IDL403"} <= codes
    assert {f["severity"] for f in reference} == {"error", "warning"}
    messages = " ".join(f["message"] for f in reference)
    for needle in ("%", ":", ",", "naïve", "✓", "\n", "\x07", "<tag &"):
        assert needle in messages, needle
    assert any(f["path"].startswith(ODD_DIR + "/") for f in reference)
    assert any(f["line"] != f["end_line"] for f in reference)
    twins = [f for f in reference if f["code"] == "IDL101" and f["line"] == 20]
    assert len(twins) == 2 and twins[0]["message"] == twins[1]["message"]


def test_new_formats_are_cli_choices() -> None:
    assert {"json", "json-lines", "full", "junit", "sarif", "github", "gitlab", "pylint"} <= set(
        names())


# -- SARIF --------------------------------------------------------------------------------------
# RFC 3986 URI-reference characters: unreserved, reserved and percent-encoded octets only.
URI_REFERENCE = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


@pytest.fixture(scope="module")
def sarif_validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return Draft7Validator(schema)


def _schema_errors(validator: Draft7Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def _uris(document: Any) -> list[dict[str, Any]]:
    found = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("artifactLocation"), dict):
                found.append(node["artifactLocation"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found


def test_sarif_validates_against_the_official_schema(
    project: Path, check: Callable[..., Run], reference: list[dict[str, Any]],
    sarif_validator: Draft7Validator,
) -> None:
    document = check(project, "sarif").json()
    assert _schema_errors(sarif_validator, document) == []
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    assert len(run["results"]) == len(reference)


def test_sarif_schema_is_not_vacuous(
    project: Path, check: Callable[..., Run], sarif_validator: Draft7Validator
) -> None:
    document = check(project, "sarif").json()
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"][
        "startLine"] = 0
    document["runs"][0]["results"][1]["level"] = "fatal"
    del document["runs"][0]["tool"]["driver"]["name"]
    errors = _schema_errors(sarif_validator, document)
    assert len(errors) == 3, errors


def test_sarif_rules_results_locations_and_fixes(
    project: Path, check: Callable[..., Run], reference: list[dict[str, Any]]
) -> None:
    (run,) = check(project, "sarif").json()["runs"]
    rules = run["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["help"]["text"].strip() and rule["help"]["markdown"].strip()
        assert rule["helpUri"] == f"https://idemlint.dev/rules/{rule['id']}/"
        assert rule["shortDescription"]["text"]
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for result, finding in zip(run["results"], reference, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding["code"]
        assert result["level"] == levels[finding["severity"]]
        assert result["message"]["text"] == finding["message"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert unquote(physical["artifactLocation"]["uri"]) == finding["path"]
        assert physical["region"] == {
            "startLine": finding["line"], "startColumn": finding["column"],
            "endLine": finding["end_line"], "endColumn": finding["end_column"],
        }
        if finding["fix"] is None:
            assert "fixes" not in result
            continue
        (fix,) = result["fixes"]
        (change,) = fix["artifactChanges"]
        assert change["artifactLocation"] == physical["artifactLocation"]
        edits = finding["fix"]["edits"]
        assert [r["insertedContent"]["text"] for r in change["replacements"]] == [
            e["content"] for e in edits]
        assert [r["deletedRegion"] for r in change["replacements"]] == [
            {"startLine": e["location"]["line"], "startColumn": e["location"]["column"],
             "endLine": e["end_location"]["line"], "endColumn": e["end_location"]["column"]}
            for e in edits
        ]
    assert any("fixes" in r for r in run["results"])
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_uris_are_uri_references(
    project: Path, check: Callable[..., Run], sarif_validator: Draft7Validator
) -> None:
    document = check(project, "sarif").json()
    locations = _uris(document)
    assert locations
    for location in locations:
        uri = location["uri"]
        assert URI_REFERENCE.match(uri), uri
        assert not ABSOLUTE_URI.match(uri), uri  # relative to %SRCROOT%
    assert any("%3A" in loc["uri"] and "%2C" in loc["uri"] for loc in locations)
    # An absolute path on the command line becomes a file: URI with no base id.
    absolute = check(project, "sarif", str(project / ODD_DIR)).json()
    assert _schema_errors(sarif_validator, absolute) == []
    for location in _uris(absolute):
        assert location["uri"].startswith("file:///") and "uriBaseId" not in location
        assert URI_REFERENCE.match(location["uri"]), location["uri"]


# -- GitHub Actions -----------------------------------------------------------------------------
# ::{error|warning|notice} {name}={value},...::{message}: property values carry no raw ':' or
# ',' and nothing carries a raw CR or LF; '%' only starts an escape.
ANNOTATION = re.compile(
    r"^::(?P<level>error|warning|notice) (?P<props>[A-Za-z]+=[^:,\r\n]*(?:,[A-Za-z]+=[^:,\r\n]*)*)"
    r"::(?P<message>[^\r\n]*)$"
)
PROPERTY_ESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}
DATA_ESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n"}


def _unescape(text: str, table: dict[str, str]) -> str:
    assert re.fullmatch(r"(?:[^%]|%(?:" + "|".join(k[1:] for k in table) + "))*", text), text
    return re.sub("%(?:" + "|".join(k[1:] for k in table) + ")", lambda m: table[m.group()], text)


def test_github_annotations_follow_the_workflow_command_grammar(
    project: Path, check: Callable[..., Run], reference: list[dict[str, Any]]
) -> None:
    out = check(project, "github").out
    lines = out.split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(reference)
    levels = {"error": "error", "warning": "warning", "info": "notice"}
    for line, finding in zip(lines, reference, strict=False):
        match = ANNOTATION.match(line)
        assert match, line
        assert match["level"] == levels[finding["severity"]]
        props = dict(p.split("=", 1) for p in match["props"].split(","))
        assert set(props) <= {"title", "file", "line", "endLine", "col", "endColumn"}
        assert _unescape(props["file"], PROPERTY_ESCAPES) == finding["path"]
        assert _unescape(props["title"], PROPERTY_ESCAPES) == f"idemlint ({finding['code']})"
        assert (int(props["line"]), int(props["endLine"])) == (finding["line"],
                                                               finding["end_line"])
        if finding["line"] == finding["end_line"]:
            assert (int(props["col"]), int(props["endColumn"])) == (
                finding["column"], finding["end_column"])
        else:  # the runner drops columns on a multi-line range
            assert "col" not in props and "endColumn" not in props
        assert _unescape(match["message"], DATA_ESCAPES) == (
            f"{finding['path']}:{finding['line']}:{finding['column']}: {finding['code']} "
            f"{finding['message']}"
        )
    assert "file=app/odd%3A dir%2Cü/ingress.py," in out
    assert "`\"100%25: naïve, ✓\"`" in out
    assert "`\"multi-\"%0A" in out


# -- GitLab Code Quality ------------------------------------------------------------------------
def test_gitlab_report_shape_and_severities(
    project: Path, check: Callable[..., Run], reference: list[dict[str, Any]]
) -> None:
    issues = check(project, "gitlab").json()
    assert isinstance(issues, list) and len(issues) == len(reference)
    severities = {"error": "major", "warning": "minor", "info": "info"}
    for issue, finding in zip(issues, reference, strict=True):
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["description"] == finding["message"]
        assert issue["check_name"] == finding["code"]
        assert issue["severity"] == severities[finding["severity"]]
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
        location = issue["location"]
        assert set(location) == {"path", "positions"}
        assert location["path"] == finding["path"] and not location["path"].startswith(("./", "/"))
        assert location["positions"] == {
            "begin": {"line": finding["line"], "column": finding["column"]},
            "end": {"line": finding["end_line"], "column": finding["end_column"]},
        }
    assert {i["severity"] for i in issues} == {"major", "minor"}


def test_gitlab_fingerprints_are_unique_and_stable(
    project: Path, check: Callable[..., Run]
) -> None:
    first = check(project, "gitlab")
    second = check(project, "gitlab")
    assert first.out == second.out
    issues = first.json()
    prints = [i["fingerprint"] for i in issues]
    assert len(set(prints)) == len(prints)
    twins = [i for i in issues
             if i["check_name"] == "IDL101" and i["location"]["positions"]["begin"]["line"] == 20]
    assert len(twins) == 2
    assert twins[0]["description"] == twins[1]["description"]
    assert twins[0]["fingerprint"] != twins[1]["fingerprint"]
    # Unrelated lines added above a finding do not change its identity.
    clock = project / "app" / "clock.py"
    clock.write_text("# a comment\n\n" + clock.read_text(encoding="utf-8"), encoding="utf-8")
    shifted = check(project, "gitlab").json()
    assert [i["location"]["positions"]["begin"]["line"] for i in shifted] != [
        i["location"]["positions"]["begin"]["line"] for i in issues]
    assert sorted(i["fingerprint"] for i in shifted) == sorted(prints)


# -- JUnit --------------------------------------------------------------------------------------
def _junit(run: Run) -> ET.Element:
    assert run.out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(run.out.encode("utf-8"))


def test_junit_parses_and_counts_match(
    project: Path, check: Callable[..., Run], reference: list[dict[str, Any]]
) -> None:
    root = _junit(check(project, "junit"))
    assert root.tag == "testsuites"
    assert int(root.get("tests", -1)) == int(root.get("failures", -1)) == len(reference)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == list(dict.fromkeys(f["path"] for f in reference))
    cases = []
    for suite in suites:
        own = suite.findall("testcase")
        assert int(suite.get("tests", -1)) == int(suite.get("failures", -1)) == len(own)
        cases.extend(own)
    assert len(cases) == len(reference)
    for case, finding in zip(cases, reference, strict=True):
        assert case.get("file") == finding["path"]
        assert (case.get("line"), case.get("column")) == (str(finding["line"]),
                                                          str(finding["column"]))
        failure = case.find("failure")
        assert failure is not None and failure.get("type") == finding["code"]
        # XML 1.0 cannot carry U+0007: it is written as a visible escape instead.
        assert failure.get("message") == finding["message"].replace("\x07", "\\x07")
        assert failure.text is not None and finding["url"] in failure.text


def test_clean_run_in_every_format(
    tmp_path: Path, check: Callable[..., Run], sarif_validator: Draft7Validator
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "ok.py").write_text("import restate\n\nsvc = restate.Service('S')\n")
    assert check(tmp_path, "json").json() == []
    assert check(tmp_path, "gitlab").json() == []
    for fmt in ("json-lines", "github", "pylint", "text"):
        assert check(tmp_path, fmt).out == "", fmt
    sarif = check(tmp_path, "sarif").json()
    assert _schema_errors(sarif_validator, sarif) == [] and sarif["runs"][0]["results"] == []
    root = _junit(check(tmp_path, "junit"))
    (suite,) = root.findall("testsuite")
    assert (root.get("failures"), suite.get("failures"), suite.get("tests")) == ("0", "0", "1")
    assert root.find(".//failure") is None and len(suite.findall("testcase")) == 1


# -- pylint and json-lines ----------------------------------------------------------------------
PYLINT = re.compile(r"^(?P<path>.+):(?P<line>\d+): \[(?P<code>IDL\d{3})\] (?P<message>.+)$")


def test_pylint_lines(
    project: Path, check: Callable[..., Run], reference: list[dict[str, Any]]
) -> None:
    lines = check(project, "pylint").out.splitlines()
    assert len(lines) == len(reference)
    for line, finding in zip(lines, reference, strict=True):
        match = PYLINT.match(line)
        assert match, line
        assert (match["path"], int(match["line"]), match["code"]) == (
            finding["path"], finding["line"], finding["code"])
        if "\n" not in finding["message"]:
            assert match["message"] == finding["message"]
    assert '[IDL403] constant idempotency key `"multi-" "line"`' in "\n".join(lines)


def test_json_lines_equal_json_elements(
    project: Path, check: Callable[..., Run], reference: list[dict[str, Any]]
) -> None:
    out = check(project, "json-lines").out
    assert out.endswith("\n")
    lines = out[:-1].split("\n")
    assert [json.loads(line) for line in lines] == reference


def test_gitlab_paths_are_project_relative(project: Path, check: Callable[..., Run]) -> None:
    relative = check(project, "gitlab").json()
    absolute = check(project, "gitlab", str(project / "app")).json()
    assert absolute == relative
