"""A test-only mail backend for the fault drills: it stands for the SMTP server.

Each message it accepts becomes one JSON line in $DRILL_MAIL_DIR/delivered.jsonl (who, which
group, which process), so a drill counts what people received. Options, read from Django
settings first (an in-process drill overrides them) and the environment second (a worker):

- DRILL_MAIL_DELAY: seconds each message takes to transfer (a slow SMTP server), default 0.
- DRILL_HOLD_AT, DRILL_HOLD_PHASE: at this process's N-th message (unless some process held
  already: $DRILL_MAIL_DIR/held exists), write $DRILL_MAIL_DIR/held and sleep (for the drill
  to SIGKILL the worker there): "before" the server accepted it, or
  "after" it accepted it (the reply not yet read, the ledger not yet committed).
- DRILL_REFUSE_FLAG: while this file exists, connecting or sending fails as a refusing SMTP
  server does; each refusal is a line in $DRILL_MAIL_DIR/refused.jsonl.
- DRILL_REFUSE_AFTER: when the N-th message (all processes) was accepted, create the flag (once).
"""

import json
import os
import re
import smtplib
import time
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

GROUP_LINK = re.compile(r"/licenses/groups/(\d+)/")
_accepted_here = 0  # messages this process accepted


def option(name: str, default: str = "") -> str:
    value = getattr(settings, name, None)
    return str(value) if value is not None else os.environ.get(name, default)


def _append(path: Path, record: dict) -> None:
    line = (json.dumps(record) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)  # one write of one short line under O_APPEND: lines never interleave
        os.fsync(fd)
    finally:
        os.close(fd)


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


class DrillBackend(BaseEmailBackend):
    def __init__(self, fail_silently=False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.folder = Path(option("DRILL_MAIL_DIR"))
        self.folder.mkdir(parents=True, exist_ok=True)

    def _refused(self, what: str) -> bool:
        flag = option("DRILL_REFUSE_FLAG")
        if flag and Path(flag).exists():
            _append(self.folder / "refused.jsonl", {"what": what, "pid": os.getpid(), "at": time.time()})
            return True
        return False

    def open(self):
        if self._refused("connect"):
            raise ConnectionRefusedError(111, "Connection refused")
        return False

    def close(self):
        pass

    def send_messages(self, email_messages):
        global _accepted_here
        sent = 0
        for message in email_messages:
            if self._refused("send"):
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            # Once per drill: a process that takes over (a new pool process) does not hold again.
            hold = int(option("DRILL_HOLD_AT", "0") or 0) == _accepted_here + 1 and not (self.folder / "held").exists()
            phase = option("DRILL_HOLD_PHASE", "before")
            if hold and phase == "before":
                self._hold()
            time.sleep(float(option("DRILL_MAIL_DELAY", "0") or 0))
            link = GROUP_LINK.search(message.body)
            _append(self.folder / "delivered.jsonl", {
                "to": message.to[0], "group": int(link.group(1)) if link else None, "subject": message.subject,
                "message_id": message.extra_headers.get("Message-ID"),
                "pid": os.getpid(), "at": time.time()})
            _accepted_here += 1
            sent += 1
            after = int(option("DRILL_REFUSE_AFTER", "0") or 0)
            if after and len(read_lines(self.folder / "delivered.jsonl")) == after:
                Path(option("DRILL_REFUSE_FLAG")).touch()
            if hold and phase == "after":
                self._hold()
        return sent

    def _hold(self) -> None:
        (self.folder / "held").write_text(str(os.getpid()))
        time.sleep(120)  # the drill kills the worker here
