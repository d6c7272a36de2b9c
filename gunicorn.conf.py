"""gunicorn settings for the web process; gunicorn reads this file from the working directory.

Sync workers, one and a half per core (WEB_CONCURRENCY overrides): on this 2-core machine three beat
two (a core idles while a worker waits on Redis) and four or more (they queue behind each other) in the
PERF-4 load (bench/RESULTS.md, docs/decisions.md). The workers' heartbeat file lives in /dev/shm, off disk.
"""

import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count() * 3 // 2)))
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

from gunicorn.glogging import Logger  # noqa: E402


class IdMaskingLogger(Logger):
    """SEC-3: the access log (request line, referer) and the error log never hold an ID-card number; the same
    mask as every Django log (bureau.logfilters), added to gunicorn's own loggers."""

    def setup(self, cfg):
        super().setup(cfg)
        from bureau.logfilters import MaskIdNumbers

        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, MaskIdNumbers) for f in log.filters):
                log.addFilter(MaskIdNumbers())


logger_class = IdMaskingLogger
