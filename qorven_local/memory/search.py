"""Hybrid memory search: vector KNN and FTS5 BM25 choose the candidates, a calibrated score ranks them.

Candidates: the ``max(3*limit, 30)`` nearest memories by vector (``index.py``) and as many by BM25
(below). Ranks (``match``) and BM25 depend on what else is stored, so they choose candidates but
never set the score. The score (the API's ``score``, in [0, 1], results sorted by it) depends only on
the query, the memory and its importance, so the same memory scores the same for the same query
however many other memories there are:

    semantic(d) = clip((cosine(q, d) - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR), 0, 1)
    keyword(d)  = the query's content terms (``fts_query``; stopwords dropped, an exact term such as
                  INV-2024-0042 or a "quoted phrase" counting ``EXACT_TERM_WEIGHT`` times) found in d,
                  as a share of them all, times min(1, matched weight / KEYWORD_FULL_TERMS) so a single
                  shared word is weak evidence (``keyword_coverage``: lowercased words, a light stem)
    evidence(d) = 1 - (1 - semantic(d)) * (1 - KEYWORD_WEIGHT * keyword(d))      (a noisy-or)
    score(d)    = clip(evidence(d) * (1 + IMPORTANCE_WEIGHT * (importance(d) - 0.5)), 0, 1)

A ``semantic``-only search scores on the cosine alone, a ``keyword``-only search on the coverage
alone. The constants come from measured cosines of the bundled MiniLM (``bench/recall_calibration.py``
on the hand-labelled set of tests/fixtures): a query and the memory that answers it (paraphrased,
its words avoided) p25 0.40, p50 0.48, p95 0.73; a query and a memory it does not ask about p50 0.06,
p95 0.24; small talk and nonsense ("are you there?", "zebra quantum banana", "please FAIL500 now")
against any memory at most 0.20-0.36. COSINE_FLOOR sits above most unrelated pairs, COSINE_CEILING
near the best related ones, and a cosine of 0.40 (above those small-talk texts) maps to 0.5, the
default recall threshold (``QORVEN_RECALL_MIN_SCORE``). Importance moves a score by at most 10%.

Keyword side: the user's text becomes a safe FTS5 expression (``fts_query``): every term is a
quoted string, so FTS5 syntax in a query (quotes, parentheses, ``*``, ``-``, ``NEAR``, ``AND``, column
filters) is matched as text and never raises. Quoted phrases and identifier-like tokens
(``INV-2024-0042``, ``db_prod_7``, ``v2.3.1``) are *exact* terms: memories containing one of them
rank ahead of memories that only share ordinary words, so they are found even when the vectors
(which blur numbers and codes) are not.

Common terms: a word held by more than ``COMMON_TERM_DOCS`` memories (in a large store) leaves the
keyword expression, as a "cutoff frequency" does in Lucene: FTS5 walks and scores every posting of
every term, so a few very common words made most of a search's cost at 100k memories, while BM25
gives them little weight anyway. The threshold is a count, not a share, because it bounds a cost:
a term in 2,000 memories has a BM25 weight of at most ln(1 + N/2000), 3.9 at N = 100k against ~10
for a rare word, and below ~2,000 memories nothing is ever dropped. (At 5,000 the keyword side of
a 100k-memory search took 5.2 ms p50 and 16 ms p95; at 2,000, 1.3 and 6.4 ms.) At least
``MIN_KEYWORD_TERMS`` terms (the rarest) always stay, and exact terms are never dropped. Counts are
the searching tenant's own (one tenant's words must not shape another's ranking or reveal their
frequencies) and cached per tenant and term for ``TERM_COUNT_TTL_S``.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from qorven_local.memory.index import VectorIndex
from qorven_local.memory.workers import both
from qorven_local.storage.memory import MemoryStore

COSINE_FLOOR = 0.10       # a cosine at or below this is no semantic evidence (see module docstring)
COSINE_CEILING = 0.70     # ... at or above this, full semantic evidence
KEYWORD_WEIGHT = 0.4      # how far a memory holding every query term is lifted towards 1
EXACT_TERM_WEIGHT = 2     # an identifier or quoted phrase counts as this many ordinary terms
KEYWORD_FULL_TERMS = 2    # matched term weight below this scales the coverage down (one word: half)
IMPORTANCE_WEIGHT = 0.2   # importance 0 / 1 scales a score by 0.9 / 1.1
MODES = ("hybrid", "semantic", "keyword")
MAX_PAIRED_TERMS = 8      # terms of the keyword query's "at least two of them" expression
COMMON_TERM_DOCS = 2000   # a term in more memories than this is common (see module docstring)
MIN_KEYWORD_TERMS = 2     # terms the keyword side keeps however common they are
TERM_COUNT_TTL_S = 600.0  # how long a term's memory count is reused
TERM_COUNT_CACHE = 50_000 # terms whose counts are cached (the cache starts over when full)

_QUOTED = re.compile(r'["\u201c\u201d]([^"\u201c\u201d]*)["\u201c\u201d]')
_WORD = re.compile(r"\w+", re.UNICODE)
_IDENTIFIER = re.compile(r"^(?:\w+(?:[-_./:#@+]\w+)+|(?=\w*\d)(?=\w*[^\W\d])\w+|\d{3,})$", re.UNICODE)
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
now of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
tell know remember recall anything something did does please us
""".split())


