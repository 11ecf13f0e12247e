"""Speech to text on generated speech with known words and times: WER, segments, sections,
subtitles, VAD on silence and music, backend configuration errors, storage, search, ingest."""

from __future__ import annotations

import json
import os
import re
import subprocess

import jiwer
import pytest
from test_cli import dam

from dam.audio.samples import SENTENCES, Camera, event, record
from dam.audio.topics import topic_breaks
from dam.audio.transcribe import (
    PocketSphinx,
    Segment,
    TranscribeConfigError,
    Transcript,
    Whisper,
    load_backend,
    sections,
    transcribe,
)

SAID = SENTENCES[:4]


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    d = tmp_path_factory.mktemp("talk")
    script: list = []
    src = event(24, seed=3, sentences=SAID, pause=2.5, script=script, loop=False)
    path = record(src, Camera(0, 24, 44100, snr_db=20, codec="aac", suffix=".m4a"), d / "briefing.m4a", seed=4)
    return {"path": path, "script": script, "dir": d}


@pytest.fixture(scope="module")
def transcript(talk) -> Transcript:
    return transcribe(talk["path"], load_backend("pocketsphinx"), section_pause=2.0)


def norm(text: str) -> str:
    return re.sub(r"[^a-z' ]", "", text.lower()).strip()


def test_word_error_rate_is_bounded(transcript, talk):
    """PocketSphinx's en-us model is trained on human speech; espeak-ng's formant voice is far
    from it, and with 20 dB of noise we measure WER 0.65-0.75 (benchmarks/sync.py reports it).
    0.85 leaves room for that spread yet fails when VAD drops speech (whole sentences missing
    push WER to >= 0.9) or the recogniser returns noise words."""
    said = [s for s in talk["script"]]
    assert len(said) == len(SAID)
    wer = jiwer.wer(norm(" ".join(t for _, _, t in said)), norm(transcript.text))
    assert wer < 0.85, (wer, transcript.text)
    assert {"city", "friday"} <= set(transcript.text.split())


def test_segments_follow_the_sentences_and_sections_follow_pauses(transcript, talk):
    starts = [s for s, _, _ in talk["script"]]
    assert len(transcript.segments) == len(starts), [s.text for s in transcript.segments]
    for seg, (s, e, _) in zip(transcript.segments, talk["script"]):
        assert s - 0.3 <= seg.start and seg.end <= e + 0.3, (seg, s, e)
        assert all(seg.start <= w.start < w.end <= seg.end + 1e-6 for w in seg.words)
    assert [x.first for x in transcript.sections] == list(range(len(starts)))  # 2.5 s pauses >= 2.0
    assert transcript.sections[0].title.split()[0][0].isupper()
    assert transcript.speech < transcript.duration and transcript.backend == "pocketsphinx"
    assert transcript.language == "en"


def test_silence_noise_and_music_give_no_words(tmp_path):
    backend = load_backend("pocketsphinx")
    for name, src in (("silence", "anullsrc=r=44100:cl=stereo:d=6"), ("noise", "anoisesrc=d=6:c=pink:a=0.1"),
                      ("music", "aevalsrc=0.3*sin(2*PI*(220+110*mod(floor(t*2)\\,4))*t)+0.2*sin(2*PI*330*t):s=44100:d=8")):
        f = tmp_path / f"{name}.wav"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", src, str(f)], check=True)
        tr = transcribe(f, backend)
        assert tr.segments == [] and tr.duration > 5, (name, tr.text)


def test_sections_titles_and_subtitles():
    segs = [Segment(start=0.5, end=2.0, text="welcome to the harbour film shoot today everyone"),
            Segment(start=2.4, end=3.9, text="first the boats"),
            Segment(start=7.0, end=3725.25, text="now the lighthouse")]
    secs = sections(segs, pause=2.0)
    assert [(s.first, s.count) for s in secs] == [(0, 2), (2, 1)]
    assert secs[0].title == "Welcome to the harbour film shoot…" and secs[1].title == "Now the lighthouse"
    tr = Transcript(path="x", language="en", backend="b", model="m", segments=segs)
    assert tr.srt().splitlines()[:3] == ["1", "00:00:00,500 --> 00:00:02,000", segs[0].text]
    assert "01:02:05,250" in tr.srt()
    vtt = tr.vtt()
    assert vtt.startswith("WEBVTT\n\n00:00:00.500 --> 00:00:02.000\n") and "01:02:05.250" in vtt


def test_a_change_of_subject_starts_a_section_even_without_a_long_pause():
    talk = ["this lens has a fast aperture for night shots", "open the aperture and the lens gathers light",
            "night shots need a fast lens and wide aperture", "the kitchen smells of fresh bread and butter",
            "knead the bread dough in the warm kitchen", "fresh butter melts on warm bread"]
    segs = [Segment(start=3.0 * i, end=3.0 * i + 2.2, text=t) for i, t in enumerate(talk)]  # 0.8 s gaps
    assert [(s.first, s.count) for s in sections(segs, pause=2.0)] == [(0, 3), (3, 3)]
    one_subject = [Segment(start=3.0 * i, end=3.0 * i + 2.2, text=talk[i % 3]) for i in range(6)]
    assert len(sections(one_subject, pause=2.0)) == 1
    assert topic_breaks(["uh", "yes", "ok", "right", "yeah", "um"]) == set()  # no words, no topics


