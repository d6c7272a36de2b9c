from bureau.management.importcommand import ImportCommand
from training.imports import ProjectImporter


class Command(ImportCommand):
    help = "导入培训项目 projects.xlsx（SPEC §7）"
    importer_class = ProjectImporter
