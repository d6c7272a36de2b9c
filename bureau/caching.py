"""What bureau's rows bump in the cache registry (bureau.versions.register; CONVENTIONS habit 18).

The signed-in user (bureau.auth) carries the user, the profile, the teacher record, the school and its
district; the header's unread count (bureau.context_processors) counts notices.
"""

from django.contrib.auth import get_user_model

from . import versions
from .auth import ALL_USERS, user_version_key
from .context_processors import notice_version_key
from .models import District, Notice, Profile, School, Teacher


def register_all() -> None:
    User = get_user_model()
    versions.register(User, lambda user: [user_version_key(user.pk)], coarse=[ALL_USERS])
    versions.register(Profile, lambda profile: [user_version_key(profile.user_id)], coarse=[ALL_USERS])
    # A teacher record moving to another account (or to none): the account that held it lets go at once.
    versions.register(Teacher, lambda teacher: [user_version_key(teacher.user_id)] if teacher.user_id else [],
                      coarse=[ALL_USERS], track_before=True)
    versions.register(School, lambda school: [ALL_USERS])
    versions.register(District, lambda district: [ALL_USERS])
    versions.register(Notice, lambda notice: [notice_version_key(notice.recipient_id)])
    # Group membership changes send m2m_changed only (bureau.auth.on_groups_changed bumps for them).
    versions.register(User.groups.through, lambda row: [user_version_key(row.user_id)], coarse=[ALL_USERS])
