"""Speech as a search signal: spoken moments by meaning (segment vectors) and by the words said;
the moment is the segment itself."""

from __future__ import annotations

from dam.audio.store import SOURCE, said
from dam.search import Candidate, QueryVectors


def candidates(lib, q: QueryVectors, n: int) -> list[list[Candidate]]:
    """The speech search signal (dam.signals): two ranked lists of spoken moments, by meaning
    (segment vectors) and by the words said."""
    if not q.text:
        return []
    text, sentence = q.text, q.sentence
    lists = []
    if sentence is not None:
        sem = lib.store.query("text", lib.text_encoder_key, sentence, n, where={"source": SOURCE})
        lists.append([Candidate(m.meta["asset_id"], "text", m.score, m.meta["start"], None,
                                f"said something close to “{text}”", (m.meta["start"], m.meta["end"]))
                      for m in sem if m.score > lib.settings.text_match_min])
    lists.append([Candidate(aid, "text", score, start, None, f"said “{said[:80]}”", (start, end))
                  for aid, start, end, said, score in said(lib.catalog, text, n)])
    return [lst for lst in lists if lst]
