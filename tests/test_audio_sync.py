"""Multi-camera sync on generated shoots with known truth: espeak-ng speech over room noise,
recorded by "cameras" with other start times, sample rates, codecs, gains, mic filters, noise
and clock drift."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audio_fixtures import CAMS, shoot  # noqa: F401  (a fixture)

from dam.audio.gccphat import gcc_phat
from dam.audio.load import AudioError, load_audio
from dam.audio.sync import sync_pair


def truth(ref: str, clip: str) -> float:
    """Reference time of the clip's first sample, from the cameras' event start times and clocks."""
    r, c = CAMS[ref], CAMS[clip]
    return (c.start - r.start) / (1 + r.drift_ppm * 1e-6)


@pytest.mark.parametrize("ref,clip", [("a", "b"), ("b", "a"), ("a", "c"), ("c", "a"), ("b", "c")])
def test_offset_within_5_ms_in_either_order(shoot, ref, clip):
    r = sync_pair(shoot[ref], shoot[clip])
    assert r.matched, r.reason
    assert abs(r.offset - truth(ref, clip)) < 0.005, (r.offset, truth(ref, clip))
    assert r.confidence >= 0.999 and r.peak_ratio >= 2.5
    lo, hi = r.overlap
    assert hi - lo > 5  # partial overlaps: the overlap is part of the clip


def test_a_matching_clip_is_decoded_only_where_the_sync_looks(shoot, monkeypatch):
    """The reference is read whole (every lag is searched), the clip in one chunk and the
    windows at the ends of the overlap: most of a clip that matches is never decoded."""
    from dam.audio.load import AudioReader

    decoded: dict[str, float] = {}
    real_read = AudioReader.read

    def counting_read(self, rate, start=0.0, duration=None):
        x = real_read(self, rate, start, duration)
        decoded[self.path.name] = decoded.get(self.path.name, 0.0) + len(x) / rate
        return x

    monkeypatch.setattr(AudioReader, "read", counting_read)
    r = sync_pair(shoot["a"], shoot["b"])
    assert r.matched and abs(r.offset - truth("a", "b")) < 0.005
    clip_seconds = CAMS["b"].seconds
    assert decoded[shoot["b"].name] < 0.6 * clip_seconds, decoded
    assert decoded[shoot["a"].name] >= CAMS["a"].seconds - 0.1, decoded


def test_drift_is_reported_in_ppm(shoot):
    r = sync_pair(shoot["a"], shoot["c"])
    assert r.drift_ppm is not None and abs(r.drift_ppm - 80) < 15, r.drift_ppm
    steady = sync_pair(shoot["a"], shoot["b"])
    assert steady.drift_ppm is not None and abs(steady.drift_ppm) < 15, steady.drift_ppm


# cam b as other recorders write it: (file name, ffmpeg output options)
CONTAINERS = {
    "mp3": ("b.mp3", ["-c:a", "libmp3lame"]),  # encoder delay in the LAME header: timestamps start late
    "ogg-opus": ("b.ogg", ["-c:a", "libopus"]),  # pre-skip: a seek back to 0 lands before the first sample
    # timestamps start at 1.4 s; PCM as broadcast carries it (AAC's priming is not signalled in TS)
    "mpeg-ts": ("b.ts", ["-c:a", "s302m", "-strict", "-2", "-ar", "48000", "-ac", "2", "-f", "mpegts"]),
    "webm-opus": ("b.webm", ["-c:a", "libopus"]),  # Matroska: timestamps in whole ms, read from the start
    "mpeg-ps": ("b.vob", ["-c:a", "pcm_dvd", "-f", "vob"]),  # seeks 50-90 ms off: read from the start
    "short": ("b_short.wav", ["-t", "18", "-c:a", "pcm_s16le"]),  # so short that drift barely widens the search
}


@pytest.fixture(scope="module")
def recorders(shoot, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("recorders")
    for name, args in CONTAINERS.values():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(shoot["b"]), *args, str(d / name)], check=True)
    return {k: d / name for k, (name, _) in CONTAINERS.items()}


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_every_container_syncs_to_the_sample_with_its_fine_windows(shoot, recorders, kind):
    """Fine windows are read by seeking only where the container's seeks land on the sample
    (its start time allowed for); elsewhere the file is read from the start. Either way every
    window agrees with the line, so there is no false drift and the offset is the WAV's."""
    r = sync_pair(shoot["a"], recorders[kind])
    assert r.matched, r.reason
    assert abs(r.offset - truth("a", "b")) < 0.002, r.offset - truth("a", "b")
    assert r.windows >= 3 and r.error_ms < 0.1, (r.windows, r.error_ms)
    assert r.drift_ppm is None or abs(r.drift_ppm) < 15, r.drift_ppm


@pytest.mark.parametrize("kind", ["mp3", "ogg-opus", "mpeg-ts"])
def test_seeks_land_on_the_sample_in_containers_read_by_seeking(recorders, kind):
    from dam.audio.load import AudioReader

    with AudioReader(recorders[kind]) as reader:
        assert reader.exact_seek
        whole = reader.read(8000)
        for start in (17.3, 4.0, 0.0):
            part = reader.read(8000, start, 2.0)
            same = whole[int(start * 8000):int(start * 8000) + 16000]
            assert abs(gcc_phat(same, part, 8000, (150, 3400), (-40, 40)).lag) <= 0.5, start


@pytest.mark.parametrize("other", ["unrelated", "music"])
def test_unrelated_audio_is_no_match_not_a_number(shoot, other):
    r = sync_pair(shoot["a"], shoot[other])
    assert not r.matched and r.offset is None and r.reason.startswith("no match")


