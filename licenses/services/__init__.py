"""Every write to licenses, with the pool rules, once, for every entry point.

Each write runs in one transaction: it takes the company tree's lock (exclusive when it
changes who serves whom, shared otherwise) and the locks of the pools it touches, reads the
pools' timelines, applies the change, reads them again and compares. Whatever the change
made worse is refused (nothing is saved), or, when only residents stop fitting because
capacity went away, suspended on the administrator's confirmation.

Split by sub-domain; import from here.
"""

from ._base import (
    MOBILE_APPS,
    VIRTUAL_NUMBERS,
    BlockInput,
    NeedsConfirmation,
    PoolChange,
    PoolFacts,
    SaveResult,
    SettingsInput,
    shortfall_message,
    today,
    validate_block_input,
)
from .blocks import (
    allowed_block_kinds,
    block_extend,
    block_to_input,
    issue_trial,
    licenses_save,
    next_reminder_for,
    reschedule_reminders,
    settings_input,
    validate_settings_input,
)
from .devices import device_register, device_unregister
from .grants import grant_set, grants_set_bulk, residents_of
from .suspension import restore_grants, suspend_to_fit
from .tree import tree_change_check

__all__ = [
    "MOBILE_APPS", "VIRTUAL_NUMBERS", "BlockInput", "NeedsConfirmation", "PoolChange", "PoolFacts", "SaveResult",
    "SettingsInput", "allowed_block_kinds", "block_extend", "block_to_input", "device_register", "device_unregister", "grant_set",
    "grants_set_bulk", "issue_trial", "licenses_save", "next_reminder_for", "reschedule_reminders",
    "residents_of", "restore_grants", "settings_input", "shortfall_message", "suspend_to_fit", "today",
    "tree_change_check", "validate_block_input", "validate_settings_input",
]
