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
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone, translation

from groups.chain import chains
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
    return recipients_by_group([group.pk])[group.pk]


def recipients_by_group(group_ids) -> dict[int, list[User]]:
    """recipients_for of many groups at once: their chains in one query, the administrators
    along them in another (and the server administrators once, if some group needs them)."""
    chain_of = chains(group_ids)
    admins: dict[int, list[User]] = defaultdict(list)
    on_chains = {g for chain in chain_of.values() for g in chain}
    for m in (Membership.objects.filter(role__in=list(ADMIN_ROLES), group_id__in=on_chains, user__is_active=True)
              .select_related("user").order_by("user__email")):
        if all(u.pk != m.user_id for u in admins[m.group_id]):
            admins[m.group_id].append(m.user)
    out: dict[int, list[User]] = {}
    superusers: list[User] | None = None
    for group_id in group_ids:
        nearest = next((admins[g] for g in chain_of.get(group_id, []) if admins.get(g)), None)
        if nearest is None:
            if superusers is None:
                superusers = list(User.objects.filter(is_superuser=True, is_active=True).order_by("email"))
            nearest = superusers
        out[group_id] = nearest
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


class _Batch:
    """What one batch of the sweep shares: templates compiled once per kind and language, one
    mail connection, and the bookkeeping written once for the batch, not once per mail."""

    def __init__(self, renderer: "mail.Renderer", on: date):
        self.renderer = renderer
        self.on = on
        self.connection = get_connection(fail_silently=False)  # opened at the first mail, closed by finish()
        self.notified: list[int] = []  # blocks whose administrators heard about them
        self.advance: list[tuple[LicenseBlock, PoolSettings]] = []  # groups whose every mail went out
        self.recipients: dict[int, list[User]] = {}  # group id -> who hears about its blocks

    def send(self, message) -> None:
        """Send over the batch's connection; a failure closes it, so the next mail opens a new one."""
        try:
            self.connection.open()  # a no-op once open
            message.send(fail_silently=False)
        except Exception:
            self.connection.close()
            raise

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception as exc:  # noqa: BLE001 - the mails went; a failed QUIT changes nothing
            log.warning("closing the mail connection failed: %s", exc)

    def finish(self) -> None:
        now = timezone.now()
        if self.notified:
            license_services.blocks_notified(block_ids=self.notified, at=now)
        if self.advance:
            license_services.reminders_advance(blocks=self.advance, on=self.on)


def send_license_reminders(*, on: date, dry_run: bool = False, batch: int = BATCH) -> SweepResult:
    result = SweepResult()
    renderer = mail.Renderer()  # each template compiled once per sweep and language
    for blocks in _due_batches(on, batch):
        by_group: dict[int, list[LicenseBlock]] = defaultdict(list)
        for block in blocks:
            by_group[block.group_id].append(block)
        settings_by_group = {s.group_id: s for s in PoolSettings.objects.filter(group_id__in=list(by_group))}
        work = _Batch(renderer, on)
        work.recipients = recipients_by_group(list(by_group))
        try:  # one SMTP connection for the batch
            for group_blocks in by_group.values():
                group = group_blocks[0].group
                group_settings = settings_by_group.get(group.pk) or PoolSettings(group=group)
                ok = _remind_group(group, group_blocks, group_settings, on=on, dry_run=dry_run, result=result,
                                   work=work)
                if ok and not dry_run:
                    work.advance += [(b, group_settings) for b in group_blocks]
        finally:
            work.close()
        if not dry_run:
            work.finish()
    return result


