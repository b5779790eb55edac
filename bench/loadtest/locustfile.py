"""What the load test's people do (locust 2.47): `python -m bench.loadtest` runs it.

Each user logs in as another dealer administrator (user 1 → dealer-01@load.example, …) through
/login/ like a browser (the CSRF token from the form), then, with weights: browses the tree (the
groups page and the lazy children of a few levels), opens a Licenses page in its dealer, adds a
small Plus block to one of its restricted buildings through the Licenses form (or, when that
building already holds four of the load test's blocks, removes the oldest: the what-if page,
then Confirm), saves a resident's grant, and downloads the usage CSV.

Users 1–5 also race, in a second browser tab, for the small shared "Contention" pool: every
ROUND seconds (on the wall clock) all five send at the same instant a block that fits the pool
alone but not two at once. At most one may be accepted per round; the others must be refused
with the form's error (200). A winner gives its block back a few seconds later (what-if,
Confirm), so every round starts with the room free.

Requests are named by page, so the statistics group by page, not by URL. Any 5xx is a failure.
Outcomes (5xx with their request ids, contention rounds, what-ifs confirmed…) are written to
LOADTEST_OUTCOMES (var/loadtest/outcomes.json) when the test stops.
"""

import itertools
import json
import os
import random
import re
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from locust.clients import HttpSession
from locust.exception import StopUser

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE.parent.parent / "var" / "loadtest"
MANIFEST = Path(os.environ.get("LOADTEST_MANIFEST", OUT_DIR / "manifest.json"))
OUTCOMES = Path(os.environ.get("LOADTEST_OUTCOMES", OUT_DIR / "outcomes.json"))
ROUND = float(os.environ.get("LOADTEST_ROUND_SECONDS", "15"))
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("LOADTEST_WAIT", "1,4").split(","))
KEEP_BLOCKS = 4  # load-test blocks a building may hold before the next save removes the oldest
NOTE = "load test"

DATA = json.loads(MANIFEST.read_text())
CONTENTION = DATA["contention"]

# Pages, as they appear in the statistics.
LOGIN = "/login/"
HOME = "/ → dashboard"
TREE = "/groups/ (tree)"
CHILDREN = "/groups/[id]/children/ (lazy children)"
LICENSES = "/licenses/groups/[id]/ (Licenses)"
ADD_BLOCK = "/licenses/groups/[id]/ save: add block"
REMOVE_BLOCK = "/licenses/groups/[id]/ save: remove block → what-if"
CONFIRM = "/licenses/groups/[id]/ what-if: Confirm"
RACE = "/licenses/groups/[id]/ save: Contention race"
RESIDENT = "/licenses/groups/[id]/residents/[id]/ (resident)"
GRANT = "/licenses/groups/[id]/residents/[id]/ save: grant"
USAGE_CSV = "/licenses/reports/usage/?format=csv"

# What happened, for the report (written at test stop).
SERVER_ERRORS: list[dict] = []
NO_RESPONSE: list[dict] = []
PER_SECOND: dict[int, Counter] = defaultdict(Counter)  # wall-clock second -> answered / 503 / 5xx / no response
COUNTS: Counter = Counter()
ROUNDS: dict[int, Counter] = defaultdict(Counter)
REFUSALS: list[str] = []
RACE_REFUSALS: list[str] = []  # the first few refusals' texts, to show what the racers were told
_user_numbers = itertools.count(1)
_request_numbers = itertools.count(1)
_racers: list = []


# --- HTML forms, read as a browser submits them -----------------------------------------


