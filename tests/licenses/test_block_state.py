"""A block's state is one rule: the Python property and the reports' SQL agree on every day."""

from datetime import date, timedelta

import pytest

from licenses.models import LicenseBlock, state_annotation

START = date(2027, 1, 10)


@pytest.mark.django_db
def test_python_and_sql_give_the_same_state_on_every_day(tree):
    for n, (offset, days) in enumerate([(0, None), (0, 1), (-40, 10), (5, 60), (-10, 35), (0, 30), (0, 31)]):
        valid_from = START + timedelta(days=offset)
        LicenseBlock.objects.create(group=tree["Dealer A1"], kind="plus", valid_from=valid_from,
                                    valid_until=valid_from + timedelta(days=days - 1) if days else None,
                                    note=f"b{n}")
    seen = set()
    for day in (START + timedelta(days=d) for d in range(-50, 80, 3)):
        for block in LicenseBlock.objects.filter(note__startswith="b").annotate(sql_state=state_annotation(day)):
            assert block.state(day) == block.sql_state, (block.note, day)
            seen.add(block.sql_state)
    assert seen == {"scheduled", "expired", "ending", "active"}