def _remind_group(group: Group, blocks: list[LicenseBlock], group_settings: PoolSettings, *, on: date,
                  dry_run: bool, result: SweepResult, work: _Batch) -> bool:
    due: dict[str, list[tuple[LicenseBlock, date]]] = defaultdict(list)
    for block in blocks:
        latest = schedule.due_for(block.valid_until, group_settings, on)
        if latest is not None:
            due[latest[1]].append((block, latest[0]))
    if not due:
        return True
    recipients = work.recipients[group.pk]
    if not recipients:
        for kind, items in due.items():
            for block, day in items:
                result.actions.append(ReminderAction(block.pk, group.pk, "", kind, day, "no recipient"))
        return True
    ok = True
    for recipient in recipients:
        # One mail per recipient, group and day lists every block due, expiring and expired together.
        try:
            _send_one(group, recipient, due, on=on, dry_run=dry_run, result=result, work=work)
        except Exception as exc:  # noqa: BLE001 - SMTP and friends: retried by the next run
            ok = False
            log.warning("reminder to %s for group %s failed: %s", recipient.email, group.pk, exc)
            result.failures.append(f"{recipient.email} / group {group.pk}: {exc}")
            for kind, items in due.items():
                for block, day in items:
                    result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day, "failed"))
    return ok


def _claim(recipient: User, due: dict[str, list[tuple[LicenseBlock, date]]], now) -> set[tuple[int, date]]:
    """Insert the ledger rows of this mail in one statement; the (block, day) pairs this call
    claimed. A row already there (sent before, or by a sweep running at once: it waits on the
    unique key until that one commits) is skipped."""
    rows = [(block.pk, day, recipient.pk, kind, now, now, 1, "")
            for kind, items in due.items() for block, day in items]
    table = connection.ops.quote_name(ReminderLedger._meta.db_table)
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (block_id, day, recipient_id, kind, created_at, sent_at, attempts, last_error) "
            f"VALUES {', '.join(['(%s, %s, %s, %s, %s, %s, %s, %s)'] * len(rows))} "
            f"ON CONFLICT (block_id, day, recipient_id) DO NOTHING RETURNING block_id, day",
            [v for b, d, r, k, c, s_, a, e in rows
             for v in (b, ops.adapt_datefield_value(d), r, k, ops.adapt_datetimefield_value(c),
                       ops.adapt_datetimefield_value(s_), a, e)])
        claimed = cursor.fetchall()
    return {(block_id, day if isinstance(day, date) else date.fromisoformat(day)) for block_id, day in claimed}


def _send_one(group: Group, recipient: User, due: dict[str, list[tuple[LicenseBlock, date]]], *, on: date,
              dry_run: bool, result: SweepResult, work: _Batch) -> None:
    if dry_run:
        for kind, items in due.items():
            sent = set(ReminderLedger.objects.filter(
                recipient=recipient, block_id__in=[b.pk for b, _d in items]).values_list("block_id", "day"))
            for block, day in items:
                status = "already sent" if (block.pk, day) in sent else "would send"
                result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day, status))
        return
    with transaction.atomic():
        now = timezone.now()
        # The ledger row says "sent" only if the mail went: the transaction is undone otherwise.
        mine = _claim(recipient, due, now)
        claimed: dict[str, list[tuple[LicenseBlock, date]]] = defaultdict(list)
        for kind, items in due.items():
            for block, day in items:
                if (block.pk, day) in mine:
                    claimed[kind].append((block, day))
                else:
                    result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day,
                                                         "already sent"))
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
                        "licenses": [_block_context(b, on) for b, _d in claimed[kind]],
                        "days_left": min(max((b.valid_until - on).days, 0) for b, _d in claimed[kind]),
                        "link": link,
                    }
                    parts.append(work.renderer.render(kind, language, context))
        rendered = mail.combine(parts)
        Notification.objects.create(user=recipient, group=group,
                                    kind=schedule.EXPIRING if claimed.get(schedule.EXPIRING) else schedule.EXPIRED,
                                    title=rendered.subject, body=rendered.text_body)
        # Sent inside the transaction: if it raises, the claim is rolled back and sent again later.
        work.send(mail.build_message(rendered, recipient.email, connection=work.connection))
        for kind, items in claimed.items():
            for block, day in items:
                result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day, "sent"))
    work.notified += [b.pk for items in claimed.values() for b, _d in items]


def send_test_mail(*, kind: str, language: str, to: str) -> mail.RenderedMail:
    """Render the current template (override or default) with sample data and send it to `to`."""
    rendered = mail.render(kind, language, mail.sample_context(language))
    mail.build_message(rendered, to).send(fail_silently=False)
    return rendered



