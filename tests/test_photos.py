"""Phone imports: HEIC with its EXIF date and GPS, Live Photo pairs as one asset, H.264 proxies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from conftest import ffmpeg, make_settings
from PIL import Image

from dam.library import Library
from dam.library_ops.photos import make_proxies
from dam.media.photo import read_image
from dam.media.probe import probe
from dam.media.proxy import needs_proxy, proxy_path


def heic(path, colour=(200, 100, 50), date="2024:05:01 12:34:56"):
    """A real HEIC from pillow-heif with the EXIF an iPhone writes: date, offset, camera, GPS."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    yy, xx = np.mgrid[0:240, 0:320]
    pixels = np.stack([xx * 255 // 320, yy * 255 // 240, np.full_like(xx, colour[2])], -1).astype(np.uint8)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 15 Pro"
    sub = exif.get_ifd(0x8769)
    sub[0x9003], sub[0x9011] = date, "+02:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 29.0), "W", (2.0, 17.0, 40.0)
    Image.fromarray(pixels).save(path, exif=exif.tobytes())
    return path


def mov(path, seconds=2, codec=("-c:v", "libx264", "-pix_fmt", "yuv420p"), content_id=None):
    meta = ["-metadata", f"com.apple.quicktime.content.identifier={content_id}", "-movflags", "use_metadata_tags"] \
        if content_id else []
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}", "-f", "lavfi", "-i",
           f"sine=frequency=440:duration={seconds}", *codec, "-c:a", "aac", "-shortest", *meta, str(path))
    return path


@pytest.fixture
def phone(tmp_path):
    roll = tmp_path / "Camera Roll"
    roll.mkdir()
    heic(roll / "IMG_0001.HEIC")
    mov(roll / "IMG_0001.MOV", content_id="5B1D2C3E-LIVE")
    mov(roll / "IMG_0002.MOV", seconds=2)  # a short clip with no photo: stays a video
    heic(roll / "IMG_0003.HEIC", colour=(10, 200, 90), date="2023:12:24 18:00:00")
    lib = Library(make_settings(tmp_path))
    yield lib, roll
    lib.close()


def test_heic_import_and_live_photo_pair_become_one_asset(phone):
    lib, roll = phone
    report = lib.ingest([roll], implicit_root=True, levels="L0")
    assert report.errors == []
    kinds = sorted((a["path"].rsplit("/", 1)[-1], a["kind"]) for a in report.assets)
    assert kinds == [("IMG_0001.HEIC", "image"), ("IMG_0002.MOV", "video"), ("IMG_0003.HEIC", "image")]
    photo = lib.asset(str(roll / "IMG_0001.HEIC"))
    assert photo.info.creation_time == datetime(2024, 5, 1, 12, 34, 56, tzinfo=timezone(timedelta(hours=2)))
    assert (photo.info.make, photo.info.model) == ("Apple", "iPhone 15 Pro")
    assert photo.info.tags["gps_latitude"] == "48.858056" and photo.info.tags["gps_longitude"] == "-2.294444"
    assert photo.info.tags["location"] == "+48.8581-002.2944/"
    assert photo.info.tags["live_video"] == str(roll / "IMG_0001.MOV")
    # The MOV is a file of the photo's asset, not an asset of its own; a rescan keeps it that way.
    assert lib.asset(str(roll / "IMG_0001.MOV")).id == photo.id
    assert lib.catalog.counts()["assets"] == 3
    lib.scan(roll, implicit_root=True)
    assert lib.catalog.counts()["assets"] == 3 and lib.asset(str(roll / "IMG_0001.MOV")).id == photo.id
    # Photos are searchable like frames: L0 and L1 vectors, a poster, found by their own picture.
    assert lib.store.ids_of("l1", lib.key, photo.id) == [f"{photo.id}:l1:0"]
    assert Image.open(photo.poster).size[0] == 320
    other = lib.asset(str(roll / "IMG_0003.HEIC"))
    hits = lib.search(image=read_image(roll / "IMG_0003.HEIC")[0], limit=3)
    assert hits[0].asset_id == other.id


def test_mismatched_content_identifiers_are_not_a_pair(tmp_path):
    from dam.library_ops.photos import live_pairs

    lib = Library(make_settings(tmp_path))
    try:
        roll = tmp_path / "roll"
        roll.mkdir()
        mov(roll / "IMG_0009.MOV", content_id="AAAA")
        mov(roll / "IMG_0009.mp4", content_id="BBBB")
        heic(roll / "IMG_0009.HEIC")
        lib.ingest([roll], implicit_root=True, levels="L0")
        assert lib.catalog.counts()["assets"] == 3  # two short videos with one name: ambiguous, left alone
        a = lib.asset(str(roll / "IMG_0009.MOV"))
        assert a.info.tags.get("com.apple.quicktime.content.identifier") == "AAAA"
        b = a.model_copy(update={"info": a.info.model_copy(update={"tags": {"content_identifier": "CCCC"}})})
        photo = lib.asset(str(roll / "IMG_0009.HEIC"))
        photo_b = photo.model_copy(update={"info": photo.info.model_copy(update={"tags": {"content_identifier": "DDDD"}})})
        assert live_pairs([(roll / "IMG_0009.MOV", b), (roll / "IMG_0009.HEIC", photo_b)]) == []
        assert len(live_pairs([(roll / "IMG_0009.MOV", a), (roll / "IMG_0009.HEIC", photo)])) == 1
    finally:
        lib.close()


@pytest.mark.parametrize("codec", [("-c:v", "prores_ks", "-profile:v", "1"), ("-c:v", "libx265", "-preset", "ultrafast")])
def test_prores_and_hevc_get_browser_playable_proxies(tmp_path, codec):
    src = mov(tmp_path / "A001_C002.mov", seconds=2, codec=codec)
    lib = Library(make_settings(tmp_path))
    try:
        lib.ingest([src], implicit_root=True, levels="L0")
        a = lib.asset(str(src))
        assert needs_proxy(a.info)
        assert make_proxies(lib, [a]) == []
        out = probe(proxy_path(lib.settings, a.id))
        assert out.video.codec == "h264" and out.video.pix_fmt == "yuv420p" and abs(out.duration - 2) < 0.2
        assert not needs_proxy(out)
        lib.forget(a.id)
        assert not proxy_path(lib.settings, a.id).exists()
    finally:
        lib.close()


def test_a_full_ingest_leaves_a_proxy_the_browser_can_play(ray_cluster, tmp_path):
    src = mov(tmp_path / "B001_C003.mov", seconds=2, codec=("-c:v", "libx265", "-preset", "ultrafast"))
    lib = Library(make_settings(tmp_path))
    try:
        report = lib.ingest([src], implicit_root=True, levels="L2")
        assert report.errors == [] and report.indexed == 1
        out = probe(proxy_path(lib.settings, lib.asset(str(src)).id))
        assert out.video.codec == "h264" and not needs_proxy(out)
    finally:
        lib.close()


def test_broken_heic_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.heic"
    data = heic(tmp_path / "ok.heic").read_bytes()
    bad.write_bytes(data[:200])
    lib = Library(make_settings(tmp_path))
    try:
        report = lib.ingest([bad], implicit_root=True, levels="L0")
        assert [e.path for e in report.errors] == [str(bad)] and "picture" in report.errors[0].reason
    finally:
        lib.close()
