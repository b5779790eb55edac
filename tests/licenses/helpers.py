from datetime import date, timedelta

from licenses.services import BlockInput, SettingsInput, licenses_save

TODAY = date(2027, 1, 10)
ALL = ["virtual_numbers", "mobile_apps", "ukey2_keys"]


def block(vn=0, apps=0, keys=0, *, start=TODAY, days=None, until="auto", switches=(), key="b", id=None, kind="plus"):
    if until == "auto":
        until = start + timedelta(days=days - 1) if days else None
    quantities = {"virtual_numbers": vn, "mobile_apps": apps, "ukey2_keys": keys}
    quantities.update({s: 1 for s in switches})
    return BlockInput(key=key, id=id, kind=kind, valid_from=start, valid_until=until, quantities=quantities)


def give(group, *blocks, actor, restricted=True, confirm=False, on=TODAY, delete_ids=(), **settings):
    return licenses_save(group=group, settings=SettingsInput(restricted=restricted, **settings), blocks=list(blocks),
                         delete_ids=delete_ids, actor=actor, on=on, confirm_suspend=confirm)


def drop_trials(group=None):
    """Delete Trial blocks (of `group`, or all) behind the services' back, as a test's ground
    needs, and recount the pools' stored totals from the rows."""
    from licenses import totals
    from licenses.models import LicenseBlock

    blocks = LicenseBlock.objects.filter(group=group) if group is not None else LicenseBlock.objects.filter(kind="trial")
    blocks.delete()
    totals.rebuild_all()


def company_pool(tree, *, actor, vn=100, apps=100, start=TODAY, days=365, switches=()):
    """The usual ground for a test: no company's Trial (not under test: its reminders and expiry
    would mix in), and Company A with a pool of its own for `days` from `start`."""
    drop_trials()
    return give(tree["Company A"], block(vn, apps, start=start, days=days, switches=switches), actor=actor, on=start)
