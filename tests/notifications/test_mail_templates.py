import pytest

from notifications import mail
from notifications.models import MailTemplate

pytestmark = pytest.mark.django_db


def override(**parts):
    src = {part: mail.default_source("expiring", "en", part) for part in mail.PARTS}
    src.update(parts)
    return src


def test_defaults_render_in_both_languages():
    for language in ("en", "uk"):
        for kind in ("expiring", "expired"):
            rendered = mail.render(kind, language, mail.sample_context(language))
            assert "Riverside, Building 1" in rendered.subject
            assert "/licenses/groups/1/" in rendered.text_body and "Virtual numbers" in rendered.html_body


def test_html_is_escaped_and_text_is_not():
    context = mail.sample_context("en") | {"group": "<b>A & B</b>"}
    rendered = mail.render("expiring", "en", context)
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in rendered.html_body
    assert "<b>A & B</b>" in rendered.text_body


def test_a_template_that_does_not_render_is_refused():
    with pytest.raises(Exception) as exc:
        mail.validate_sources(override(text_body="{% for %}"))
    assert "does not render" in str(exc.value)


def test_a_missing_required_placeholder_is_refused_at_its_part():
    with pytest.raises(Exception) as exc:
        mail.validate_sources(override(html_body="<p>{{ licenses }}</p>"))
    assert "html_body" in exc.value.error_dict and "{{ link }}" in str(exc.value)


def test_override_wins_and_deleting_it_restores_the_default():
    src = override(subject="Soon: {{ group }}")
    template = MailTemplate.objects.create(kind="expiring", language="en", **src)
    assert mail.render("expiring", "en", mail.sample_context("en")).subject == "Soon: Riverside, Building 1"
    template.delete()
    assert mail.render("expiring", "en", mail.sample_context("en")).subject.startswith("Licenses of Riverside")


def test_admin_refuses_a_bad_override_previews_and_sends_a_test(admin_client, mailoutbox):
    data = override(text_body="no placeholders", kind="expiring", language="en")
    response = admin_client.post("/admin/notifications/mailtemplate/add/", data)
    assert response.status_code == 200 and "Required placeholders missing" in response.content.decode()
    assert not MailTemplate.objects.exists()
    response = admin_client.post("/admin/notifications/mailtemplate/add/", override(kind="expiring", language="en"))
    assert response.status_code == 302
    template = MailTemplate.objects.get()
    preview = admin_client.get(f"/admin/notifications/mailtemplate/{template.pk}/preview/").content.decode()
    assert "Riverside, Building 1" in preview
    admin_client.post(f"/admin/notifications/mailtemplate/{template.pk}/test/", {"email": "ops@test.example"})
    assert [m.to for m in mailoutbox] == [["ops@test.example"]]


def test_company_admin_cannot_reach_mail_templates(client, company_admin):
    client.force_login(company_admin)
    assert client.get("/admin/notifications/mailtemplate/").status_code == 403
