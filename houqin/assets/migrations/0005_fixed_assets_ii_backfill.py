"""Cards that existed before Fixed assets II: their accumulated depreciation starts from the cut-over opening
balance (no monthly run exists yet), and the disposal date is taken from the journal, so the runs skip the
month of disposal and the 对账表 leaves disposed cards out (domain-rules.md §2.3)."""

from django.db import migrations
from django.db.models import F, Max, OuterRef, Subquery


def backfill(apps, schema_editor):
    Asset = apps.get_model("assets", "Asset")
    AssetMovement = apps.get_model("assets", "AssetMovement")
    Asset.objects.filter(opening_depreciation__isnull=False, depreciation_lines__isnull=True).update(
        accumulated_depreciation=F("opening_depreciation"))
    disposed_on = (AssetMovement.objects.filter(asset=OuterRef("pk"), status_after="disposed")
                   .values("asset").annotate(day=Max("happened_on")).values("day")[:1])
    Asset.objects.filter(status="disposed", disposed_on__isnull=True).update(disposed_on=Subquery(disposed_on))


class Migration(migrations.Migration):
    dependencies = [("assets", "0004_fixed_assets_ii")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
