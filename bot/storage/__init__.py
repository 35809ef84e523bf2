"""SQLite storage through sqlite-utils: named migrations and one small repository per table group.

The database is the source of truth; indexes in `bot.core` are derived from it and rebuilt.
"""

from bot.storage.audit import AuditRepo
from bot.storage.banks import BankRepo
from bot.storage.communities import CommunitySettingsRepo
from bot.storage.database import open_database
from bot.storage.lists import ListRepo

__all__ = ["AuditRepo", "BankRepo", "CommunitySettingsRepo", "ListRepo", "open_database"]
