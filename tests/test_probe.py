"""Probe: ffprobe-grade metadata, content identity and the cheap change check."""

import os
import time

import pytest
from conftest import ffmpeg

from dam.media.hashing import content_hash, stat_key
from dam.media.probe import ProbeError, probe
from dam.media.sniff import looks_like_media


def test_video_fields(media):
    info = probe(media["shots"])
    assert info.kind == "video" and "mp4" in info.container
    v = info.video
    assert (v.codec, v.width, v.height, v.pix_fmt, v.bit_depth) == ("h264", 480, 270, "yuv420p", 8)
    assert v.fps == pytest.approx(25.0) and not v.variable_frame_rate and not v.hdr
    assert info.duration == pytest.approx(18 - 2 * 1.0 - 1.0, abs=0.1)  # 6 shots of 3s, two 1s overlaps
    assert info.audio[0].codec == "aac" and info.audio[0].sample_rate == 48000


def test_camera_metadata_timecode_rotation(tmp_path):
    plain, out = tmp_path / "plain.mov", tmp_path / "phone.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(plain))
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata", "creation_time=2024-05-01T10:20:30Z", "-metadata:s:v", "rotate=90",
           "-timecode", "01:02:03:04", "-movflags", "use_metadata_tags",
           "-metadata", "com.apple.quicktime.make=Apple", "-metadata", "com.apple.quicktime.model=iPhone 15 Pro", str(out))
    info = probe(out)
    assert info.video.rotation in (90, 270)
    assert info.display_size == (240, 320)
    assert info.creation_time.year == 2024 and info.creation_time.month == 5
    assert (info.make, info.model) == ("Apple", "iPhone 15 Pro")
    assert info.timecode == "01:02:03:04"


def test_hdr_ten_bit(tmp_path):
    out = tmp_path / "hdr.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=1", "-c:v", "libx265", "-pix_fmt", "yuv420p10le",
           "-x265-params", "log-level=error", "-color_trc", "smpte2084", "-color_primaries", "bt2020",
           "-colorspace", "bt2020nc", str(out))
    v = probe(out).video
    assert v.codec == "hevc" and v.bit_depth == 10 and v.hdr and v.color_transfer == "smpte2084"


def test_variable_frame_rate(tmp_path):
    out = tmp_path / "vfr.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=4", "-vf", "select='lt(n,30)+not(mod(n,3))'",
           "-vsync", "vfr", "-c:v", "libx264", str(out))
    assert probe(out).video.variable_frame_rate


def test_photos_and_audio(media):
    assert probe(media["still"]).kind == "image"
    tone = probe(media["good"] / "tone.wav")
    assert tone.kind == "audio" and tone.audio[0].channels == 2 and tone.duration == pytest.approx(3, abs=0.05)


@pytest.mark.parametrize("name", ["empty.mp4", "notes.mp4", "random.mov"])
def test_bad_files_are_refused_with_a_reason(media, name):
    path = media["bad"] / name
    assert not looks_like_media(path)
    with pytest.raises(ProbeError) as e:
        probe(path)
    assert str(e.value)


def test_mislabelled_file_is_recognised_by_content(media):
    assert looks_like_media(media["bad"] / "audio_only.m4a")
    assert probe(media["bad"] / "audio_only.m4a").kind == "audio"


def test_content_hash_is_identity_and_stat_key_is_cheap(media, tmp_path):
    copy = tmp_path / "renamed.bin"
    copy.write_bytes(media["shots"].read_bytes())
    assert content_hash(copy) == content_hash(media["shots"]) != content_hash(media["other"])
    size, mtime = stat_key(copy)
    os.utime(copy, (time.time() + 10, mtime + 10))
    assert stat_key(copy) != (size, mtime)
