"""The card search indexes (trigram and bigram) made again without per-row token counts (FTS5
``columnsize=0``, ``core.search_index._contentless_statements``): only ranking reads them, and the search reads
rowids alone. Less to write when the cut-over import fills them (issue 5: 0.1 s an index at 100,000 cards).

On SQLite with FTS5 only; each index is rebuilt from the cards. Going back rebuilds them the same way: the older
code reads only rowids too.
"""

from django.db import migrations

from houqin.core.search_index import bigram_index, trigram_index

COLUMNS = ("code", "finance_code", "name", "spec", "search_keys")
TRIGRAMS, _T = trigram_index("assets_asset", "assets_asset_fts", COLUMNS, replace=True)
BIGRAMS, _B = bigram_index("assets_asset", "assets_asset_fts_bi", COLUMNS, replace=True)


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0011_card_category_project_indexes"),
    ]

    operations = [
        migrations.RunPython(TRIGRAMS, TRIGRAMS),
        migrations.RunPython(BIGRAMS, BIGRAMS),
    ]
