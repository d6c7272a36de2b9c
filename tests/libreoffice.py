"""Open a workbook in real LibreOffice Calc (headless) and read its first sheet back as CSV rows: the
proof that a file we write opens in the office suite auditors use. `make test` installs LibreOffice
(scripts/ensure_libreoffice.sh); outside CI a machine without it skips these tests, in CI they fail."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is missing: run scripts/ensure_libreoffice.sh")
        pytest.skip("LibreOffice (soffice) is not installed on this machine")
    return found


def first_sheet_rows(workbook: Path, tmp_path: Path) -> list[list[str]]:
    """Convert with LibreOffice (own profile directory, so parallel runs never share one) and parse."""
    out = tmp_path / "lo-out"
    out.mkdir(exist_ok=True)
    profile = tmp_path / "lo-profile"
    completed = subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(out), str(workbook)],
        capture_output=True, text=True, timeout=180,
    )
    converted = out / (workbook.stem + ".csv")
    assert completed.returncode == 0 and converted.exists(), completed.stderr or completed.stdout
    with converted.open(encoding="utf-8") as handle:
        return list(csv.reader(handle))