def test_bad_input_is_a_clear_error(tmp_path, shoot):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.m4a"
    text.write_text("not audio\n" * 50)
    silent_video = tmp_path / "mute.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=d=1:s=64x48", str(silent_video)],
                   check=True)
    for bad, why in ((empty, "."), (text, "."), (silent_video, "no audio stream"), (tmp_path / "nope.wav", "no such")):
        with pytest.raises(AudioError, match=why):
            sync_pair(shoot["a"], bad)


def test_a_damaged_stretch_becomes_silence_and_keeps_the_timing(tmp_path, shoot):
    data = bytearray(shoot["b"].read_bytes())
    mid = len(data) // 2
    data[mid:mid + 3000] = bytes(range(256)) * 11 + bytes(184)  # a burst of garbage inside the AAC data
    damaged = tmp_path / "damaged.m4a"
    damaged.write_bytes(bytes(data))
    assert abs(len(load_audio(damaged, 8000)) - len(load_audio(shoot["b"], 8000))) <= 1
    r = sync_pair(shoot["a"], damaged)
    assert r.matched and abs(r.offset - truth("a", "b")) < 0.005


def test_hostile_file_name_is_just_a_name(tmp_path, shoot):
    odd = tmp_path / "-i concat:x; rm -rf ~ 'q'.m4a"
    odd.write_bytes(shoot["b"].read_bytes())
    assert sync_pair(shoot["a"], odd).matched


LONG_SCRIPT = """
import json, resource, sys
from dam.audio.gccphat import gcc_phat
from dam.audio.sync import sync_pair
import dam.audio.load, numpy, scipy.signal
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = sync_pair(sys.argv[1], sys.argv[2])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"offset": r.offset, "matched": r.matched, "grew_mb": (peak - base) / 1024}))
"""


def test_an_hour_long_reference_stays_memory_bounded(tmp_path):
    """One hour at 48 kHz float would be 690 MB per copy; decimated streaming keeps the whole
    sync (decode, FFTs, windows) within a bounded budget however long the files are."""
    long = tmp_path / "long.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anoisesrc=d=3600:c=pink:r=16000:a=0.3",
                    "-c:a", "flac", str(long)], check=True)
    clip = tmp_path / "clip.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "2000", "-i", str(long), "-t", "40", "-ar", "44100",
                    "-c:a", "aac", str(clip)], check=True)
    res = subprocess.run([sys.executable, "-c", LONG_SCRIPT, str(long), str(clip)], capture_output=True, text=True,
                         check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["matched"] and abs(out["offset"] - 2000) < 0.005, out
    assert out["grew_mb"] < 400, out


@pytest.mark.parametrize("cam", ["a", "b", "c"])
@pytest.mark.parametrize("start", [10.0, 17.3])
def test_windows_are_read_by_seeking_at_the_same_place(shoot, cam, start):
    """A window read by seeking is that stretch of the whole decode, to within half a sample
    (the resampler's grid starts at the packet the seek lands on), whatever the codec; so fine
    windows of long files are where they claim to be."""
    whole = load_audio(shoot[cam], 8000)
    part = load_audio(shoot[cam], 8000, start=start, duration=2.0)
    assert len(part) == 16000
    i = int(start * 8000)
    same = whole[i:i + 16000]
    assert abs(gcc_phat(same, part, 8000, (150, 3800), (-40, 40)).lag) <= 0.5
    settled = slice(400, None)  # an AAC decoder needs a frame of pre-roll after a seek
    assert np.corrcoef(part[settled], same[settled])[0, 1] > 0.9


@pytest.mark.parametrize("cam", ["b", "c"])
def test_one_open_file_reads_windows_in_any_order(shoot, cam):
    """Forwards, backwards and back to the start in one open file: each window is that stretch
    of the whole decode (the sync reads its windows this way, a seek each, not an open)."""
    from dam.audio.load import AudioReader

    whole = load_audio(shoot[cam], 8000)
    with AudioReader(shoot[cam], fast=True) as reader:
        for start in (17.3, 4.0, 0.0, 30.5):
            part = reader.read(8000, start, 2.0)
            assert len(part) == 16000
            same = whole[int(start * 8000):int(start * 8000) + 16000]
            assert abs(gcc_phat(same, part, 8000, (150, 3400), (-40, 40)).lag) <= 0.5
            assert np.corrcoef(part[400:], same[400:])[0, 1] > 0.9


def test_audio_the_header_does_not_describe_is_probed_in_full(tmp_path, shoot):
    """Files are opened reading only their header. An MPEG-TS stream (parameters in the packets,
    behind a heavy video stream) has no sample rate after that, so it is opened again with the
    full probe, and decodes to the same samples as the WAV it was made from."""
    import av

    from dam.audio.load import OPEN_OPTIONS

    ts = tmp_path / "cam.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1280x720:d=8", "-i", str(shoot["a"]),
                    "-t", "8", "-c:v", "libx264", "-b:v", "40M", "-c:a", "mp2", "-ar", "22050", "-f", "mpegts", str(ts)],
                   check=True)
    with av.open(str(ts), options=OPEN_OPTIONS) as quick:  # the case the full probe is for
        assert quick.streams.audio[0].codec_context.sample_rate == 0
    got, want = load_audio(ts, 8000), load_audio(shoot["a"], 8000, duration=8.0)
    assert abs(len(got) - len(want)) < 800
    n = len(want) - 1600
    p = gcc_phat(want, got[800:800 + n], 8000, (150, 3800))  # the MP2 encoder's delay is ~22 ms
    assert abs(p.lag - 800) < 400 and p.ratio > 5, p
    k = int(round(p.lag))
    assert np.corrcoef(got[800:800 + n], want[k:k + n])[0, 1] > 0.9
