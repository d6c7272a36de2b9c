"""Signals bureau sends for changes made without model saves (bulk imports)."""

from django.dispatch import Signal

# Teachers were created or changed in bulk (no post_save was sent); school_ids: every school touched,
# including the ones moved teachers left.
teachers_bulk_changed = Signal()