def test_backend_configuration_errors_are_clear(tmp_path):
    with pytest.raises(TranscribeConfigError, match="DAM_WHISPER_MODEL"):
        load_backend("whisper", None)
    with pytest.raises(TranscribeConfigError, match="no such file"):
        Whisper(str(tmp_path / "missing"))
    with pytest.raises(TranscribeConfigError, match="model.bin"):
        Whisper(str(tmp_path))
    fake = tmp_path / "tiny.pt"
    fake.write_bytes(b"not a checkpoint")
    with pytest.raises(TranscribeConfigError, match="openai-whisper|not a whisper checkpoint"):
        Whisper(str(fake))
    with pytest.raises(TranscribeConfigError, match="English only"):
        PocketSphinx("de")
    with pytest.raises(TranscribeConfigError, match="unknown"):
        load_backend("nope")


def test_dam_transcribe_stores_exports_and_search_finds_the_moment(talk, tmp_path):
    data = tmp_path / "data"
    srt, vtt = tmp_path / "out.srt", tmp_path / "out.vtt"
    r = dam("transcribe", str(talk["path"]), "--json", "--srt", str(srt), "--vtt", str(vtt), data=data)
    out = json.loads(r.stdout)
    assert out["asset_id"] and out["segments"] and srt.read_text().startswith("1\n")
    assert vtt.read_text().startswith("WEBVTT")
    # The moment of a phrase that was said: within its sentence, not the whole file.
    hit_seg = next(s for s in out["segments"] if "friday" in s["text"].split())
    hits = json.loads(dam("search", "from the city on Friday", "--json", data=data).stdout)
    assert hits and hits[0]["asset_id"] == out["asset_id"]
    assert (hits[0]["start"], hits[0]["end"]) == (hit_seg["start"], hit_seg["end"])
    s, e, _ = talk["script"][3]
    assert s - 0.3 <= hits[0]["start"] and hits[0]["end"] <= e + 0.3
    info = json.loads(dam("info", str(talk["path"]), "--json", data=data).stdout)
    assert info["transcript"]["backend"] == "pocketsphinx" and info["transcript"]["segments"] == len(out["segments"])
    assert info["levels"]["speech"] == len(out["segments"])
    # Transcribing again replaces, never duplicates.
    dam("transcribe", str(talk["path"]), data=data)
    again = json.loads(dam("search", "from the city on Friday", "--json", data=data).stdout)
    assert [h["asset_id"] for h in again].count(out["asset_id"]) == 1


def test_dam_transcribe_errors(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    assert dam("transcribe", str(bad), data=tmp_path / "d", check=False).returncode == 1
    assert dam("transcribe", str(tmp_path / "none.wav"), data=tmp_path / "d", check=False).returncode == 4
    env_whisper = {"DAM_STT_BACKEND": "whisper"}
    os.environ.update(env_whisper)
    try:
        r = dam("transcribe", str(bad), data=tmp_path / "d", check=False)
    finally:
        os.environ.pop("DAM_STT_BACKEND")
    assert r.returncode == 2 and "DAM_WHISPER_MODEL" in r.stderr


@pytest.mark.slow
def test_ingest_stage_transcribes_only_what_has_audio(talk, tmp_path, ray_cluster):
    from conftest import make_settings

    from dam.library import Library

    mute = talk["dir"] / "mute.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=d=2:s=160x90:r=10", str(mute)],
                   check=True)
    lib = Library(make_settings(tmp_path, transcribe_on_ingest=True))
    report = lib.ingest([talk["path"], mute], implicit_root=True)
    assert not report.errors, report.errors
    spoken, silent = lib.asset(str(talk["path"])), lib.asset(str(mute))
    assert spoken.levels.get("speech", 0) >= 3 and "speech" not in silent.levels
    hits = lib.search(text="fishermen on the second day")
    assert hits and hits[0].asset_id == spoken.id and hits[0].why.startswith("said")
    lib.close()


def _tiny_whisper(path):
    """A whisper checkpoint with random weights and tiny dimensions, in openai-whisper's format."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("whisper")
    from whisper.model import ModelDimensions
    from whisper.model import Whisper as WhisperModel

    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
                           n_vocab=51864, n_text_ctx=448, n_text_state=32, n_text_head=2, n_text_layer=1)
    torch.manual_seed(0)
    torch.save({"dims": dims.__dict__, "model_state_dict": WhisperModel(dims).state_dict()}, path)
    return path


def test_whisper_backend_loads_a_checkpoint(tmp_path):
    ckpt = _tiny_whisper(tmp_path / "tiny.pt")
    b = load_backend("whisper", str(ckpt), "en")
    assert (b.name, b.model, b.language) == ("whisper", str(ckpt), "en")
    assert b._ow.dims.n_text_state == 32  # the weights were really read