@dataclass
class FtsQuery:
    """The keyword side of a query: ``any_terms`` ranks, ``exact_terms`` must-find phrases."""

    any_terms: list[str] = field(default_factory=list)
    exact_terms: list[str] = field(default_factory=list)

    @property
    def match_any(self) -> str:
        """Memories sharing at least two of the terms (one if the query has only one): a single
        common word in a long question is too weak a signal to rank on."""
        terms = self.any_terms[:MAX_PAIRED_TERMS]
        if len(terms) < 2:
            return " OR ".join(terms)
        return _at_least_two(terms)

    def without_common(self, counts: dict[str, int], common: int) -> "FtsQuery":
        """This query minus its common terms (``counts[term] > common``), exact terms kept, and at
        least ``MIN_KEYWORD_TERMS`` terms left (the rarest, in query order)."""
        exact = set(self.exact_terms)
        kept = [t for t in self.any_terms if t in exact or counts.get(t, 0) <= common]
        if len(kept) < min(MIN_KEYWORD_TERMS, len(self.any_terms)):
            rarest = sorted(self.any_terms, key=lambda t: counts.get(t, 0))[:MIN_KEYWORD_TERMS]
            kept = [t for t in self.any_terms if t in exact or t in rarest]
        return FtsQuery(kept, list(self.exact_terms))

    @property
    def match_exact(self) -> str:
        """Memories containing at least one exact term, ranked with all terms."""
        if not self.exact_terms:
            return ""
        return f"({' OR '.join(self.exact_terms)}) AND ({' OR '.join(self.any_terms)})"


