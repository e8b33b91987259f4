"""Audit the installed dependencies with pip-audit when asked (PIP_AUDIT=1).

Exit 1 when pip-audit reports a known vulnerability; exit 0 with a one-line reason when the
audit is not asked for or the vulnerability service does not answer (CI never fails on the
network).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
TIMEOUT_S = 300


def run_audit() -> subprocess.CompletedProcess[str] | None:
    """pip-audit's JSON report of this environment, or None when it could not run in time."""
    command = [str(PIP_AUDIT), "--format", "json", "--skip-editable", "--progress-spinner", "off"]
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"pip-audit skipped: {exc}")
        return None


def vulnerable(report: dict) -> list[str]:
    """`name version: ids` for every dependency with a known vulnerability."""
    found = []
    for dep in report.get("dependencies", []):
        ids = [v["id"] for v in dep.get("vulns", [])]
        if ids:
            found.append(f"{dep['name']} {dep.get('version', '?')}: {', '.join(ids)}")
    return found


def main() -> int:
    """Run the audit if asked; report and return the exit status."""
    if os.environ.get("PIP_AUDIT") != "1":
        print("pip-audit skipped: set PIP_AUDIT=1 to audit dependencies (needs the network)")
        return 0
    result = run_audit()
    if result is None:
        return 0
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        reason = (result.stderr.strip().splitlines() or ["no report"])[-1]
        print(f"pip-audit skipped: the vulnerability service did not answer ({reason})")
        return 0
    found = vulnerable(report)
    for line in found:
        print(f"vulnerable: {line}")
    print(f"pip-audit: {len(report.get('dependencies', []))} dependencies, {len(found)} vulnerable")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