class _FormParser(HTMLParser):
    """Every <form>: its attributes, the successful controls in document order (checkboxes only
    when checked, a select's selected option or else its first, textareas), and its buttons.
    Controls inside <template> are inert and left out, as a browser does."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.template_depth = 0
        self.select: dict | None = None
        self.option: dict | None = None
        self.textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "template":
            self.template_depth += 1
            return
        if self.template_depth:
            return
        if tag == "form":
            self.form = Form(a)
            self.forms.append(self.form)
            return
        if self.form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                if name:
                    self.form.buttons[a.get("id") or name] = (name, a.get("value", ""))
                return
            if kind == "file" or not name:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.form.fields.append([name, a.get("value", "on")])
                return
            self.form.fields.append([name, a.get("value", "")])
        elif tag == "button":
            if name:
                self.form.buttons[a.get("id") or name] = (name, a.get("value", ""))
        elif tag == "select" and name:
            self.select = {"name": name, "multiple": "multiple" in a, "options": [], "selected": []}
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and name:
            self.textarea = {"name": name, "text": ""}

    def handle_endtag(self, tag):
        if tag == "template":
            self.template_depth = max(0, self.template_depth - 1)
            return
        if self.template_depth:
            return
        if tag == "option" and self.option is not None:
            self._close_option()
        elif tag == "select" and self.select is not None:
            self._close_option()
            s = self.select
            chosen = s["selected"] or ([] if s["multiple"] or not s["options"] else [s["options"][0]])
            if self.form is not None:
                self.form.fields += [[s["name"], v] for v in chosen]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            if self.form is not None:
                text = self.textarea["text"]
                self.form.fields.append([self.textarea["name"], text[1:] if text.startswith("\n") else text])
            self.textarea = None
        elif tag == "form":
            self.form = None

    def handle_data(self, data):
        if self.option is not None:
            self.option["text"] += data
        elif self.textarea is not None:
            self.textarea["text"] += data

    def _close_option(self):
        o, self.option = self.option, None
        if o is None or self.select is None:
            return
        value = o["value"] if o["value"] is not None else o["text"].strip()
        self.select["options"].append(value)
        if o["selected"]:
            self.select["selected"].append(value)


class Form:
    def __init__(self, attrs: dict):
        self.attrs = attrs
        self.fields: list[list[str]] = []
        self.buttons: dict[str, tuple[str, str]] = {}

    def get(self, name: str, default: str | None = None) -> str | None:
        return next((v for n, v in self.fields if n == name), default)

    def set(self, name: str, value) -> None:
        for pair in self.fields:
            if pair[0] == name:
                pair[1] = str(value)
                return
        self.fields.append([name, str(value)])

    def names(self) -> list[str]:
        return [n for n, _v in self.fields]

    def data(self) -> list[tuple[str, str]]:
        return [(n, v) for n, v in self.fields]


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def find_form(html: str, *, form_id: str | None = None, field: str | None = None) -> Form | None:
    for form in parse_forms(html):
        if (form_id and form.attrs.get("id") == form_id) or (field and field in form.names()):
            return form
    return None


def new_card(html: str, index: int) -> Form:
    """The fields of a new license card, as licenses.js adds it: the formset's empty form from
    <template id="block-template"> with __prefix__ replaced by the card's index."""
    match = re.search(r'<template id="block-template">(.*?)</template>', html, re.S)
    if not match:
        raise ValueError("no block template on the page (not editable?)")
    return parse_forms("<form>" + match.group(1).replace("__prefix__", str(index)) + "</form>")[0]


def saved_cards(form: Form) -> list[dict]:
    """The saved blocks on a Licenses form: prefix, id and note of each card."""
    cards = []
    for name, value in form.fields:
        m = re.fullmatch(r"(blocks-\d+)-id", name)
        if m and value:
            cards.append({"prefix": m.group(1), "id": int(value), "note": form.get(f"{m.group(1)}-note", "")})
    return cards


