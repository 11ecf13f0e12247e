"""The README is executable: every fenced shell example is extracted and either run against
sample media (paths in it replaced by PLACEHOLDERS) or listed in SKIPPED with the reason it
cannot run here. Where the README shows output (`text` blocks with `$ ` prompts) the command
is run and every line shown must be in what it prints. A doc that disagrees with the program,
or an example nobody accounted for, fails.

One library is built the way the README builds it (`dam samples`, then the "Using it" commands
in order), and the later sections run against it, in README order."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

# Examples that cannot run in CI, by the program they start (first word) or by their exact text.
SKIP_PROGRAMS = {
    "bash": "scripts/demo and scripts/test set up the machine (apt, pip); CI runs scripts/test itself",
    "ray": "needs a Ray cluster (`ray job submit`); tests/test_backfill_cluster.py runs the backfill driver",
    "curl": "talks to a running `dam serve`: tests/test_serve_smoke.py starts it as the README says",
    "open": "opens a browser",
    "pip": "installs packages (no network in CI)",
    "ssh-keyscan": "reaches a stock platform's SFTP host (no network in CI)",
    ".venv/bin/python": "benchmarks run on purpose (minutes), not in CI; see benchmarks/",
}
SKIP_COMMANDS = [  # (how the README line starts, why)
    ("dam serve", "long-running: tests/test_serve_smoke.py starts it exactly so and speaks HTTP to it"),
    ("DAM_CAMERA_WATCH_DIR=", "long-running `dam serve` with cameras: tests/test_serve_smoke.py"),
    ("DAM_CAMERA_SOURCES=", "long-running `dam serve` with a file camera: tests/test_serve_smoke.py runs this line"),
    ("DAM_FACE_MODEL=", "needs the YuNet ONNX file, which cannot be downloaded here"),
    ("dam ingest /media/card", "illustrative output of a camera card with a damaged and an unreadable clip (times and "
     "job id elided); tests/test_ingest.py checks damaged files. To run here it needs a generated card with that truth"),
    ("dam publish --target adobe --album Stock --json", "uploads to a stock platform's FTPS server (no network in CI); "
     "tests/test_publish.py runs real FTP/SFTP servers on 127.0.0.1"),
    ("dam publish --target sstock", "uploads over SFTP to a stock platform (no network in CI); tests/test_publish.py"),
    ("dam sync-remote studio-nas", "pulls from a NAS (none here); tests/test_remote_sync.py runs `dam sync-remote` "
     "against a real Samba server on 127.0.0.1: first sync, resume, rename, --delete, a wrong password"),
    ("dam ingest ~/Footage/nas", "indexes what `dam sync-remote` pulled (no NAS here); tests/test_remote_sync.py"),
]
# `export` lines set the environment for the rest of their section; these need files we cannot have.
NEEDS_WEIGHTS = {("DAM_ENCODER", "clip"): "needs CLIP weights (downloaded on first use: no network in CI); "
                                          "tests/test_encoders.py loads a checkpoint it writes itself",
                 ("DAM_STT_BACKEND", "whisper"): "needs a whisper model folder, which cannot be downloaded here",
                 ("DAM_SEPARATION_MODEL", "/models/demucs/955717e8-8726e21a.th"):
                     "needs Demucs weights; tests/test_separate.py loads checkpoints it writes itself"}

# README path -> sample path; longer keys first. `{x}` are the folders the fixture makes.
PLACEHOLDERS = {
    "~/Footage/shoot-0412/": "{shoot}/",
    "~/Footage/2026-05-Lisbon": "{samples}",
    "~/Footage": "{samples}",
    "./dam-samples": "{samples}",
    "/mnt/card/DCIM": "{card}",
    "/Volumes/NAS/dam-backup": "{work}/nas-backup",
    "still.jpg": "{card}/still.jpg",
    "portrait.jpg": "{card}/still.jpg",
    "A001.mp4": "{samples}/city_walk_A001.mp4",
    "shots.mp4": "{samples}/city_walk_A001.mp4",
    "clip.mp4": "{samples}/sunset_beach_B002.mp4",
    "cam_a.mp4": "{shoot}/cam_a.wav",
    "cam_b.mov": "{shoot}/cam_b.m4a",
    "cam_b.mp4": "{shoot}/cam_b.m4a",
    "zoom_h4n.wav": "{shoot}/cam_c.flac",
    "interview.mp4": "{talk}",
    "parking.mp4": "{parking}",
    "yard.mp4": "{parking}",
    "tone.wav": "{tone}/tone.wav",
    "tone_late.wav": "{tone}/tone_late.wav",
}
# Where one README name means another file in one section: the Blender export's cameras are videos.
SECTION_PLACEHOLDERS = {"Sidecars, stock CSVs, timelines, Blender": {
    "cam_a.mp4": "{samples}/city_walk_A001.mp4", "cam_b.mp4": "{samples}/studio_interview_C003.mp4"}}
# Exit codes the README documents for an example (3: finished, some files could not be processed).
EXPECTED_EXIT = {"dam sync tone.wav": {3}}


@dataclass
class Example:
    section: str
    line: int
    text: str  # as the README writes it (continuations joined)
    output: list[str]  # lines the README shows it printing (text blocks only)


def examples(readme: str) -> list[Example]:
    out: list[Example] = []
    section, fence, pending, prompt = "", None, "", False
    for n, raw in enumerate(readme.splitlines(), 1):
        line = raw.strip()
        if fence is None:
            if line.startswith("#") and not line.startswith("#!"):
                section = line.lstrip("#").strip()
            elif line.startswith("```"):
                fence, prompt = line[3:].strip(), False
            continue
        if line.startswith("```"):
            fence = None
            continue
        if fence == "bash":
            pending += line[:-1] + " " if line.endswith("\\") else line + " "
            if not line.endswith("\\") and _complete(pending):
                pending = pending.strip()
                if pending and not pending.startswith("#"):
                    out.append(Example(section, n, pending, []))
                pending = ""
        elif fence == "text":
            if line.startswith("$ "):
                out.append(Example(section, n, line[2:], []))
                prompt = True
            elif line and prompt:
                out[-1].output.append(line)
    return out


def _complete(cmd: str) -> bool:
    """False while a quote is open (a JSON value written over several lines)."""
    try:
        shlex.split(cmd, comments=True)
    except ValueError:
        return False
    return True


def skip_reason(ex: Example, exported: dict[str, str]) -> str | None:
    for prefix, why in SKIP_COMMANDS:
        if ex.text.startswith(prefix):
            return why
    first = ex.text.split()[0]
    if first in SKIP_PROGRAMS:
        return SKIP_PROGRAMS[first]
    return next((why for (key, value), why in NEEDS_WEIGHTS.items() if exported.get(key) == value), None)


def substitute(text: str, where: dict[str, str], section: str = "") -> str:
    table = {**PLACEHOLDERS, **SECTION_PLACEHOLDERS.get(section, {})}
    for key in sorted(table, key=len, reverse=True):
        text = re.sub(rf"(?<![\w/.~-]){re.escape(key)}", table[key].format(**where), text)
    return text


def run(cmd: str, where: dict[str, str], env: dict[str, str], section: str = "") -> subprocess.CompletedProcess:
    """One README line: `A=1 dam …`, `… && …`, comments; `dam` is this checkout's."""
    results = None
    for part in cmd.split(" && "):
        argv = shlex.split(substitute(part, where, section), comments=True)
        extra = {}
        while argv and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", argv[0]):
            k, _, v = argv.pop(0).partition("=")
            extra[k] = v
        assert argv[0] == "dam", cmd
        results = subprocess.run([sys.executable, "-m", "dam.cli", *argv[1:]], cwd=where["work"], env={**env, **extra},
                                 capture_output=True, text=True, timeout=900)
        if results.returncode != 0:
            break
    assert results is not None
    return results


