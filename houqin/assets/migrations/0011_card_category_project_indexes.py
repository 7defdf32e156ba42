"""Two index entries fewer per card: the cards' single-column category index is dropped (the (school, category)
index serves a lookup by category, a category being one school's), and the funding-project index keeps only the
few cards that have a project (a lookup ``project = …`` uses the partial index). The cut-over import writes
100,000 cards in one transaction with the lock held (issue 5).

The category field changes only in the migration state (``SeparateDatabaseAndState``, as in 0007 and 0009): on
SQLite, Django's AlterField remakes the table, which would also drop its search-index and row-count triggers.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0010_contentless_card_search_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_asset_category_id_b30c6baf"',
                    reverse_sql='CREATE INDEX "assets_asset_category_id_b30c6baf" ON "assets_asset" ("category_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "assets_asset_project_id_e78590c8"',
                    reverse_sql='CREATE INDEX "assets_asset_project_id_e78590c8" ON "assets_asset" ("project_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="asset", name="category",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="assets", to="assets.assetcategory", verbose_name="category"),
                ),
                migrations.AlterField(
                    model_name="asset", name="project",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.PROTECT, related_name="assets",
                                            to="assets.fundingproject", verbose_name="funding project"),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(condition=models.Q(("project__isnull", False)), fields=["project"],
                               name="assets_asset_project"),
        ),
    ]