def form_errors(html: str) -> str:
    """The text of the error summary at the top of a form (empty if none), shortened."""
    at = html.find('id="form-errors"')
    if at < 0:
        return ""
    chunk = html[html.find(">", at) + 1:at + 3000]
    chunk = chunk.split("</ul>")[0] if "</ul>" in chunk else chunk.split("</div>\n")[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", chunk)).strip()[:400]


# --- statistics hooks --------------------------------------------------------------------


@events.request.add_listener
def _on_request(request_type, name, response_time, response_length, response=None, exception=None, url=None,
                **_kwargs):
    status = getattr(response, "status_code", None) if response is not None else None
    second = int(time.time())
    if status is not None and status >= 500:
        SERVER_ERRORS.append({"name": name, "method": request_type, "url": url, "status": status,
                              "request_id": response.headers.get("X-Request-ID"),
                              "at": time.strftime("%H:%M:%S"), "ts": time.time(),
                              "says_nothing_saved": status == 503 and "nothing was saved" in (response.text or "")})
        PER_SECOND[second]["503" if status == 503 else "5xx"] += 1
    elif exception is not None and not status:
        NO_RESPONSE.append({"name": name, "url": url, "error": repr(exception)[:300],
                            "at": time.strftime("%H:%M:%S"), "ts": time.time()})
        PER_SECOND[second]["no response"] += 1
    elif status is not None:
        PER_SECOND[second]["answered"] += 1


@events.test_stop.add_listener
def _on_test_stop(environment, **_kwargs):
    for greenlet in _racers:
        greenlet.kill(block=False)
    allowed = CONTENTION["room"].get(CONTENTION["feature"], 0) // CONTENTION["ask"]
    rounds = {r: dict(c) for r, c in sorted(ROUNDS.items())}
    over = [r for r, c in rounds.items() if c.get("accepted", 0) > allowed]
    OUTCOMES.parent.mkdir(parents=True, exist_ok=True)
    OUTCOMES.write_text(json.dumps({
        "server_errors": SERVER_ERRORS, "no_response": NO_RESPONSE, "counts": dict(COUNTS),
        "contention": {"rounds": len(rounds), "allowed_per_round": allowed, "ask": CONTENTION["ask"],
                       "room": CONTENTION["room"], "per_round": rounds, "over_allocated_rounds": over,
                       "accepted": sum(c.get("accepted", 0) for c in rounds.values()),
                       "refused": sum(c.get("refused", 0) for c in rounds.values()),
                       "refusal_samples": RACE_REFUSALS},
        "unexpected_refusals": REFUSALS[:50],
        "per_second": {str(k): dict(v) for k, v in sorted(PER_SECOND.items())},
    }, indent=1))


# --- one person in a browser -------------------------------------------------------------


class Browser:
    """A logged-in session of one dealer administrator; every request carries an X-Request-ID
    (lt<user>-<n>) that the web's JSON log lines repeat."""

    def __init__(self, client: HttpSession, number: int):
        self.client = client
        self.number = number

    def _headers(self, extra: dict | None = None) -> dict:
        return {"X-Request-ID": f"lt{self.number:02d}-{next(_request_numbers)}", **(extra or {})}

    def get(self, url: str, name: str, **kwargs):
        return self.client.get(url, name=name, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, url: str, data, name: str, **kwargs):
        # A browser sends the page it is on as Referer and its origin.
        headers = {"Referer": self.client.base_url + url, "Origin": self.client.base_url}
        return self.client.post(url, data=data, name=name, allow_redirects=False,
                                headers=self._headers({**headers, **kwargs.pop("headers", {})}), **kwargs)

    def login(self, email: str, password: str) -> bool:
        page = self.get(LOGIN, LOGIN)
        form = find_form(page.text, field="username") if page.ok else None
        if form is None:
            return False
        form.set("username", email)
        form.set("password", password)
        with self.post(LOGIN, form.data(), LOGIN, catch_response=True) as r:
            if r.status_code == 302:
                r.success()
            else:
                r.failure(f"login as {email} answered {r.status_code}")
                return False
        self.get(r.headers.get("Location", "/"), HOME)
        return True

    def licenses_page(self, pk: int):
        with self.get(f"/licenses/groups/{pk}/", LICENSES, catch_response=True) as r:
            if r.status_code == 200 and 'id="licenses-form"' in r.text:
                r.success()
            elif r.status_code < 500:
                r.failure(f"Licenses page answered {r.status_code}")
        return r

    def save_licenses(self, pk: int, data, name: str, *, expect: str):
        """POST the Licenses form. expect: "saved" (a redirect), "what-if" or "race" (saved or
        refused). Returns (outcome, response): outcome saved | what-if | refused | other."""
        with self.post(f"/licenses/groups/{pk}/", data, name, catch_response=True) as r:
            if r.status_code == 302:
                outcome = "saved"
            elif r.status_code == 200 and 'id="what-if-confirm"' in r.text:
                outcome = "what-if"
            elif r.status_code == 200 and 'id="form-errors"' in r.text:
                outcome = "refused"
            else:
                outcome = "other"
            if r.status_code >= 500:
                r.failure(f"HTTP {r.status_code}")
            elif outcome == expect or (expect == "race" and outcome in ("saved", "refused")):
                r.success()
            else:
                detail = form_errors(r.text) if outcome == "refused" else f"HTTP {r.status_code}"
                REFUSALS.append(f"{name} group {pk}: expected {expect}, got {outcome}: {detail}"[:500])
                r.failure(f"expected {expect}, got {outcome}")
        return outcome, r

    def remove_block(self, pk: int, form: Form, prefix: str) -> bool:
        """Mark a saved block for removal and save: the what-if page, then its Confirm button."""
        form.set(f"{prefix}-DELETE", "on")
        outcome, r = self.save_licenses(pk, form.data(), REMOVE_BLOCK, expect="what-if")
        if outcome == "saved":  # nothing was taken away after all (no what-if needed)
            COUNTS["blocks removed without what-if"] += 1
            return True
        if outcome != "what-if":
            return False
        # The browser submits the form as the what-if page shows it, with the Confirm button.
        again = find_form(r.text, form_id="licenses-form")
        name, fingerprint = again.buttons["what-if-confirm"]
        outcome, _r = self.save_licenses(pk, [*again.data(), (name, fingerprint)], CONFIRM, expect="saved")
        if outcome == "saved":
            COUNTS["what-ifs confirmed"] += 1
            return True
        return False

    def block_form(self, page_html: str, quantities: dict[str, int], days: int = 30) -> Form:
        """The Licenses form as on the page plus one new card ("Add new license")."""
        form = find_form(page_html, form_id="licenses-form")
        index = int(form.get("blocks-TOTAL_FORMS"))
        card = new_card(page_html, index)
        prefix = f"blocks-{index}"
        start = date.fromisoformat(card.get(f"{prefix}-valid_from") or date.today().isoformat())
        card.set(f"{prefix}-valid_until", (start + timedelta(days=days)).isoformat())
        card.set(f"{prefix}-note", f"{NOTE} u{self.number:02d} {time.strftime('%H:%M:%S')}")
        for code, q in quantities.items():
            card.set(f"{prefix}-f_{code}", q)
        form.set("blocks-TOTAL_FORMS", index + 1)
        form.fields += card.fields
        return form


class DealerAdmin(HttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self):
        self.number = next(_user_numbers)
        self.me = DATA["dealers"][(self.number - 1) % len(DATA["dealers"])]
        self.browser = Browser(self.client, self.number)
        if not self.browser.login(self.me["email"], DATA["password"]):
            raise StopUser()
        COUNTS["logins"] += 1
        self.racer = None
        if self.number <= 5 and self.me["email"] in CONTENTION["children"]:
            # A second tab: its own session, so the race runs beside the user's other pages.
            session = HttpSession(self.host, self.environment.events.request, self)
            self.racer = gevent.spawn(Racer(Browser(session, self.number), self.me["email"]).run)
            _racers.append(self.racer)

    def on_stop(self):
        if self.racer is not None:
            self.racer.kill(block=False)

    @task(4)
    def browse_tree(self):
        page = self.browser.get("/groups/", TREE)
        if not page.ok:
            return
        links = re.findall(r'hx-get="(/groups/(\d+)/children/)"', page.text)
        mine = [url for url, pk in links if int(pk) == self.me["dealer"]]
        url = mine[0] if mine else (random.choice(links)[0] if links else None)
        for _level in range(random.randint(2, 4)):  # dealer → sites → buildings → units → floors
            if url is None:
                return
            r = self.browser.get(url, CHILDREN, headers={"HX-Request": "true"})
            if not r.ok:
                return
            below = re.findall(r'hx-get="(/groups/\d+/children/)"', r.text)
            url = random.choice(below) if below else None
            gevent.sleep(random.uniform(0.2, 0.8))  # a person reads before opening the next level

    @task(3)
    def open_licenses(self):
        self.browser.licenses_page(random.choice(self.me["pages"]))

    @task(2)
    def save_block(self):
        pk = random.choice(self.me["targets"])
        page = self.browser.licenses_page(pk)
        if page.status_code != 200:
            return
        form = find_form(page.text, form_id="licenses-form")
        ours = [c for c in saved_cards(form) if c["note"].startswith(NOTE)]
        gevent.sleep(random.uniform(0.5, 1.5))  # filling in the card
        if len(ours) >= KEEP_BLOCKS:
            oldest = min(ours, key=lambda c: c["id"])
            if self.browser.remove_block(pk, form, oldest["prefix"]):
                self.browser.licenses_page(pk)  # where the redirect lands
            return
        form = self.browser.block_form(page.text, {"virtual_numbers": 1, "mobile_apps": 1})
        outcome, _r = self.browser.save_licenses(pk, form.data(), ADD_BLOCK, expect="saved")
        if outcome == "saved":
            COUNTS["blocks added"] += 1
            self.browser.licenses_page(pk)

    @task(2)
    def save_grant(self):
        if not self.me["residents"]:
            return
        who = random.choice(self.me["residents"])
        url = f"/licenses/groups/{who['apartment']}/residents/{who['user']}/"
        page = self.browser.get(url, RESIDENT)
        if page.status_code != 200:
            return
        form = find_form(page.text, field="f_virtual_numbers")
        current = int(form.get("f_virtual_numbers") or 0)
        form.set("f_virtual_numbers", 2 if current == 1 else 1)
        gevent.sleep(random.uniform(0.3, 1.0))
        with self.browser.post(url, form.data(), GRANT, catch_response=True) as r:
            if r.status_code == 302:
                r.success()
                COUNTS["grants saved"] += 1
            elif r.status_code < 500:
                REFUSALS.append(f"grant {url}: HTTP {r.status_code} {form_errors(r.text)}"[:500])
                r.failure(f"grant not saved: HTTP {r.status_code}")
        if r.status_code == 302:
            self.browser.get(url, RESIDENT)

    @task(1)
    def usage_csv(self):
        with self.browser.get(USAGE_CSV, USAGE_CSV, catch_response=True) as r:
            if r.status_code == 200 and r.headers.get("Content-Type", "").startswith("text/csv") and r.text.count("\n") > 1:
                r.success()
                COUNTS["usage CSV rows"] += r.text.count("\n") - 1
            elif r.status_code < 500:
                r.failure(f"usage CSV: HTTP {r.status_code} {r.headers.get('Content-Type')}")


class Racer:
    """Users 1–5 in a second tab: every ROUND seconds, at the same instant, a block that fits the
    Contention pool alone but not two at once; a winner gives it back a few seconds later."""

    def __init__(self, browser: Browser, email: str):
        self.browser = browser
        self.email = email
        self.pk = CONTENTION["children"][email]
        self.ask = {CONTENTION["feature"]: CONTENTION["ask"]}

    def run(self):
        if not self.browser.login(self.email, DATA["password"]):
            return
        self.give_back()  # whatever an interrupted earlier run left
        while True:
            now = time.time()
            fire = (now // ROUND + 1) * ROUND
            if fire - now < 4:
                fire += ROUND
            gevent.sleep(fire - now - 3)
            page = self.browser.licenses_page(self.pk)
            if page.status_code != 200:
                continue
            form = self.browser.block_form(page.text, self.ask)
            gevent.sleep(max(0.0, fire - time.time()))
            round_no = int(fire // ROUND)
            outcome, r = self.browser.save_licenses(self.pk, form.data(), RACE, expect="race")
            if outcome == "saved":
                ROUNDS[round_no]["accepted"] += 1
                allowed = CONTENTION["room"].get(CONTENTION["feature"], 0) // CONTENTION["ask"]
                if ROUNDS[round_no]["accepted"] > allowed:
                    events.request.fire(request_type="CHECK", name="Contention: over-allocation accepted",
                                        response_time=0, response_length=0, response=None, context={},
                                        exception=AssertionError(f"round {round_no}: more than {allowed} accepted"))
                gevent.sleep(3)
                self.give_back()
            elif outcome == "refused":
                ROUNDS[round_no]["refused"] += 1
                if len(RACE_REFUSALS) < 3:
                    RACE_REFUSALS.append(form_errors(r.text))
            else:
                ROUNDS[round_no]["other"] += 1

    def give_back(self):
        for _attempt in range(3):
            page = self.browser.licenses_page(self.pk)
            if page.status_code != 200:
                return
            form = find_form(page.text, form_id="licenses-form")
            ours = [c for c in saved_cards(form) if c["note"].startswith(NOTE)]
            if not ours:
                return
            # One at a time: each removal is its own what-if and confirmation.
            self.browser.remove_block(self.pk, form, ours[0]["prefix"])
