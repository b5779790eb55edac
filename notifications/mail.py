"""Mail templates: files by default, a server administrator's override when there is one."""

import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.loader import get_template
from django.utils.translation import gettext as _

from .models import MailTemplate

PARTS = ("subject", "text_body", "html_body")
FILE_SUFFIX = {"subject": "subject.txt", "text_body": "txt", "html_body": "html"}
# Placeholders a mail cannot do without, per part: a template that lacks one is refused.
REQUIRED = {"subject": ["group"], "text_body": ["licenses", "link"], "html_body": ["licenses", "link"]}
PLACEHOLDERS = ["group", "administrator", "licenses", "days_left", "link"]


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text_body: str
    html_body: str


def default_source(kind: str, language: str, part: str) -> str:
    template = get_template(f"mail/{kind}.{language}.{FILE_SUFFIX[part]}")
    return template.template.source


def sources(kind: str, language: str) -> dict[str, str]:
    override = MailTemplate.objects.filter(kind=kind, language=language).first()
    if override is not None:
        return {part: getattr(override, part) for part in PARTS}
    return {part: default_source(kind, language, part) for part in PARTS}


def render_sources(src: dict[str, str], context: dict) -> RenderedMail:
    out = {}
    for part in PARTS:
        autoescape = part == "html_body"
        template = Template(src[part], engine=Engine(autoescape=autoescape))
        out[part] = template.render(Context(context, autoescape=autoescape))
    out["subject"] = " ".join(out["subject"].split())  # one line
    return RenderedMail(**out)


def render(kind: str, language: str, context: dict) -> RenderedMail:
    return render_sources(sources(kind, language), context)


class Renderer:
    """Templates read and compiled once per (kind, language), for a sweep that renders many mails."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, str], dict[str, Template]] = {}

    def render(self, kind: str, language: str, context: dict) -> RenderedMail:
        compiled = self._compiled.get((kind, language))
        if compiled is None:
            src = sources(kind, language)
            compiled = self._compiled[(kind, language)] = {
                part: Template(src[part], engine=Engine(autoescape=part == "html_body")) for part in PARTS}
        out = {part: template.render(Context(context, autoescape=part == "html_body"))
               for part, template in compiled.items()}
        out["subject"] = " ".join(out["subject"].split())  # one line
        return RenderedMail(**out)


def _mentions(source: str, name: str) -> bool:
    return re.search(r"{[{%][^}]*\b" + re.escape(name) + r"\b", source) is not None


def validate_sources(src: dict[str, str]) -> None:
    """Refuse a template that does not render or lacks a required placeholder, at its field."""
    errors: dict[str, list[str]] = {}
    for part in PARTS:
        try:
            Template(src.get(part, ""), engine=Engine(autoescape=part == "html_body"))
        except TemplateSyntaxError as exc:
            errors.setdefault(part, []).append(_("This does not render: %(error)s") % {"error": exc})
            continue
        missing = [name for name in REQUIRED[part] if not _mentions(src.get(part, ""), name)]
        if missing:
            errors.setdefault(part, []).append(
                _("Required placeholders missing: %(names)s.") % {"names": ", ".join("{{ " + m + " }}" for m in missing)})
    if not errors:
        try:
            render_sources(src, sample_context("en"))
        except Exception as exc:  # noqa: BLE001 - any failure to render is the author's to fix
            errors.setdefault("text_body", []).append(_("This does not render: %(error)s") % {"error": exc})
    if errors:
        raise ValidationError(errors)


def sample_context(language: str) -> dict:
    return {
        "group": "Riverside, Building 1",
        "administrator": "Olena Admin",
        "days_left": 5,
        "link": f"{settings.SITE_URL}/licenses/groups/1/",
        "licenses": [{
            "kind": "Plus", "valid_from": date(2027, 1, 1), "valid_until": date(2027, 12, 31), "days_left": 5,
            "quantities": [{"feature": "Virtual numbers", "quantity": 20}, {"feature": "Mobile app installs", "quantity": 15}],
        }],
    }


def combine(parts: list[RenderedMail]) -> RenderedMail:
    """One mail from several rendered ones (a group's expiring and expired blocks of one day)."""
    if len(parts) == 1:
        return parts[0]
    return RenderedMail(
        subject=" · ".join(p.subject for p in parts),
        text_body="\n\n-----\n\n".join(p.text_body.strip() for p in parts) + "\n",
        html_body="<hr>".join(p.html_body for p in parts),
    )


def build_message(rendered: RenderedMail, to: str, connection=None, headers=None) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(rendered.subject, rendered.text_body, settings.DEFAULT_FROM_EMAIL, [to],
                                     connection=connection, headers=headers)
    message.attach_alternative(rendered.html_body, "text/html")
    return message
