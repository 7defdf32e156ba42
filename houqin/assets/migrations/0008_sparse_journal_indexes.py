"""The journal's indexes of columns that are empty on most rows become partial (``WHERE col IS NOT NULL``): the
item (every card's row has none), the state before (an opening, a card's first row, has none) and the reversed
row. A row without them then adds no entry to those five indexes — the 100,000 openings of a cut-over import
(issue 5) were 500,000 entries — and a lookup ``col = x`` (Django's PROTECT check too) implies ``col IS NOT
NULL``, so SQLite and PostgreSQL still use them.

The four single-column foreign-key indexes are replaced in the database only (``SeparateDatabaseAndState``): on
SQLite, Django's AlterField remakes the table, which would also drop the row-count triggers it carries. The
(item, -id) index is dropped and created again (RemoveIndex/AddIndex: no remake).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Django's names for the single-column indexes of the four foreign keys (the same on SQLite and PostgreSQL).
SINGLE = {
    "custodian_before": ("assets_assetmovement_custodian_before_id_7188c38d", "org.staff", "custodian before"),
    "department_before": ("assets_assetmovement_department_before_id_64284c99", "org.department", "department before"),
    "reversal_of": ("assets_assetmovement_reversal_of_id_483488e4", "assets.assetmovement", "reverses"),
    "room_before": ("assets_assetmovement_room_before_id_70037080", "org.room", "place before"),
}

# The partial indexes that replace them (names as in the model's Meta.indexes).
PARTIAL = {
    "room_before": "assets_movement_room_before",
    "department_before": "assets_movement_dept_before",
    "custodian_before": "assets_movement_keeper_before",
    "reversal_of": "assets_movement_reversal_of",
}


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0007_redundant_fk_indexes"),
        ("org", "0005_student_search_bigrams"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "assets_assetmovement" ("{name}_id")',
                )
                for name, (index, _to, _label) in SINGLE.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="assetmovement",
                    name=name,
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=to,
                        verbose_name=label,
                    ),
                )
                for name, (_index, to, label) in SINGLE.items()
            ],
        ),
        migrations.RemoveIndex(model_name="assetmovement", name="assets_movement_item"),
        migrations.AddIndex(
            model_name="assetmovement",
            index=models.Index(condition=models.Q(("item__isnull", False)), fields=["item", "-id"],
                               name="assets_movement_item"),
        ),
        *(
            migrations.AddIndex(
                model_name="assetmovement",
                index=models.Index(condition=models.Q((f"{name}__isnull", False)), fields=[name], name=partial),
            )
            for name, partial in PARTIAL.items()
        ),
    ]
