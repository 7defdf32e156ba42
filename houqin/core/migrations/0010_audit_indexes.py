"""AuditEntry keeps the indexes its reads use: a record's history (content_type, object_id, -at) and, new, a
school's entries newest first (school, -at). The single-column indexes on school, content_type and at only
repeated a first column of those and cost a B-tree insert per entry (an import writes one entry per row).

The fields change in the migration state only; in the database the three indexes are dropped by name (on
SQLite, Django's AlterField would copy the whole audit table three times to change an index)."""

import django.db.models.deletion
from django.db import migrations, models

OLD_INDEXES = (
    "core_auditentry_at_1eaa156d",
    "core_auditentry_content_type_id_797ef574",
    "core_auditentry_school_id_1538bc66",
)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0009_row_count"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditentry",
                    name="at",
                    field=models.DateTimeField(auto_now_add=True, verbose_name="time"),
                ),
                migrations.AlterField(
                    model_name="auditentry",
                    name="content_type",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="contenttypes.contenttype",
                        verbose_name="record type",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditentry",
                    name="school",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="org.school",
                        verbose_name="school",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name in OLD_INDEXES],
                    reverse_sql=[
                        'CREATE INDEX "core_auditentry_at_1eaa156d" ON "core_auditentry" ("at")',
                        'CREATE INDEX "core_auditentry_content_type_id_797ef574" ON "core_auditentry" ("content_type_id")',
                        'CREATE INDEX "core_auditentry_school_id_1538bc66" ON "core_auditentry" ("school_id")',
                    ],
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["school", "-at"], name="core_audit_school_at"),
        ),
    ]
