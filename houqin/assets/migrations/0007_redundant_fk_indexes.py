"""Six single-column foreign-key indexes dropped: each is the first column of a composite index that serves the same
lookups — (room, status) and (custodian, status) on cards and low-value items, (asset, -id) and (item, -id) on
the journal. One index fewer per column to keep on every insert (the cut-over import writes 100,000 cards and
their journal rows in one transaction, issue 5).

Only the indexes change in the database (``SeparateDatabaseAndState``): on SQLite, Django's AlterField remakes
the table, which would also drop the search-index and row-count triggers the tables carry.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0006_asset_search_bigrams"),
        ("org", "0005_student_search_bigrams"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_asset_room_id_dadecf27"',
                    reverse_sql='CREATE INDEX "assets_asset_room_id_dadecf27" ON "assets_asset" ("room_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_asset_custodian_id_cf597733"',
                    reverse_sql='CREATE INDEX "assets_asset_custodian_id_cf597733" ON "assets_asset" ("custodian_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_lowvalueitem_room_id_6e480240"',
                    reverse_sql='CREATE INDEX "assets_lowvalueitem_room_id_6e480240" ON "assets_lowvalueitem" ("room_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_lowvalueitem_custodian_id_13c80b5b"',
                    reverse_sql='CREATE INDEX "assets_lowvalueitem_custodian_id_13c80b5b" ON "assets_lowvalueitem" ("custodian_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_assetmovement_asset_id_ff0fa1b4"',
                    reverse_sql='CREATE INDEX "assets_assetmovement_asset_id_ff0fa1b4" ON "assets_assetmovement" ("asset_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_assetmovement_item_id_7a2e9942"',
                    reverse_sql='CREATE INDEX "assets_assetmovement_item_id_7a2e9942" ON "assets_assetmovement" ("item_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="asset",
                    name="custodian",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="%(class)s_set",
                        to="org.staff",
                        verbose_name="custodian",
                    ),
                ),
                migrations.AlterField(
                    model_name="asset",
                    name="room",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="%(class)s_set",
                        to="org.room",
                        verbose_name="place",
                    ),
                ),
                migrations.AlterField(
                    model_name="assetmovement",
                    name="asset",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="movements",
                        to="assets.asset",
                        verbose_name="fixed asset",
                    ),
                ),
                migrations.AlterField(
                    model_name="assetmovement",
                    name="item",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="movements",
                        to="assets.lowvalueitem",
                        verbose_name="low-value item",
                    ),
                ),
                migrations.AlterField(
                    model_name="lowvalueitem",
                    name="custodian",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="%(class)s_set",
                        to="org.staff",
                        verbose_name="custodian",
                    ),
                ),
                migrations.AlterField(
                    model_name="lowvalueitem",
                    name="room",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="%(class)s_set",
                        to="org.room",
                        verbose_name="place",
                    ),
                ),
            ],
        ),
    ]
