"""Two-character card searches (钢琴, 空调, gq) at 100k cards: on SQLite, a bigram index beside the trigram one.

``assets_asset_fts_bi`` is a contentless FTS5 table holding one token per character pair of each
card's code, finance code, name, spec and pinyin keys, kept in step by triggers made of plain SQL
(``core.search_index.bigram_index``); the card search asks it for the candidate rows of a
two-character term, which the trigram index (``assets.0003``) cannot answer. Other databases get
nothing and search as before.
"""

from django.db import migrations

from houqin.core.search_index import bigram_index

BIGRAMS = bigram_index("assets_asset", "assets_asset_fts_bi", ("code", "finance_code", "name", "spec", "search_keys"))


class Migration(migrations.Migration):

    dependencies = [
        ("assets", "0005_fixed_assets_ii_backfill"),
    ]

    operations = [
        migrations.RunPython(*BIGRAMS),
    ]
