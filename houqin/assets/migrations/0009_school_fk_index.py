"""The single-column school index of cards and low-value items dropped: the (school, code) unique index serves a
lookup by school alone (and on cards the (school, status) and (school, category) indexes). One index fewer to
keep per insert: the cut-over import writes 100,000 cards in one transaction (issue 5).

Only the indexes change in the database (``SeparateDatabaseAndState``, as in 0007): on SQLite, Django's
AlterField remakes the table, which would also drop the search-index and row-count triggers the tables carry.
"""

import django.db.models.deletion
from django.db import migrations, models


def _school():
    return models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to="org.school",
                             verbose_name="school")


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0008_sparse_journal_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_asset_school_id_8e8291db"',
                    reverse_sql='CREATE INDEX "assets_asset_school_id_8e8291db" ON "assets_asset" ("school_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_lowvalueitem_school_id_fafa05a0"',
                    reverse_sql='CREATE INDEX "assets_lowvalueitem_school_id_fafa05a0" ON "assets_lowvalueitem" '
                                '("school_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(model_name="asset", name="school", field=_school()),
                migrations.AlterField(model_name="lowvalueitem", name="school", field=_school()),
            ],
        ),
    ]
