from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from backbone.exports import roster_entries, write_roster


class Command(BaseCommand):
    help = "导出全市骨干教师名册（每个认定条目一行，含历史）"

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True)

    def handle(self, *args, output, **options):
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"输出目录不存在：{path.parent}")
        entries = roster_entries()
        write_roster(path, entries, timezone.localdate())
        self.stdout.write(f"骨干教师名册：{entries.count()} 条。已写出 {path}")