@pytest.fixture(scope="module")
def where(tmp_path_factory) -> dict[str, str]:
    """The media the placeholders name: made with the project's own generators and ffmpeg."""
    from dam.audio.samples import SENTENCES, Camera, event, record
    from dam.motion.synth import SCENARIOS, render

    work = tmp_path_factory.mktemp("readme")
    card, shoot, tone = work / "card", work / "shoot-0412", work / "tone"
    for d in (card, shoot, tone):
        d.mkdir()
    src = event(40, seed=0)
    record(src, Camera(0.0, 30, 48000), shoot / "cam_a.wav", seed=0)
    record(src, Camera(6.5, 25, 44100, gain=0.4, codec="aac", suffix=".m4a"), shoot / "cam_b.m4a", seed=1)
    record(src, Camera(12.0, 20, 32000, codec="flac", suffix=".flac"), shoot / "cam_c.flac", seed=2)
    speech = event(14, seed=3, sentences=SENTENCES[:2], pause=2.5, loop=False)
    audio = record(speech, Camera(0, 14, 44100, snr_db=25, codec="aac", suffix=".m4a"), work / "talk.m4a", seed=4)
    ff = ["ffmpeg", "-v", "error", "-y"]
    subprocess.run([*ff, "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25:duration=14", "-i", str(audio),
                    "-shortest", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", str(work / "interview.mp4")],
                   check=True)
    render(work / "parking.mp4", SCENARIOS["objects"], size=(480, 270))
    subprocess.run([*ff, "-f", "lavfi", "-i", "sine=frequency=440:duration=10", "-ac", "2", str(tone / "tone.wav")],
                   check=True)
    subprocess.run([*ff, "-i", str(tone / "tone.wav"), "-af", "adelay=1000:all=1", str(tone / "tone_late.wav")],
                   check=True)
    return {"work": str(work), "samples": str(work / "dam-samples"), "card": str(card), "shoot": str(shoot),
            "talk": str(work / "interview.mp4"), "parking": str(work / "parking.mp4"), "tone": str(tone)}


@pytest.mark.timeout(3000)  # ~60 `dam` commands, a few of them ingests and Ray jobs, on 2 cores
def test_every_readme_shell_example_runs(where):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAM_") and k != "RAY_ADDRESS"}
    env.update(DAM_DATA_DIR=str(Path(where["work"]) / "dam-data"), COLUMNS="200", NO_COLOR="1")
    found = examples(README.read_text())
    assert len(found) > 40 and any(e.text.startswith("dam search") for e in found)
    # `dam samples ./dam-samples` comes last in its block but makes the media the others use.
    order = sorted(found, key=lambda e: (not e.text.startswith("dam samples"), e.line))
    ran, skipped, failed = [], [], []
    exported: dict[str, str] = {}
    section = None
    for ex in order:
        if ex.section != section:
            section, exported = ex.section, {}
        if ex.text.startswith("export "):  # for the rest of the section, as in a shell
            for word in shlex.split(substitute(ex.text[len("export "):], where), comments=True):
                key, _, value = word.partition("=")
                exported[key] = os.path.expanduser(value)
            ran.append(ex.text)
            continue
        reason = skip_reason(ex, exported)
        if reason:
            skipped.append(f"README:{ex.line} {ex.text[:70]}  — {reason}")
            continue
        if ex.text.startswith("dam export adobe-stock --album Stock"):  # the example assumes an album "Stock"
            run("dam sync-album ~/Footage Stock", where, env)
        r = run(ex.text, where, {**env, **exported}, ex.section)
        want = next((codes for prefix, codes in EXPECTED_EXIT.items() if ex.text.startswith(prefix)), {0})
        if r.returncode not in want:
            failed.append(f"README:{ex.line} `{ex.text}` exited {r.returncode}\n{r.stdout[-1500:]}\n{r.stderr[-1500:]}")
            continue
        shown = {" ".join(x.split()) for x in r.stdout.splitlines()}
        missing = [x for x in ex.output if " ".join(x.split()) not in shown]
        if missing:
            failed.append(f"README:{ex.line} `{ex.text}` does not print what the README shows: {missing}\n{r.stdout}")
        ran.append(ex.text)
        if ex.text.startswith("dam samples"):
            _still(where)  # /mnt/card/DCIM: a card with a still on it, for ingest and `--image`
    print("\nran:", *ran, "\nskipped:", *skipped, sep="\n  ")
    assert not failed, "\n\n".join(failed)
    assert len(ran) >= 30, ran


def _still(where: dict[str, str]) -> None:
    """`still.jpg`: a frame of a sample, cropped and recompressed (what the example promises to find)."""
    still = Path(where["card"]) / "still.jpg"
    if not still.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "3", "-i", f"{where['samples']}/sunset_beach_B002.mp4",
                        "-frames:v", "1", "-vf", "crop=iw*0.8:ih*0.8,scale=400:-2", "-q:v", "5", str(still)], check=True)


def test_extraction_sees_every_block():
    """The extractor itself: each bash block's commands and each `$` prompt are found."""
    text = README.read_text()
    blocks = len(re.findall(r"^\s*```bash", text, re.M))
    found = examples(text)
    assert len({(e.section, e.line) for e in found}) == len(found)
    assert blocks >= 20 and len({e.section for e in found}) >= 12
    search = next(e for e in found if e.text == 'dam search "sunset beach"' and e.output)
    assert any("sunset_beach_B002.mp4" in x for x in search.output)
