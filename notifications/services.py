"""The reminder sweep: who hears about which block's end, when, exactly once.

Blocks carry `next_reminder_on`, kept by the licenses services, so the sweep reads only the
blocks that are due. For each due block it takes the latest reminder that fell due (after an
outage, that one alone, not a backlog). Each (block, reminder day, recipient) is claimed by
inserting a ledger row with a unique key in the same transaction that sends the mail: a
second sweep running at once waits on that key and then skips; a failed send rolls the claim
back, so the next run or the task's retry sends it again. Never lost, never doubled.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone, translation

from groups.chain import chain_ids
from groups.models import ADMIN_ROLES, Group, Membership, User
from licenses import schedule
from licenses import services as license_services
from licenses.models import BlockFeature, LicenseBlock, PoolSettings

from . import mail
from .models import Notification, ReminderLedger

log = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class ReminderAction:
    block_id: int
    group_id: int
    recipient: str
    kind: str
    day: date
    status: str  # "sent", "would send", "already sent", "no recipient", "failed"

    def as_dict(self) -> dict:
        return {"block": self.block_id, "group": self.group_id, "recipient": self.recipient, "kind": self.kind,
                "day": self.day.isoformat(), "status": self.status}


@dataclass
class SweepResult:
    actions: list[ReminderAction] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def recipients_for(group: Group) -> list[User]:
    """The administrators of the group, or of its nearest ancestor that has some; with none up the
    tree, the server administrators. A due reminder is never skipped for want of a recipient."""
    memberships = list(
        Membership.objects.filter(role__in=list(ADMIN_ROLES), group_id__in=chain_ids(group.pk), user__is_active=True).select_related("user", "group").order_by("-group__level", "user__email")
    )
    if not memberships:
        return list(User.objects.filter(is_superuser=True, is_active=True).order_by("email"))
    deepest = memberships[0].group.level
    seen, out = set(), []
    for m in memberships:
        if m.group.level == deepest and m.user_id not in seen:
            seen.add(m.user_id)
            out.append(m.user)
    return out


def _block_context(block: LicenseBlock, on: date) -> dict:
    return {
        "kind": block.get_kind_display(),
        "valid_from": block.valid_from.isoformat(),
        "valid_until": block.valid_until.isoformat() if block.valid_until else "",
        "days_left": max((block.valid_until - on).days, 0) if block.valid_until else None,
        "quantities": [{"feature": q.feature.label, "quantity": q.quantity if q.feature.is_counted else translation.pgettext("switch feature", "on")}
                       for q in block.quantities.all() if q.quantity],
    }


def _due_batches(on: date, batch: int):
    last_id = 0
    while True:
        blocks = list(
            # Blocks of a group whose restriction is off count nowhere: nothing to remind about.
            LicenseBlock.objects.filter(next_reminder_on__lte=on, pk__gt=last_id,
                                        group__license_settings__restricted=True).order_by("pk")
            .select_related("group")
            .prefetch_related(Prefetch("quantities", queryset=BlockFeature.objects.select_related("feature")))[:batch]
        )
        if not blocks:
            return
        last_id = blocks[-1].pk
        yield blocks


def send_license_reminders(*, on: date, dry_run: bool = False, batch: int = BATCH) -> SweepResult:
    result = SweepResult()
    for blocks in _due_batches(on, batch):
        by_group: dict[int, list[LicenseBlock]] = defaultdict(list)
        for block in blocks:
            by_group[block.group_id].append(block)
        settings_by_group = {s.group_id: s for s in PoolSettings.objects.filter(group_id__in=list(by_group))}
        for group_blocks in by_group.values():
            group = group_blocks[0].group
            group_settings = settings_by_group.get(group.pk) or PoolSettings(group=group)
            ok = _remind_group(group, group_blocks, group_settings, on=on, dry_run=dry_run, result=result)
            if ok and not dry_run:
                license_services.reminders_advance(blocks=group_blocks, settings=group_settings, on=on)
    return result


def _remind_group(group: Group, blocks: list[LicenseBlock], group_settings: PoolSettings, *, on: date,
                  dry_run: bool, result: SweepResult) -> bool:
    due: dict[str, list[tuple[LicenseBlock, date]]] = defaultdict(list)
    for block in blocks:
        latest = schedule.due_for(block.valid_until, group_settings, on)
        if latest is not None:
            due[latest[1]].append((block, latest[0]))
    if not due:
        return True
    recipients = recipients_for(group)
    if not recipients:
        for kind, items in due.items():
            for block, day in items:
                result.actions.append(ReminderAction(block.pk, group.pk, "", kind, day, "no recipient"))
        return True
    ok = True
    for recipient in recipients:
        # One mail per recipient, group and day lists every block due, expiring and expired together.
        try:
            _send_one(group, recipient, due, on=on, dry_run=dry_run, result=result)
        except Exception as exc:  # noqa: BLE001 - SMTP and friends: retried by the next run
            ok = False
            log.warning("reminder to %s for group %s failed: %s", recipient.email, group.pk, exc)
            result.failures.append(f"{recipient.email} / group {group.pk}: {exc}")
            for kind, items in due.items():
                for block, day in items:
                    result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day, "failed"))
    return ok


def _send_one(group: Group, recipient: User, due: dict[str, list[tuple[LicenseBlock, date]]], *, on: date,
              dry_run: bool, result: SweepResult) -> None:
    if dry_run:
        for kind, items in due.items():
            sent = set(ReminderLedger.objects.filter(
                recipient=recipient, block_id__in=[b.pk for b, _d in items]).values_list("block_id", "day"))
            for block, day in items:
                status = "already sent" if (block.pk, day) in sent else "would send"
                result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day, status))
        return
    with transaction.atomic():
        claimed: dict[str, list[tuple[LicenseBlock, date, ReminderLedger]]] = defaultdict(list)
        for kind, items in due.items():
            for block, day in items:
                try:
                    with transaction.atomic():
                        row = ReminderLedger.objects.create(block=block, day=day, recipient=recipient, kind=kind,
                                                            attempts=1)
                except IntegrityError:
                    result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day,
                                                         "already sent"))
                    continue
                claimed[kind].append((block, day, row))
        if not claimed:
            return
        link = settings.SITE_URL.rstrip("/") + reverse("licenses:group_licenses", args=[group.pk])
        language = recipient.language or "en"
        parts = []
        with translation.override(language):
            for kind in (schedule.EXPIRING, schedule.EXPIRED):
                if claimed.get(kind):
                    context = {
                        "group": group.name,
                        "administrator": recipient.display_name,
                        "licenses": [_block_context(b, on) for b, _d, _r in claimed[kind]],
                        "days_left": min(max((b.valid_until - on).days, 0) for b, _d, _r in claimed[kind]),
                        "link": link,
                    }
                    parts.append(mail.render(kind, language, context))
        rendered = mail.combine(parts)
        # Sent inside the transaction: if it raises, the claim is rolled back and sent again later.
        mail.build_message(rendered, recipient.email).send(fail_silently=False)
        now = timezone.now()
        rows = [row for items in claimed.values() for row in items]
        ReminderLedger.objects.filter(pk__in=[r.pk for _b, _d, r in rows]).update(sent_at=now)
        license_services.blocks_notified(block_ids=[b.pk for b, _d, _r in rows], at=now)
        Notification.objects.create(user=recipient, group=group,
                                    kind=schedule.EXPIRING if claimed.get(schedule.EXPIRING) else schedule.EXPIRED,
                                    title=rendered.subject, body=rendered.text_body)
        for kind, items in claimed.items():
            for block, day, _row in items:
                result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day, "sent"))


def send_test_mail(*, kind: str, language: str, to: str) -> mail.RenderedMail:
    """Render the current template (override or default) with sample data and send it to `to`."""
    rendered = mail.render(kind, language, mail.sample_context(language))
    mail.build_message(rendered, to).send(fail_silently=False)
    return rendered



