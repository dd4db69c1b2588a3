"""Memory rows, their vectors and their full-text entries: every SQL statement of memory lives here.

A memory is four rows in four tables (see ``migrations/m003_memory.py``;
``m007_memory_fts_partition.py`` adds the FTS ``part`` column); ``insert``, ``update``
and ``delete`` write all of them with the caller's connection, i.e. inside the caller's one
``Database.write()`` transaction, so the index can never drift from the rows.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence, TypeVar

from qorven_local.memory.types import Memory
from qorven_local.models import Page
from qorven_local.storage.db import Connection, Database, Row, table_tools
from qorven_local.storage.paging import fetch_page, tenant_filters

T = TypeVar("T")

MEMORY_COLUMNS = ("id", "tenant_id", "partition_id", "scope", "agent_id", "session_id", "kind", "content",
                  "importance", "source", "created_at", "updated_at", "last_recalled_at")


def row_to_memory(row: Row | dict[str, Any]) -> Memory:
    """The ``Memory`` of a ``memories`` row."""
    return Memory(id=row["id"], tenant_id=row["tenant_id"], scope=row["scope"], agent_id=row["agent_id"],
                  session_id=row["session_id"], kind=row["kind"], content=row["content"],
                  importance=row["importance"], source=row["source"], created_at=row["created_at"],
                  updated_at=row["updated_at"], last_recalled_at=row["last_recalled_at"], seq=row["seq"],
                  partition_id=row["partition_id"])


def part_token(partition_id: int) -> str:
    """The token ``memory_fts.part`` holds for a partition (migration m007)."""
    return f"p{int(partition_id)}"


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


class MemoryStore:
    """SQL for memories; write methods take the connection of the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def threaded_or_here(self, threaded: Callable[[], T], here: Callable[[], T]) -> T:
        """``threaded()``, whose reads run on other threads, unless this thread is inside a write:
        then ``here()``, because only the writer connection sees the transaction's uncommitted rows."""
        return here() if self.db.in_write() else threaded()

    # -- partitions -------------------------------------------------------------------------

    def partition_for(self, conn: Connection, tenant_id: str, scope: str, owner: str) -> int:
        """The partition id of (tenant, scope, owner), created on first use."""
        row = conn.execute("SELECT id FROM memory_partitions WHERE tenant_id = ? AND scope = ? AND owner = ?",
                           (tenant_id, scope, owner)).fetchone()
        if row:
            return row[0]
        return conn.execute("INSERT INTO memory_partitions (tenant_id, scope, owner) VALUES (?, ?, ?)",
                            (tenant_id, scope, owner)).lastrowid

    def partitions(self, tenant_id: str, audiences: Sequence[tuple[str, str]] | None) -> list[int]:
        """Existing partition ids of a tenant: all of them (``audiences`` None) or those (scope, owner)."""
        with self.db.read() as conn:
            if audiences is None:
                rows = conn.execute("SELECT id FROM memory_partitions WHERE tenant_id = ?", (tenant_id,))
                return [r[0] for r in rows]
            out = []
            for scope, owner in audiences:
                row = conn.execute("SELECT id FROM memory_partitions WHERE tenant_id = ? AND scope = ? AND owner = ?",
                                   (tenant_id, scope, owner)).fetchone()
                if row:
                    out.append(row[0])
            return out

    # -- writes (all four tables, in the caller's transaction) ------------------------------------

    def insert(self, conn: Connection, memory: Memory, vector: bytes, generation: int) -> int:
        """Insert the row, its float vector, its bit vector and its FTS entry; return its seq."""
        values = [getattr(memory, c) for c in MEMORY_COLUMNS]
        seq = conn.execute(f"INSERT INTO memories ({', '.join(MEMORY_COLUMNS)}) VALUES ({_marks(values)})",
                           values).lastrowid
        memory.seq = seq
        assert memory.partition_id is not None, "insert a memory with its partition_for()"
        self._index(conn, seq, memory.partition_id, memory.kind, memory.content, vector, generation)
        return seq

    def _index(self, conn: Connection, seq: int, partition_id: int, kind: str, content: str, vector: bytes,
               generation: int) -> None:
        conn.execute("INSERT INTO memory_vectors (memory_rowid, generation, embedding) VALUES (?, ?, ?)",
                     (seq, generation, vector))
        conn.execute("INSERT INTO memory_vec (memory_rowid, partition_id, embedding, kind) "
                     "VALUES (?, ?, vec_quantize_binary(?), ?)", (seq, partition_id, vector, kind))
        conn.execute("INSERT INTO memory_fts (rowid, content, part) VALUES (?, ?, ?)",
                     (seq, content, part_token(partition_id)))

    def _unindex(self, conn: Connection, seq: int) -> None:
        conn.execute("DELETE FROM memory_vectors WHERE memory_rowid = ?", (seq,))
        conn.execute("DELETE FROM memory_vec WHERE memory_rowid = ?", (seq,))
        conn.execute("DELETE FROM memory_fts WHERE rowid = ?", (seq,))

    def update(self, conn: Connection, memory: Memory, vector: bytes | None, generation: int) -> None:
        """Rewrite the row; re-index it (vector, bits, FTS) when a new vector is given."""
        cols = [c for c in MEMORY_COLUMNS if c not in ("id", "tenant_id", "created_at")]
        conn.execute(f"UPDATE memories SET {', '.join(c + ' = ?' for c in cols)} WHERE seq = ?",
                     [getattr(memory, c) for c in cols] + [memory.seq])
        if vector is not None:
            assert memory.seq is not None and memory.partition_id is not None, "update a stored memory"
            # vec0 cannot change a partition key in place: delete and insert all three entries.
            self._unindex(conn, memory.seq)
            self._index(conn, memory.seq, memory.partition_id, memory.kind, memory.content, vector, generation)

    def replace_vector(self, conn: Connection, seq: int, vector: bytes, generation: int) -> None:
        """Re-embedding only (reindex): new float and bit vectors, same row and FTS entry."""
        conn.execute("UPDATE memory_vectors SET embedding = ?, generation = ? WHERE memory_rowid = ?",
                     (vector, generation, seq))
        # vec0 rejects a quantised vector in UPDATE; delete and insert the bit entry instead.
        conn.execute("DELETE FROM memory_vec WHERE memory_rowid = ?", (seq,))
        conn.execute("INSERT INTO memory_vec (memory_rowid, partition_id, embedding, kind) "
                     "SELECT seq, partition_id, vec_quantize_binary(?), kind FROM memories WHERE seq = ?",
                     (vector, seq))

    def delete(self, conn: Connection, memory: Memory) -> None:
        """Delete the row and its three index entries."""
        assert memory.seq is not None, "delete a stored memory"
        self._unindex(conn, memory.seq)
        conn.execute("DELETE FROM memories WHERE seq = ?", (memory.seq,))

    def seqs_of(self, conn: Connection, ids: Sequence[str]) -> list[int]:
        if not ids:
            return []
        return [r[0] for r in conn.execute(f"SELECT seq FROM memories WHERE id IN ({_marks(ids)})", list(ids))]

    def touch_recalled(self, conn: Connection, seqs: Sequence[int], now: str) -> None:
        if seqs:
            conn.execute(f"UPDATE memories SET last_recalled_at = ? WHERE seq IN ({_marks(seqs)})",
                         [now, *seqs])

    # -- reads ----------------------------------------------------------------------------------

    def get(self, tenant_id: str, memory_id: str) -> Memory | None:
        row = self.db.query_one("SELECT * FROM memories WHERE tenant_id = ? AND id = ?", (tenant_id, memory_id))
        return row_to_memory(row) if row else None

    def get_many(self, seqs: Sequence[int]) -> dict[int, Memory]:
        if not seqs:
            return {}
        rows = self.db.query(f"SELECT * FROM memories WHERE seq IN ({_marks(seqs)})", list(seqs))
        return {r["seq"]: row_to_memory(r) for r in rows}

    def contents(self, seqs: Sequence[int]) -> dict[int, tuple[str, float]]:
        """seq -> (content, importance): what a search scores a candidate on."""
        seqs = list(dict.fromkeys(seqs))
        if not seqs:
            return {}
        rows = self.db.query(f"SELECT seq, content, importance FROM memories WHERE seq IN ({_marks(seqs)})", seqs)
        return {r[0]: (r[1], r[2]) for r in rows}

    def page(self, tenant_id: str, filters: dict[str, Any], *, limit: int | None, cursor: str | None) -> Page:
        where, params = tenant_filters(tenant_id, filters, ("agent_id", "scope", "kind", "session_id", "source"))
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM memories", where, params, limit=limit,
                              cursor=cursor, newest_first=True, build=row_to_memory)

    def knn_rescored(self, partitions: Sequence[int], query: bytes, k: int, most: int, limit: int,
                     kinds: Sequence[str] | None = None) -> list[tuple[int, float]]:
        """(seq, cosine) of the ``limit`` best memories of the partitions, best first, in one statement.

        vec0 returns the ``k`` Hamming-nearest sign-quantised vectors of each partition (``embedding
        MATCH ? AND k = ?``, the partition filter inside the KNN); the ``most`` nearest of those are
        rescored by the exact cosine of their float32 vectors. Doing the rescore in SQL
        (``vec_distance_cosine``) hands Python ``limit`` rows instead of every candidate's 1.5 KB
        vector: 30% less time, most of it the GIL traffic of hundreds of rows when two run at once.
        The candidates are MATERIALIZED because SQLite would otherwise push the LIMIT into vec0,
        which accepts ``k`` or LIMIT but not both.
        """
        if not partitions:
            return []
        where = f"embedding MATCH vec_quantize_binary(?) AND k = ? AND partition_id IN ({_marks(partitions)})"
        params: list[Any] = [query, k, *partitions]
        if kinds:
            where += f" AND kind IN ({_marks(kinds)})"
            params += list(kinds)
        sql = (f"WITH candidates AS MATERIALIZED (SELECT memory_rowid, distance FROM memory_vec WHERE {where}), "
               f"nearest AS (SELECT memory_rowid FROM candidates ORDER BY distance LIMIT ?) "
               f"SELECT n.memory_rowid, 1.0 - vec_distance_cosine(v.embedding, ?) AS cosine FROM nearest n "
               f"JOIN memory_vectors v ON v.memory_rowid = n.memory_rowid "
               f"ORDER BY cosine DESC, n.memory_rowid LIMIT ?")
        return [(r[0], r[1]) for r in self.db.query(sql, [*params, most, query, limit])]

    def vectors(self, seqs: Sequence[int]) -> list[tuple[int, bytes]]:
        """(seq, float32 blob) for the given seqs (order unspecified)."""
        if not seqs:
            return []
        rows = self.db.query(f"SELECT memory_rowid, embedding FROM memory_vectors WHERE memory_rowid IN "
                             f"({_marks(seqs)})", list(seqs))
        return [(r[0], r[1]) for r in rows]

    def vectors_in(self, partitions: Sequence[int]) -> list[tuple[int, bytes]]:
        """(seq, float32 blob) of every memory in the partitions (brute force, for measurements)."""
        if not partitions:
            return []
        rows = self.db.query(f"SELECT v.memory_rowid, v.embedding FROM memory_vectors v JOIN memories m "
                             f"ON m.seq = v.memory_rowid WHERE m.partition_id IN ({_marks(partitions)})",
                             list(partitions))
        return [(r[0], r[1]) for r in rows]

    def fts_search(self, match: str, partitions: Sequence[int], limit: int,
                   kinds: Sequence[str] | None = None) -> list[int]:
        """Seqs matching an FTS5 expression within the partitions, best BM25 first.

        The partitions are restricted inside the MATCH (``part`` column, see migration m007), so
        FTS5 only visits and scores the scope's rows; when they are every partition there is no
        restriction at all. ``bm25(memory_fts, 1.0, 0.0)``: the part column never scores.
        """
        if not partitions or not match:
            return []
        parts = sorted(set(partitions))
        with self.db.read() as conn:
            others = conn.execute(f"SELECT count(*) FROM memory_partitions WHERE id NOT IN ({_marks(parts)})",
                                  parts).fetchone()[0]
            expr = f"content : ({match})"
            if others:
                expr = f"part : ({' OR '.join(_quote(part_token(p)) for p in parts)}) AND {expr}"
            if kinds:
                sql = (f"SELECT f.rowid FROM memory_fts f JOIN memories m ON m.seq = f.rowid "
                       f"WHERE memory_fts MATCH ? AND m.partition_id IN ({_marks(parts)}) "
                       f"AND m.kind IN ({_marks(kinds)}) ORDER BY bm25(memory_fts, 1.0, 0.0) LIMIT ?")
                params: list[Any] = [expr, *parts, *kinds, limit]
            else:
                sql = ("SELECT rowid FROM memory_fts WHERE memory_fts MATCH ? "
                       "ORDER BY bm25(memory_fts, 1.0, 0.0) LIMIT ?")
                params = [expr, limit]
            return [r[0] for r in conn.execute(sql, params)]

    def partition_tenant(self, partition_id: int) -> str | None:
        """The tenant a memory partition belongs to (None for an unknown id)."""
        with self.db.read() as conn:
            row = conn.execute("SELECT tenant_id FROM memory_partitions WHERE id = ?", (partition_id,)).fetchone()
        return row[0] if row else None

    def term_doc_counts(self, terms: Sequence[str], cap: int, tenant_id: str) -> dict[str, int]:
        """How many of a tenant's memories hold each FTS5 term, counted up to ``cap + 1`` at most.

        Per tenant, so another tenant's words never decide which terms of this tenant's query are
        common (nor reveal how often they use them). While no other tenant has memory partitions, the
        count reads the FTS index alone, as cheaply as ever; otherwise each match's row is checked.
        """
        with self.db.read() as conn:
            shared = conn.execute("SELECT 1 FROM memory_partitions WHERE tenant_id != ? LIMIT 1",
                                  (tenant_id,)).fetchone() is not None
            args: list[Any] = [cap + 1]
            if not shared:
                sql = "SELECT count(*) FROM (SELECT 1 FROM memory_fts WHERE memory_fts MATCH ? LIMIT ?)"
            else:
                sql = ("SELECT count(*) FROM (SELECT 1 FROM memory_fts f JOIN memories m ON m.seq = f.rowid "
                       "WHERE memory_fts MATCH ? AND m.tenant_id = ? LIMIT ?)")
                args = [tenant_id, cap + 1]
            return {term: conn.execute(sql, [f"content : {term}", *args]).fetchone()[0] for term in terms}

    def seq_high_water(self) -> int:
        """The highest memory seq in use: at least the number of memories stored, read in O(log n)."""
        return int(self.db.scalar("SELECT coalesce(max(seq), 0) FROM memories"))

    def counts(self) -> dict[str, int]:
        """Row counts of the four tables (they are equal when the index is in step)."""
        with self.db.read() as conn:
            return {
                "memories": conn.execute("SELECT count(*) FROM memories").fetchone()[0],
                "vectors": conn.execute("SELECT count(*) FROM memory_vectors").fetchone()[0],
                "vec": conn.execute("SELECT count(*) FROM memory_vec").fetchone()[0],
                "fts": conn.execute("SELECT count(*) FROM memory_fts").fetchone()[0],
            }

    # -- bulk (reindex, export) ---------------------------------------------------------------

    def generation(self) -> int:
        return int(self.db.scalar("SELECT value FROM memory_index_state WHERE key = 'generation'"))

    def set_generation(self, conn: Connection, generation: int) -> None:
        conn.execute("UPDATE memory_index_state SET value = ? WHERE key = 'generation'", (str(generation),))

    def stale_count(self, generation: int) -> int:
        return int(self.db.scalar("SELECT count(*) FROM memory_vectors WHERE generation < ?", (generation,)))

    def stale_batch(self, generation: int, limit: int) -> list[tuple[int, str]]:
        """(seq, content) of rows embedded before ``generation``, lowest seq first."""
        rows = self.db.query("SELECT m.seq, m.content FROM memory_vectors v JOIN memories m ON m.seq = v.memory_rowid "
                             "WHERE v.generation < ? ORDER BY v.memory_rowid LIMIT ?", (generation, limit))
        return [(r[0], r[1]) for r in rows]

    def iter_all(self, tenant_id: str | None = None, batch: int = 500) -> Iterator[Memory]:
        """Every memory (of one tenant, or all), oldest first, read in batches of ``batch`` rows."""
        last = 0
        while True:
            where = "seq > ?"
            params: list[Any] = [last]
            if tenant_id is not None:
                where += " AND tenant_id = ?"
                params.append(tenant_id)
            with self.db.read() as conn:
                rows = list(table_tools(conn).table("memories").rows_where(where, params, order_by="seq",
                                                                           limit=batch))
            if not rows:
                return
            for row in rows:
                yield row_to_memory(row)
            last = rows[-1]["seq"]

    def agent_exists(self, tenant_id: str, agent_id: str) -> bool:
        return self.db.query_one("SELECT 1 FROM agents WHERE tenant_id = ? AND id = ?", (tenant_id, agent_id)) is not None

    def session_agent(self, tenant_id: str, session_id: str) -> str | None:
        """The agent id of a tenant's session, or None when there is no such session."""
        row = self.db.query_one("SELECT agent_id FROM sessions WHERE tenant_id = ? AND id = ?", (tenant_id, session_id))
        return row[0] if row else None

    def id_exists(self, memory_id: str) -> bool:
        """Whether any tenant holds a memory with this id (ids are unique across tenants)."""
        return self.db.query_one("SELECT 1 FROM memories WHERE id = ?", (memory_id,)) is not None

    def tenant_exists(self, tenant_id: str) -> bool:
        return self.db.query_one("SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)) is not None
