"""JUnit XML: one ``testsuite`` per file with findings, one failing ``testcase`` per finding.

A clean run is a single passing suite, so CI systems that read JUnit reports show the gate
as passed rather than as "no tests". ElementTree escapes markup characters; characters that
XML 1.0 cannot carry at all (most C0 controls, lone surrogates) are written as visible
``\\xNN`` / ``\\uNNNN`` escapes first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..diagnostics import Finding
from . import Report, register

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _NOT_XML.sub(escape, text)


def _testcase(suite: ET.Element, finding: Finding) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=_xml_text(f"{finding.code} ({finding.line}:{finding.column})"),
        classname=_xml_text(finding.path),
        file=_xml_text(finding.path),
        line=str(finding.line),
        column=str(finding.column),
    )
    failure = ET.SubElement(
        case, "failure", message=_xml_text(finding.message), type=finding.code
    )
    failure.text = _xml_text(
        f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}\n"
        f"{finding.url}"
    )


@register("junit")
def junit(report: Report) -> str:
    by_file: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_file.setdefault(finding.path, []).append(finding)
    total = len(report.findings)
    root = ET.Element("testsuites", name="idemlint", tests=str(max(total, 1)),
                      failures=str(total), errors="0")
    if not by_file:
        suite = ET.SubElement(root, "testsuite", name="idemlint", tests="1", failures="0",
                              errors="0", skipped="0")
        ET.SubElement(suite, "testcase", name="no findings", classname="idemlint")
    for path, findings in by_file.items():
        suite = ET.SubElement(
            root, "testsuite", name=_xml_text(path), tests=str(len(findings)),
            failures=str(len(findings)), errors="0", skipped="0", file=_xml_text(path),
        )
        for finding in findings:
            _testcase(suite, finding)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
