"""Every write to licenses, with the pool rules, once, for every entry point.

Each write runs in one transaction: it takes the company tree's lock (exclusive when it
changes who serves whom, shared otherwise) and the locks of the pools it touches, reads the
pools' timelines, applies the change, reads them again and compares. Whatever the change
made worse is refused (nothing is saved), or, when only residents stop fitting because
capacity went away, suspended on the administrator's confirmation.

Split by sub-domain; import from here.
"""

from ._base import BlockInput, NeedsConfirmation, SaveResult, SettingsInput, today
from .blocks import (
    allowed_block_kinds,
    block_extend,
    block_to_input,
    issue_trial,
    licenses_save,
    settings_input,
)
from .devices import device_register, device_unregister
from .grants import grant_set, grants_set_bulk
from .reminders import blocks_notified, next_reminder_for, reminder_due, reminders_advance
from .suspension import restore_grants, suspend_to_fit
from .tree import tree_change_check

__all__ = [
    "BlockInput", "NeedsConfirmation", "SaveResult", "SettingsInput", "allowed_block_kinds", "block_extend", "block_to_input",
    "device_register", "device_unregister", "grant_set", "grants_set_bulk", "issue_trial", "licenses_save",
    "blocks_notified", "next_reminder_for", "reminder_due", "reminders_advance", "restore_grants", "settings_input", "suspend_to_fit", "today", "tree_change_check",
]