def _any(terms: Sequence[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def _at_least_two(terms: Sequence[str]) -> str:
    """An FTS5 expression true when a row holds at least two of the terms.

    Every pair ``(a AND b) OR ...`` is n*(n-1) phrase iterators (56 for 8 terms), and FTS5 walks
    each term's posting list once per occurrence and scores every occurrence. Splitting the terms
    in halves L and R instead, "two of L, or two of R, or one of each" is 24 iterators for 8 terms.
    The split is chosen so every term occurs equally often (pairs for 2, 3 and 5 terms, halves
    for 4, 6, 7, 8), so BM25 weighs no query word above another.
    """
    n = len(terms)
    if n <= 3 or n == 5:
        return "(" + " OR ".join(f"({a} AND {b})" for i, a in enumerate(terms) for b in terms[i + 1:]) + ")"
    left, right = terms[:n // 2], terms[n // 2:]
    return f"({_at_least_two(left)} OR {_at_least_two(right)} OR ({_any(left)} AND {_any(right)}))"


def _phrase(words: Sequence[str]) -> str:
    """An FTS5 string literal: the words in order, double quotes doubled (nothing else is special)."""
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


def fts_query(text: str) -> FtsQuery:
    """Turn any user text into a safe FTS5 query (see module docstring)."""
    query = FtsQuery()
    seen: set[str] = set()

    def add(words: list[str], exact: bool) -> None:
        if not words:
            return
        term = _phrase([w.lower() for w in words])
        if term in seen:
            return
        seen.add(term)
        query.any_terms.append(term)
        if exact:
            query.exact_terms.append(term)

    rest = []
    last = 0
    for m in _QUOTED.finditer(text):
        rest.append(text[last:m.start()])
        add(_WORD.findall(m.group(1)), exact=True)
        last = m.end()
    rest.append(text[last:])
    for raw in " ".join(rest).split():
        token = raw.strip("\"'`()[]{}<>,;:!?*^~“”‘’.")
        if token and _IDENTIFIER.match(token):
            add(_WORD.findall(token), exact=True)
            continue
        for word in _WORD.findall(raw):
            if len(word) > 1 and word.lower() not in STOPWORDS:
                add([word], exact=False)
    return query


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A light stem so "databases" meets "database" and "meetings" meets "meeting": lowercase, a plural
    ``s`` dropped, then the first six letters (FTS5's porter stemmer is not reachable from Python)."""
    word = word.lower()
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:6]


@functools.lru_cache(maxsize=4096)
def _term_words(term: str) -> tuple[str, ...]:
    """The stemmed words of an ``fts_query`` term (a quoted FTS5 string)."""
    return tuple(_stem(w) for w in _WORD.findall(term[1:-1].replace('""', '"')))


def keyword_coverage(query: FtsQuery, content: str) -> float:
    """The share of the query's terms found in ``content``, in [0, 1] (exact terms weigh
    ``EXACT_TERM_WEIGHT``; a phrase must appear as consecutive words). It looks at nothing but the
    query and this one memory, unlike BM25, whose weights depend on the whole store."""
    if not query.any_terms:
        return 0.0
    words = [_stem(w) for w in _WORD.findall(content)]
    present = set(words)
    spaced = f" {' '.join(words)} "
    exact = set(query.exact_terms)
    total = found = 0.0
    for term in query.any_terms:
        weight = EXACT_TERM_WEIGHT if term in exact else 1
        total += weight
        wanted = _term_words(term)
        if len(wanted) == 1:
            hit = wanted[0] in present
        else:
            hit = bool(wanted) and f" {' '.join(wanted)} " in spaced
        found += weight if hit else 0
    # one shared ordinary word is weak evidence however short the query: full credit takes
    # KEYWORD_FULL_TERMS words (or one exact term)
    return found / total * min(1.0, found / KEYWORD_FULL_TERMS)


def semantic_evidence(cosine: float) -> float:
    """A cosine mapped onto [0, 1] (see module docstring)."""
    return min(1.0, max(0.0, (cosine - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR)))


def calibrated(cosine: float | None, coverage: float, importance: float) -> float:
    """A memory's score for a query from its cosine (None: not used), keyword coverage and importance."""
    semantic = semantic_evidence(cosine) if cosine is not None else 0.0
    evidence = 1.0 - (1.0 - semantic) * (1.0 - KEYWORD_WEIGHT * coverage)
    if cosine is None:  # keyword-only search: the coverage is all the evidence there is
        evidence = coverage
    return min(1.0, max(0.0, evidence * (1.0 + IMPORTANCE_WEIGHT * (importance - 0.5))))


@dataclass
class Hit:
    """One scored memory: its seq, score in [0, 1], per-signal ranks, its cosine and keyword coverage."""

    seq: int
    score: float
    semantic: int | None
    keyword: int | None
    cosine: float | None = None
    coverage: float = 0.0


def scored(semantic: Sequence[int], keyword: Sequence[int], cosines: dict[int, float],
           contents: dict[int, tuple[str, float]], query: FtsQuery, signals: Sequence[str]) -> list[Hit]:
    """Every candidate of either list scored with ``calibrated``, best first.

    ``cosines``: seq -> cosine to the query (hybrid and semantic searches); ``contents``: seq ->
    (content, importance). Ties keep the better vector rank, then the better BM25 rank.
    """
    sem_rank = {seq: i + 1 for i, seq in enumerate(semantic)}
    kw_rank = {seq: i + 1 for i, seq in enumerate(keyword)}
    hits = []
    for seq in dict.fromkeys([*semantic, *keyword]):
        if seq not in contents:  # deleted since the index answered
            continue
        content, importance = contents[seq]
        cosine = cosines.get(seq) if "semantic" in signals else None
        coverage = keyword_coverage(query, content) if "keyword" in signals else 0.0
        hits.append(Hit(seq, calibrated(cosine, coverage, importance), sem_rank.get(seq), kw_rank.get(seq), cosines.get(seq), coverage))
    hits.sort(key=lambda h: (-h.score, h.semantic or 10**9, h.keyword or 10**9, h.seq))
    return hits


class HybridSearch:
    """Ranks a tenant's memories in a set of partitions for a query text and its vector."""

    def __init__(self, store: MemoryStore, index: VectorIndex, common_term_docs: int = COMMON_TERM_DOCS) -> None:
        self.store = store
        self.index = index
        self.common_term_docs = common_term_docs
        self._term_counts: dict[tuple[str, str], tuple[int, float]] = {}
        self._term_counts_lock = threading.Lock()

    def term_counts(self, tenant_id: str, terms: Sequence[str]) -> dict[str, int]:
        """The tenant's memories holding each term (capped just above ``common_term_docs``), cached a while."""
        now = time.monotonic()
        known: dict[str, int] = {}
        with self._term_counts_lock:
            for term in terms:
                cached = self._term_counts.get((tenant_id, term))
                if cached is not None and now - cached[1] < TERM_COUNT_TTL_S:
                    known[term] = cached[0]
        missing = [t for t in terms if t not in known]
        if missing:
            fresh = self.store.term_doc_counts(missing, self.common_term_docs, tenant_id)
            with self._term_counts_lock:
                if len(self._term_counts) + len(fresh) > TERM_COUNT_CACHE:
                    self._term_counts.clear()
                self._term_counts.update(((tenant_id, t), (c, now)) for t, c in fresh.items())
            known.update(fresh)
        return known

    def keyword_ranks(self, text: str, partitions: Sequence[int], n: int,
                      kinds: Sequence[str] | None) -> tuple[list[int], list[int]]:
        """(seqs by BM25, the exact ones): memories holding an exact term (quoted phrase,
        identifier) come first, then those sharing only ordinary words."""
        query = fts_query(text)
        if not query.any_terms or not partitions:
            return [], []
        if len(query.any_terms) > MIN_KEYWORD_TERMS:
            # the partitions are one tenant's (the service resolves them per tenant)
            tenant_id = self.store.partition_tenant(partitions[0])
            if tenant_id is not None:
                query = query.without_common(self.term_counts(tenant_id, query.any_terms), self.common_term_docs)
        first = self.store.fts_search(query.match_exact, partitions, n, kinds) if query.exact_terms else []
        rest = self.store.fts_search(query.match_any, partitions, n, kinds)
        return list(dict.fromkeys([*first, *rest]))[:n], first

    def search(self, text: str, vector: np.ndarray | None, partitions: Sequence[int], limit: int,
               kinds: Sequence[str] | None = None, mode: str = "hybrid",
               embed: Callable[[], np.ndarray] | None = None) -> list[Hit]:
        """The ``limit`` best hits (each signal contributes its top ``max(3*limit, 30)`` candidates).

        ``embed`` computes the query vector when ``vector`` is None. In hybrid mode the keyword
        side runs on a pool thread (``workers.both``) while this one embeds and runs the KNN, so a
        search costs about the longer of the two instead of their sum. Inside a write transaction
        it stays on this thread, whose connection is the only one that sees the uncommitted rows.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        signals = ("semantic", "keyword") if mode == "hybrid" else (mode,)
        depth = max(3 * limit, 30)

        query_vectors: list[np.ndarray] = []

        def semantic_side() -> tuple[list[int], dict[int, float]]:
            if "semantic" not in signals:
                return [], {}
            query_vector = vector if vector is not None or embed is None else embed()
            if query_vector is None:
                return [], {}
            query_vectors.append(query_vector)
            nearest = self.index.nearest(partitions, query_vector, depth, kinds)
            return [seq for seq, _ in nearest], dict(nearest)

        def keyword_side() -> tuple[list[int], list[int]]:
            return self.keyword_ranks(text, partitions, depth, kinds) if "keyword" in signals else ([], [])

        def one_after_the_other() -> tuple[tuple[list[int], dict[int, float]], tuple[list[int], list[int]]]:
            return semantic_side(), keyword_side()

        if len(signals) == 2:
            (semantic, cosines), (keyword, _exact) = self.store.threaded_or_here(
                lambda: both(semantic_side, keyword_side), one_after_the_other)
        else:
            (semantic, cosines), (keyword, _exact) = one_after_the_other()
        candidates = list(dict.fromkeys([*semantic, *keyword]))
        missing = [seq for seq in keyword if seq not in cosines]
        if missing and "semantic" in signals and query_vectors:
            # keyword-only candidates need their cosine too: the score must not depend on which
            # list found a memory
            for seq, blob in self.store.vectors(missing):
                cosines[seq] = float(np.frombuffer(blob, dtype=np.float32) @ query_vectors[0])
        contents = self.store.contents(candidates)
        return scored(semantic, keyword, cosines, contents, fts_query(text), signals)[:limit]
