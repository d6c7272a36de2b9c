"""The shell shared by the §8 import commands: open the file, run the importer, print, set the exit code."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bureau.importing import run_import
from bureau.imports import today_local
from bureau.spreadsheets import SpreadsheetError


class ImportCommand(BaseCommand):
    importer_class = None  # set by subclasses

    def add_arguments(self, parser):
        parser.add_argument("file", help="xlsx 文件路径")
        parser.add_argument("--skip-invalid", action="store_true", help="写入有效行，报告无效行")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告，不写入")

    def handle(self, *args, file, skip_invalid, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        importer = self.importer_class(actor=None, today=today_local())
        try:
            with path.open("rb") as fileobj:
                report = run_import(importer, fileobj, skip_invalid=skip_invalid, dry_run=dry_run, filename=path.name)
        except SpreadsheetError as exc:
            raise CommandError(str(exc)) from None
        for error in report.errors:
            self.stderr.write(str(error))
        self.stdout.write(report.summary())
        if report.errors and not skip_invalid:
            raise CommandError(f"存在 {report.invalid_rows} 行错误，未写入任何数据。修正后重新导入，或使用 --skip-invalid 只导入有效行。")
