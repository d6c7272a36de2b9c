"""The shell shared by the §8 import commands: open the file, run the importer, print, set the exit code."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bureau.importing import run_import
from bureau.imports import today_local
from bureau.scoping import may_write
from bureau.services import system_user
from bureau.spreadsheets import SpreadsheetError


class ImportCommand(BaseCommand):
    importer_class = None  # set by subclasses

    @staticmethod
    def may_import(user) -> bool:
        """Who may be named with --by; a command whose importer scopes its rows itself may widen it."""
        return may_write(user)

    def _author(self, username: str | None):
        """Who the rows are written by: the named staff account (within its scope), else the system user."""
        if not username:
            return system_user()
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--by：找不到启用中的账号“{username}”。")
        if not self.may_import(user):
            raise CommandError(f"--by：账号“{username}”没有导入数据的权限（只读或教师账号）。")
        return user

    def add_arguments(self, parser):
        parser.add_argument("file", help="xlsx 文件路径")
        parser.add_argument("--skip-invalid", action="store_true", help="写入有效行，报告无效行")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告，不写入")
        parser.add_argument("--by", metavar="USERNAME",
                            help="导入人（平台账号，按其权限范围导入并记为登记人）；不填则记为“系统”")

    def handle(self, *args, file, skip_invalid, dry_run, by=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        importer = self.importer_class(actor=self._author(by), today=today_local())
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
