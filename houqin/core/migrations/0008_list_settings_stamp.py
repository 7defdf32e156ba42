from django.db import migrations

from houqin.core.authcache import install_list_triggers, remove_list_triggers


class Migration(migrations.Migration):
    """Stamp 2 of core_authstamp: changes with any user's list settings (core.authcache.list_settings)."""

    dependencies = [
        ("core", "0007_auth_stamp"),
    ]

    operations = [
        migrations.RunPython(install_list_triggers, remove_list_triggers),
    ]
