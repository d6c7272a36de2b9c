from bureau.imports import TeacherImporter
from bureau.management.importcommand import ImportCommand


class Command(ImportCommand):
    help = "导入教师名册 teachers.xlsx（SPEC §7）"
    importer_class = TeacherImporter
