"""The card search's trigram index made contentless (``core.search_index.trigram_index``): the search reads only
the rowids of its matches, so the copy of every card's texts the index kept was never read. 100,000 cards: 74 MB
instead of 107 MB, and less to write with the lock held when a cut-over import fills it (issue 5).

On SQLite with FTS5 only; the index is rebuilt from the cards (about 2 s at 100,000 cards). Going back
rebuilds it the same way: the older code reads only rowids too.
"""

from django.db import migrations

from houqin.core.search_index import trigram_index

FORWARDS, _BACKWARDS = trigram_index("assets_asset", "assets_asset_fts",
                                     ("code", "finance_code", "name", "spec", "search_keys"), replace=True)


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0009_school_fk_index"),
    ]

    operations = [
        migrations.RunPython(FORWARDS, FORWARDS),
    ]
