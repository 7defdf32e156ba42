"""The student search indexes (trigram and bigram) made again without per-row token counts (FTS5
``columnsize=0``, ``core.search_index._contentless_statements``): only ranking reads them, and the search reads
rowids alone. Less to write when a large import fills them (issue 5).

On SQLite with FTS5 only; each index is rebuilt from the students. Going back rebuilds them the same way: the
older code reads only rowids too.
"""

from django.db import migrations

from houqin.core.search_index import bigram_index, trigram_index

COLUMNS = ("student_no", "name", "search_keys")
TRIGRAMS, _T = trigram_index("org_student", "org_student_fts", COLUMNS, replace=True)
BIGRAMS, _B = bigram_index("org_student", "org_student_fts_bi", COLUMNS, replace=True)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0006_contentless_student_search_index"),
    ]

    operations = [
        migrations.RunPython(TRIGRAMS, TRIGRAMS),
        migrations.RunPython(BIGRAMS, BIGRAMS),
    ]
