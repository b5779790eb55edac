"""Every write to the tree and to memberships, split by sub-domain; import from here."""

from .generate import (
    MAX_GENERATED_GROUPS,
    GenerationPlan,
    groups_generate,
    validate_generation_plan,
)
from .people import membership_add, membership_remove, roles_for, user_invite, validate_role
from .tree import (
    deletion_refused,
    deletions_refused,
    group_create,
    group_delete,
    group_deletion_summary,
    group_move,
    group_update,
    register_company_created_hook,
    register_tree_change_check,
)

__all__ = [
    "MAX_GENERATED_GROUPS", "GenerationPlan", "validate_role", "deletion_refused", "deletions_refused", "group_create", "group_delete",
    "group_deletion_summary", "group_move", "group_update", "groups_generate", "membership_add",
    "membership_remove", "roles_for", "register_company_created_hook", "register_tree_change_check", "user_invite",
    "validate_generation_plan",
]
