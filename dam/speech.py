"""Speech in the library: transcribe assets (one file here, or Ray tasks as an ingest stage),
store transcripts in the catalog, embed their segments with the text encoder into Chroma, and
turn spoken matches into search candidates whose moment is the segment itself."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from dam.audio.load import AudioError
from dam.audio.transcribe import TranscribeConfigError, Transcript, load_backend, transcribe
from dam.config import Settings
from dam.runtime.fanout import fan_out
from dam.schema import Asset
from dam.search import Candidate, QueryVectors
from dam.store import vector_id

SOURCE = "speech"


def transcribe_file(settings: Settings, path: str) -> Transcript:
    """The pure work for one file with the configured backend (raises TranscribeConfigError/AudioError)."""
    backend = load_backend(settings.stt_backend, settings.whisper_model, settings.stt_language)
    return transcribe(path, backend, settings.section_pause)


def store(lib, asset_id: str, tr: Transcript) -> None:
    """Catalog row + FTS segments + one vector per segment (ids `{asset}:speech:{i}`: re-runs upsert)."""
    lib.catalog.put_transcript(asset_id, tr.language, tr.backend, tr.model, tr.model_dump_json(),
                               [(s.start, s.end, s.text) for s in tr.segments])
    key = lib.text_encoder_key
    ids = [vector_id(asset_id, "speech", i) for i in range(len(tr.segments))]
    stale = [i for i in lib.store.ids_of("text", key, asset_id) if ":speech:" in i and i not in set(ids)]
    lib.store.delete_ids("text", key, stale)
    if ids:
        texts = [s.text for s in tr.segments]
        lib.store.upsert("text", key, ids, lib.text_encoder.embed(texts),
                         [{"asset_id": asset_id, "source": SOURCE, "start": s.start, "end": s.end}
                          for s in tr.segments], documents=texts)
    a = lib.catalog.asset(asset_id)
    if a is not None:
        lib.catalog.set_asset(asset_id, levels={**a.levels, "speech": len(tr.segments)})


def transcript_of(lib, asset_id: str) -> Transcript | None:
    row = lib.catalog.transcript(asset_id)
    return Transcript.model_validate_json(row["data"]) if row else None


def has_audio(a: Asset) -> bool:
    return bool(a.info and a.info.audio)


def transcribe_assets(lib, assets: list[Asset], progress) -> list[tuple[str, str]]:
    """The ingest stage: every asset with an audio stream, one Ray task each; the driver writes.
    Assets without audio cost nothing. Returns (path, reason) of the ones that failed."""
    todo = [a for a in assets if has_audio(a)]
    if not todo:
        return []
    progress.start("speech to text", len(todo))
    failed = []
    for a, out in fan_out(lib.settings, todo, partial(_task, lib.settings.model_dump(mode="json"))):
        if isinstance(out, str):
            failed.append((a.path, out))
        else:
            store(lib, a.id, Transcript.model_validate(out))
        progress.advance(1, Path(a.path).name)
    progress.finish()
    return failed


def _task(settings: dict, a: Asset) -> dict | str:
    try:
        return transcribe_file(Settings(**settings), a.path).model_dump()
    except (AudioError, TranscribeConfigError) as e:
        return str(e)


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
                  for aid, start, end, said, score in lib.catalog.transcript_search(text, n)])
    return [lst for lst in lists if lst]
