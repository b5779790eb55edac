from datetime import timedelta

from groups import services as group_services
from groups.models import Role
from licenses import services
from licenses.history import group_history
from tests.licenses.helpers import block, give


def test_history_says_who_changed_what_from_what_to_what(tree, operator, person, client):
    today = services.today()
    dealer = tree["Dealer A1"]
    give(dealer, block(0, 0, start=today, days=5), actor=operator, on=today)
    group_services.group_update(group=dealer, name="Dealer A1 renamed", kind="dealer", actor=operator)
    entries = group_history(group=dealer)
    renamed = [e for e in entries if e.what.startswith("Group") and e.action == "changed"][0]
    assert ("name", "Dealer A1", "Dealer A1 renamed") in renamed.changes
    assert renamed.who == str(operator)
    assert any(e.what == "License settings" for e in entries)
    assert [e.what for e in group_history(group=dealer, subject="settings")] == ["License settings"]
    assert group_history(group=dealer, who="nobody@") == []

    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example")
    client.force_login(admin)
    page = client.get(f"/licenses/groups/{dealer.pk}/history/?subject=group").content.decode()
    assert "Dealer A1 renamed" in page and "License settings (" not in page
    page = client.get(f"/licenses/groups/{dealer.pk}/history/?since=not-a-date").content.decode()
    assert "Enter a valid date." in page
    other = person(Role.SITE_ADMIN, tree["Dealer A2"], email="a2@test.example")
    client.force_login(other)
    assert client.get(f"/licenses/groups/{dealer.pk}/history/").status_code == 404


def test_the_oldest_change_on_a_page_shows_what_it_changed_in_words(tree, operator):
    """A page of one entry still compares it with the record before (off the page), and fields
    and values are named as a person reads them, not as stored (valid_until, feature_id)."""
    today = services.today()
    dealer = tree["Dealer A1"]
    give(dealer, block(3, 1, start=today, days=5, key="b"), actor=operator, on=today)
    saved = dealer.license_blocks.get()
    give(dealer, block(3, 1, start=today, days=9, key="b", id=saved.pk), actor=operator, on=today)
    group_services.group_update(group=dealer, name="Dealer A1 renamed", kind="dealer", actor=operator)
    group_services.group_update(group=dealer, name="Dealer A1 again", kind="dealer", actor=operator)

    [latest] = group_history(group=dealer, subject="group", limit=1)
    assert latest.changes == [("name", "Dealer A1 renamed", "Dealer A1 again")]
    [lengthened] = [e for e in group_history(group=dealer, subject="block", limit=1)]
    assert lengthened.changes == [("valid until", today + timedelta(days=4), today + timedelta(days=8))]
    created = [dict((name, after) for name, _before, after in e.changes)
               for e in group_history(group=dealer, subject="blockfeature") if e.action == "created"]
    assert sorted((c["feature"], c["quantity"]) for c in created) == [("Mobile app installs", 1), ("Virtual numbers", 3)]
