"""Two-character student searches (张伟, zw) at 100k rows: on SQLite, a bigram index beside the trigram one.

``org_student_fts_bi`` is a contentless FTS5 table holding one token per character pair of each
student's number, name and pinyin keys, kept in step by triggers made of plain SQL
(``core.search_index.bigram_index``); the list search asks it for the candidate rows of a
two-character term, which the trigram index (``org.0004``) cannot answer. Other databases get
nothing and search as before.
"""

from django.db import migrations

from houqin.core.search_index import bigram_index

BIGRAMS = bigram_index("org_student", "org_student_fts_bi", ("student_no", "name", "search_keys"))


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0004_student_search_index"),
    ]

    operations = [
        migrations.RunPython(*BIGRAMS),
    ]
