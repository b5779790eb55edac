"""The reminder sweep: who hears about which block's end, when, exactly once.

Blocks carry `next_reminder_on`, kept by the licenses services, so the sweep reads only the
blocks that are due. For each due block it takes the latest reminder that fell due (after an
outage, that one alone, not a backlog). Each (block, reminder day, recipient) is claimed by
inserting (or, after a failed attempt, updating) a ledger row with a unique key in the same
transaction that sends the mail: a second sweep running at once waits on that key and then
skips; a failed send rolls the claim back and leaves a row that says "not sent", with the
attempts and the last error, so the next run or the task's retry sends it again. Never lost.

SMTP leaves one window: the server accepted the mail, and the process died before the claim's
COMMIT. The redelivered sweep sends that mail again, but as the same message: its Message-ID is
derived from the claim, so mail systems that drop duplicates by Message-ID (Gmail does) keep
one, and any other shows the same message twice, never a second reminder.
"""

import hashlib
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
        self._connection = None  # made and opened at the first mail, closed by close()
        self.notified: list[int] = []  # blocks whose administrators heard about them
        self.advance: list[tuple[LicenseBlock, PoolSettings]] = []  # groups whose every mail went out
        self.recipients: dict[int, list[User]] = {}  # group id -> who hears about its blocks

    @property
    def connection(self):
        """The batch's mail connection, made at the first mail: a backend that cannot even be made
        (the mail folder is a file, say) fails that mail, which is logged and retried, not the sweep."""
        if self._connection is None:
            self._connection = get_connection(fail_silently=False)
        return self._connection

    def send(self, message) -> None:
        """Send over the batch's connection; a failure closes it, so the next mail opens a new one."""
        try:
            self.connection.open()  # a no-op once open
            message.send(fail_silently=False)
        except Exception:
            if self._connection is not None:
                self._connection.close()
            raise

    def close(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.close()
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
            log.warning("reminder to %s for group %s failed: %r", recipient.email, group.pk, exc)
            _record_failure(recipient, due, exc)
            result.failures.append(f"{recipient.email} / group {group.pk}: {exc}")
            for kind, items in due.items():
                for block, day in items:
                    result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day, "failed"))
    return ok


def _upsert(recipient: User, due: dict[str, list[tuple[LicenseBlock, date]]], *, sent_at, error: str,
            on_conflict: str) -> set[tuple[int, date]]:
    """One INSERT … ON CONFLICT (block, day, recipient) of this mail's ledger rows; the (block,
    day) pairs it inserted or updated. `on_conflict` is the DO UPDATE's SET ({table} names the
    ledger, as PostgreSQL wants the existing row's columns qualified), applied only to rows
    not sent yet: a row already sent (or being sent by a sweep running at once, whose row lock
    this waits on) is left alone and not returned."""
    table = connection.ops.quote_name(ReminderLedger._meta.db_table)
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    rows = [(block.pk, ops.adapt_datefield_value(day), recipient.pk, kind, now,
             ops.adapt_datetimefield_value(sent_at), 1, error)
            for kind, items in due.items() for block, day in items]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (block_id, day, recipient_id, kind, created_at, sent_at, attempts, last_error) "
            f"VALUES {', '.join(['(%s, %s, %s, %s, %s, %s, %s, %s)'] * len(rows))} "
            f"ON CONFLICT (block_id, day, recipient_id) DO UPDATE SET {on_conflict.format(table=table)} "
            f"WHERE {table}.sent_at IS NULL RETURNING block_id, day",
            [v for row in rows for v in row])
        done = cursor.fetchall()
    return {(block_id, day if isinstance(day, date) else date.fromisoformat(day)) for block_id, day in done}


def _claim(recipient: User, due: dict[str, list[tuple[LicenseBlock, date]]], now) -> set[tuple[int, date]]:
    """Claim this mail's ledger rows as sent, inside the transaction that sends it; the (block,
    day) pairs this call claimed (new rows, and rows of earlier failed attempts)."""
    return _upsert(recipient, due, sent_at=now, error="",
                   on_conflict="sent_at = EXCLUDED.sent_at, attempts = {table}.attempts + 1, last_error = ''")


def _record_failure(recipient: User, due: dict[str, list[tuple[LicenseBlock, date]]], exc: Exception) -> None:
    """After the failed attempt rolled back, say so in the ledger (its own transaction): the row
    stays unsent, counts the attempt and keeps the error for the ledger page."""
    error = f"{type(exc).__name__}: {exc}"[:500]
    try:
        with transaction.atomic():
            _upsert(recipient, due, sent_at=None, error=error,
                    on_conflict="attempts = {table}.attempts + 1, last_error = EXCLUDED.last_error")
    except Exception as db_exc:  # noqa: BLE001 - the mail's failure is already logged; this is bookkeeping
        log.warning("could not record the failed reminder to %s in the ledger: %r", recipient.email, db_exc)


def message_id(recipient: User, claimed: dict[str, list[tuple[LicenseBlock, date]]]) -> str:
    """The mail's Message-ID, made from what it claims (and the installation's SITE_URL, so two
    installations never share one): a resend of the same claim, after a crash between the SMTP
    server's reply and the COMMIT, is recognisably the same message."""
    pairs = sorted(f"{block.pk}:{day.isoformat()}" for items in claimed.values() for block, day in items)
    digest = hashlib.sha256(f"{settings.SITE_URL}|{recipient.pk}|{'|'.join(pairs)}".encode()).hexdigest()[:24]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    return f"<reminder.{digest}@{domain}>"


def _send_one(group: Group, recipient: User, due: dict[str, list[tuple[LicenseBlock, date]]], *, on: date,
              dry_run: bool, result: SweepResult, work: _Batch) -> None:
    if dry_run:
        for kind, items in due.items():
            sent = set(ReminderLedger.objects.filter(
                recipient=recipient, block_id__in=[b.pk for b, _d in items], sent_at__isnull=False)
                .values_list("block_id", "day"))
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
        work.send(mail.build_message(rendered, recipient.email, connection=work.connection,
                                     headers={"Message-ID": message_id(recipient, claimed)}))
        for kind, items in claimed.items():
            for block, day in items:
                result.actions.append(ReminderAction(block.pk, group.pk, recipient.email, kind, day, "sent"))
    work.notified += [b.pk for items in claimed.values() for b, _d in items]


def send_test_mail(*, kind: str, language: str, to: str) -> mail.RenderedMail:
    """Render the current template (override or default) with sample data and send it to `to`."""
    rendered = mail.render(kind, language, mail.sample_context(language))
    mail.build_message(rendered, to).send(fail_silently=False)
    return rendered



