"""Who changed what in a group's licenses, tree position and people, from what to what."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.models import Group, Membership

from .models import BlockFeature, Device, Grant, GrantFeature, LicenseBlock, PoolSettings

SKIP_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type", "history_user",
               "history_user_id", "id", "history_relation", "created_at", "lft", "rght", "level", "tree_id"}


@dataclass
class Entry:
    when: datetime
    who: str
    what: str
    action: str
    changes: list[tuple[str, object, object]]  # (field, before, after)


ACTIONS = {"+": gettext_lazy("created"), "~": gettext_lazy("changed"), "-": gettext_lazy("deleted")}


def _entries(records: list, label) -> list[Entry]:
    """Pair each record with the previous one of the same object to say what changed."""
    records = sorted(records, key=lambda r: (r.history_object_id_for_pairing, r.history_date, r.history_id))
    out, previous = [], {}
    for r in records:
        fields = [f.attname for f in r._meta.fields if f.attname not in SKIP_FIELDS]
        prev = previous.get(r.history_object_id_for_pairing)
        changes = []
        for name in fields:
            after = getattr(r, name)
            before = getattr(prev, name) if prev is not None else None
            if r.history_type == "+" and after not in (None, ""):
                changes.append((name, None, after))
            elif r.history_type == "~" and prev is not None and before != after:
                changes.append((name, before, after))
        previous[r.history_object_id_for_pairing] = r
        who = str(r.history_user) if r.history_user_id else _("system")
        out.append(Entry(r.history_date, who, label(r), str(ACTIONS.get(r.history_type, r.history_type)), changes))
    return out


def _tag(qs, key: str):
    records = list(qs.select_related("history_user"))
    for r in records:
        r.history_object_id_for_pairing = (key, getattr(r, "id", None) or getattr(r, "pk", None) or getattr(r, "group_id", None))
    return records


SUBJECTS = ["group", "settings", "block", "blockfeature", "device", "grant", "grantfeature", "membership"]


def group_history(*, group: Group, limit: int = 200, subject: str = "", who: str = "",
                  since=None, until=None) -> list[Entry]:
    """The latest `limit` changes of the group itself, its settings, blocks, devices, grants and roles.

    subject: one of SUBJECTS; who: part of the actor's email; since/until: dates, both included.
    """
    block_ids = LicenseBlock.history.filter(group_id=group.pk).values("id").distinct()
    grant_ids = Grant.history.filter(group_id=group.pk).values("id").distinct()
    sources = [
        (Group.history.filter(id=group.pk), "group", lambda r: _("Group %(name)s") % {"name": r.name}),
        (PoolSettings.history.filter(group_id=group.pk), "settings", lambda r: _("License settings")),
        (LicenseBlock.history.filter(group_id=group.pk), "block", lambda r: _("Block #%(id)s (%(kind)s)") % {"id": r.id, "kind": r.kind}),
        (BlockFeature.history.filter(block_id__in=block_ids).select_related("feature"), "blockfeature",
         lambda r: _("Block #%(id)s: %(feature)s") % {"id": r.block_id, "feature": r.feature.label if r.feature_id else ""}),
        (Device.history.filter(group_id=group.pk), "device", lambda r: _("Device %(serial)s") % {"serial": r.serial_number}),
        (Grant.history.filter(group_id=group.pk).select_related("user"), "grant", lambda r: _("Grant of %(user)s") % {"user": r.user}),
        (GrantFeature.history.filter(grant_id__in=grant_ids).select_related("feature"), "grantfeature",
         lambda r: _("Grant #%(id)s: %(feature)s") % {"id": r.grant_id, "feature": r.feature.label if r.feature_id else ""}),
        (Membership.history.filter(group_id=group.pk).select_related("user"), "membership",
         lambda r: _("Role %(role)s of %(user)s") % {"role": r.role, "user": r.user}),
    ]
    entries: list[Entry] = []
    for qs, key, label in sources:
        if subject and not key.startswith(subject):
            continue
        if who:
            qs = qs.filter(history_user__email__icontains=who.strip())
        if since:
            qs = qs.filter(history_date__date__gte=since)
        if until:
            qs = qs.filter(history_date__date__lte=until)
        entries += _entries(_tag(qs.order_by("-history_date")[:limit], key), label)
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]
