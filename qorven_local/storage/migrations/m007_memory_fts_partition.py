"""``memory_fts`` gains a ``part`` column: the memory's partition as one token, ``p<partition_id>``.

A keyword search can then restrict FTS5 to the searched partitions inside the MATCH expression
(``part : ("p3" OR "p7") AND content : (...)``): FTS5 intersects the posting lists and scores only
the scope's rows, instead of scoring every matching row of every partition and filtering them by a
join on ``memories`` afterwards. Searches rank with ``bm25(memory_fts, 1.0, 0.0)``, so the part
column never contributes to a score.

FTS5 cannot add a column, and the table is contentless, so it is rebuilt from ``memories`` (whose
``content`` is exactly what was indexed) in this migration's transaction; the table keeps its name,
its tokenizer and its rowids (= ``memories.seq``).
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Rebuild memory_fts with (content, part) and refill it from memories."""
    run_script(conn, """
    DROP TABLE memory_fts;
    CREATE VIRTUAL TABLE memory_fts USING fts5(
        content,
        part,
        content = '',
        contentless_delete = 1,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    INSERT INTO memory_fts (rowid, content, part) SELECT seq, content, 'p' || partition_id FROM memories;
    INSERT INTO memory_fts (memory_fts) VALUES ('optimize');
    """)
