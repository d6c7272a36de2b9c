"""SEC-3 in the logs: whatever a library puts into a log line, an ID-card number leaves masked."""

import logging
import re

from .rules import mask_id_number

ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")


class MaskIdNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if ID_NUMBER.search(message):
            record.msg = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0).upper()), message)
            record.args = ()
        if record.exc_info and record.exc_info[1] is not None and ID_NUMBER.search(str(record.exc_info[1])):
            record.exc_text = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0).upper()),
                                            logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
