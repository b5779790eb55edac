from django.db import migrations

COUNTED = [
    ("virtual_numbers", "Virtual numbers", "Віртуальні номери"),
    ("mobile_apps", "Mobile app installs", "Встановлення мобільного застосунку"),
    ("ukey2_keys", "UKEY2 keys", "Ключі UKEY2"),
]
SWITCHES = [
    ("sip_trunks", "SIP trunks", "SIP-транки"),
    ("group_forward_rules", "Group forward rules", "Правила переадресації групи"),
    ("remote_door_opening", "Remote door opening", "Віддалене відкриття дверей"),
    ("guest_access", "Guest access", "Гостьовий доступ"),
    ("elevators", "Elevators", "Ліфти"),
    ("amenities_reservation", "Amenities reservation", "Бронювання зручностей"),
    ("license_plates", "License plates", "Номерні знаки"),
    ("family_events", "Family events", "Сімейні події"),
    ("apple_watch", "Apple Watch", "Apple Watch"),
    ("siri", "Siri", "Siri"),
    ("white_label", "White label", "White label"),
]


def seed(apps, schema_editor):
    Feature = apps.get_model("licenses", "Feature")
    for kind, rows in (("counted", COUNTED), ("switch", SWITCHES)):
        for position, (code, name, name_uk) in enumerate(rows):
            Feature.objects.update_or_create(
                code=code, defaults={"name": name, "name_uk": name_uk, "kind": kind, "position": position})


def unseed(apps, schema_editor):
    apps.get_model("licenses", "Feature").objects.filter(code__in=[c for c, *_ in COUNTED + SWITCHES]).delete()


class Migration(migrations.Migration):
    dependencies = [("licenses", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
