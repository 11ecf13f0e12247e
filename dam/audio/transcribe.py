"""Speech to text: segments with word timings, sections with titles, SRT/VTT.

One small backend interface: `pocketsphinx` (the default: its English model ships inside the
wheel, so it works offline anywhere) and `whisper` (faster-whisper for a CTranslate2 model
folder, openai-whisper for a .pt checkpoint), used only when its weights are configured. Audio
is streamed at 16 kHz through voice activity detection (dam.audio.vad), so memory stays at one
speech region however long the file, and silence and music never reach the recogniser."""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from dam.audio.load import stream_audio
from dam.audio.topics import topic_breaks
from dam.audio.vad import RATE, speech_regions

TITLE_WORDS = 6


class TranscribeConfigError(ValueError):
    """The configured backend cannot run; the message says what to set or install."""


class Word(BaseModel):
    word: str
    start: float
    end: float


class Segment(BaseModel):
    start: float
    end: float
    text: str
    words: list[Word] = Field(default_factory=list)


class Section(BaseModel):
    start: float
    end: float
    title: str
    first: int  # index of its first segment
    count: int


class Transcript(BaseModel):
    path: str
    language: str
    backend: str
    model: str
    duration: float = 0.0  # seconds of audio read
    speech: float = 0.0  # seconds of it that were speech
    seconds: float = 0.0  # time it took
    segments: list[Segment] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    def srt(self) -> str:
        return "\n".join(f"{i}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{s.text}\n"
                         for i, s in enumerate(self.segments, 1))

    def vtt(self) -> str:
        cues = "\n".join(f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{s.text}\n" for s in self.segments)
        return "WEBVTT\n\n" + cues


def _stamp(t: float, sep: str) -> str:
    ms = int(round(max(0.0, t) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


class Backend(ABC):
    name: str
    model: str
    language: str

    @abstractmethod
    def words(self, audio: np.ndarray) -> list[Word]:
        """Words of one speech region (float32 at 16 kHz), times relative to its start."""


class PocketSphinx(Backend):
    """CMU PocketSphinx with the en-us acoustic model, dictionary and LM from its wheel."""

    name = "pocketsphinx"
    _SKIP = re.compile(r"^(<s>|</s>|<sil>|\[.*\]|\+\+.*\+\+)$")

    def __init__(self, language: str = "en"):
        if language not in ("en", "en-us"):
            raise TranscribeConfigError(f"pocketsphinx ships English only, not {language!r}: "
                                        "set DAM_STT_BACKEND=whisper and DAM_WHISPER_MODEL")
        from pocketsphinx import Decoder, get_model_path

        self.language, self.model = "en", str(Path(get_model_path()) / "en-us")
        self._decoder = Decoder(samprate=RATE, loglevel="FATAL")

    def words(self, audio: np.ndarray) -> list[Word]:
        d = self._decoder
        d.start_utt()
        d.process_raw((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)
        d.end_utt()
        frame = 1.0 / 100  # pocketsphinx counts 10 ms frames
        return [Word(word=re.sub(r"\(\d+\)$", "", s.word), start=s.start_frame * frame, end=(s.end_frame + 1) * frame)
                for s in d.seg() if not self._SKIP.match(s.word)]


class Whisper(Backend):
    """faster-whisper (a CTranslate2 model folder) or openai-whisper (a .pt checkpoint)."""

    name = "whisper"

    def __init__(self, model: str | None, language: str = "en", device: str = "auto"):
        if not model:
            raise TranscribeConfigError("the whisper backend needs DAM_WHISPER_MODEL: a faster-whisper model "
                                        "folder (with model.bin) or an openai-whisper .pt checkpoint")
        path = Path(model).expanduser()
        if not path.exists():
            raise TranscribeConfigError(f"DAM_WHISPER_MODEL={model}: no such file or folder")
        self.language, self.model = language, str(path)
        if path.is_dir():
            if not (path / "model.bin").is_file():
                raise TranscribeConfigError(f"{path} is not a faster-whisper (CTranslate2) model folder: no model.bin")
            try:
                from faster_whisper import WhisperModel
            except ImportError:
                raise TranscribeConfigError("pip install faster-whisper to use a CTranslate2 model folder") from None
            self._fw = WhisperModel(str(path), device=device, compute_type="default")
            self._ow = None
        else:
            try:
                import whisper
            except ImportError:
                raise TranscribeConfigError("pip install openai-whisper to use a .pt checkpoint") from None
            import torch

            dev = "cuda" if device in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
            try:
                self._ow = whisper.load_model(str(path), device=dev)
            except Exception as e:  # a truncated or foreign checkpoint
                raise TranscribeConfigError(f"{path} is not a whisper checkpoint: {e}") from None
            self._fw = None

    def words(self, audio: np.ndarray) -> list[Word]:
        out: list[Word] = []
        if self._fw is not None:
            segments, _ = self._fw.transcribe(audio, language=self.language, word_timestamps=True, vad_filter=False)
            for seg in segments:
                out += [Word(word=w.word.strip(), start=w.start, end=w.end) for w in (seg.words or []) if w.word.strip()]
        else:
            res = self._ow.transcribe(audio, language=self.language, word_timestamps=True, fp16=False)
            for seg in res["segments"]:
                out += [Word(word=w["word"].strip(), start=w["start"], end=w["end"])
                        for w in seg.get("words", []) if w["word"].strip()]
        return out


def load_backend(name: str = "pocketsphinx", model: str | None = None, language: str = "en") -> Backend:
    if name == "pocketsphinx":
        return PocketSphinx(language)
    if name == "whisper":
        return Whisper(model, language)
    raise TranscribeConfigError(f"unknown speech-to-text backend {name!r} (pocketsphinx or whisper)")


def sections(segments: list[Segment], pause: float) -> list[Section]:
    """A new section wherever the talk stops for `pause` seconds or more, or the subject changes
    (dam.audio.topics); titled by its first words."""
    shifts = topic_breaks([s.text for s in segments])
    out: list[Section] = []
    for i, s in enumerate(segments):
        if not out or s.start - segments[i - 1].end >= pause or i in shifts:
            words = s.text.split()
            title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
            out.append(Section(start=s.start, end=s.end, title=title[:1].upper() + title[1:], first=i, count=0))
        out[-1].end, out[-1].count = s.end, out[-1].count + 1
    return out


def transcribe(path: str | Path, backend: Backend, section_pause: float = 2.0,
               on_progress: Callable[[float], None] | None = None) -> Transcript:
    """Stream the file's audio through VAD and the recogniser; raises AudioError if unreadable."""
    t0 = time.perf_counter()
    tr = Transcript(path=str(path), language=backend.language, backend=backend.name, model=backend.model)

    def blocks():
        for b in stream_audio(path, RATE, block_seconds=30.0):
            tr.duration += len(b) / RATE
            if on_progress:
                on_progress(tr.duration)
            yield b

    for region in speech_regions(blocks()):
        tr.speech += len(region.audio) / RATE
        words = [w.model_copy(update={"start": round(region.start + w.start, 3), "end": round(region.start + w.end, 3)})
                 for w in backend.words(region.audio)]
        if words:
            tr.segments.append(Segment(start=words[0].start, end=words[-1].end,
                                       text=" ".join(w.word for w in words), words=words))
    tr.sections = sections(tr.segments, section_pause)
    tr.duration, tr.speech = round(tr.duration, 3), round(tr.speech, 3)
    tr.seconds = round(time.perf_counter() - t0, 3)
    return tr
