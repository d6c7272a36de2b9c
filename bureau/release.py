"""The release id: the cache key prefix (imported by the settings, so no Django here)."""

import hashlib
from pathlib import Path

CODE_DIRS = ("bureau", "credits", "training", "exchange", "backbone", "templates")


def release_id(base_dir: Path) -> str:
    """A digest of the code and templates, so that pages, users and figures cached by one release
    (pickled models, rendered HTML naming hashed static files) are never read by the next. Web and
    Celery processes of one release compute the same id. The RELEASE setting replaces it."""
    digest = hashlib.sha256()
    for folder in CODE_DIRS:
        for path in sorted((base_dir / folder).rglob("*")):
            if path.suffix in (".py", ".html") and "migrations" not in path.parts:
                digest.update(str(path.relative_to(base_dir)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
