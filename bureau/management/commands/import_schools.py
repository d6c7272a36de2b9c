from bureau.imports import SchoolImporter
from bureau.management.importcommand import ImportCommand


class Command(ImportCommand):
    help = "导入学校名册 schools.xlsx（SPEC §7）"
    importer_class = SchoolImporter
