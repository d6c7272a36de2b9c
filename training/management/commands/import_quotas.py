from bureau.management.importcommand import ImportCommand
from training.imports import ShareImporter


class Command(ImportCommand):
    help = "导入名额分配 quotas.xlsx（项目编号、单位代码、名额）"
    importer_class = ShareImporter
