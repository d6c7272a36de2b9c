import datetime as dt
import os

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from bureau.tasks import purge_stale_uploads


def test_stale_previewed_uploads_are_purged_and_fresh_ones_kept(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    default_storage.save("imports/7/old.xlsx", ContentFile(b"x"))
    default_storage.save("imports/7/new.xlsx", ContentFile(b"x"))
    two_days_ago = (dt.datetime.now() - dt.timedelta(days=2)).timestamp()
    os.utime(tmp_path / "imports/7/old.xlsx", (two_days_ago, two_days_ago))
    assert purge_stale_uploads() == 1
    assert purge_stale_uploads() == 0
    assert (tmp_path / "imports/7/new.xlsx").exists() and not (tmp_path / "imports/7/old.xlsx").exists()


def test_nothing_to_purge(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert purge_stale_uploads() == 0
