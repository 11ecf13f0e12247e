"""Motion as an ingest stage (DAM_MOTION_ON_INGEST): the pure analysis (dam.motion.analyze) over
each new video, stored through dam.motion.store. Its own module so reading motion (search
filters, asset pages) never imports the analysis and SciPy (0.3 s)."""

from __future__ import annotations

from pathlib import Path

from dam.media.decode import DecodeError
from dam.motion.analyze import analyze_file
from dam.motion.model import MotionParams
from dam.motion.store import save


def analyse_assets(library, asset_ids: list[str], progress=None) -> None:
    """The optional ingest stage (DAM_MOTION_ON_INGEST): a timeline per video, errors recorded
    on the asset without failing the ingest."""
    params = MotionParams.from_settings(library.settings)
    if progress:
        progress.start("motion", len(asset_ids))
    for aid in asset_ids:
        a = library.catalog.asset(aid)
        if a is not None and a.kind == "video":
            try:
                save(library.catalog, aid, analyze_file(Path(a.path), params))
            except (DecodeError, OSError) as e:
                library.catalog.set_asset(aid, error=f"motion: {e}")
        if progress:
            progress.advance(1, a.name if a else aid)
    if progress:
        progress.finish()


def ingest_stage(library, run, done: list[str]) -> None:
    """dam.ingest_run.AFTER_LEVELS' entry: the videos just indexed, when DAM_MOTION_ON_INGEST."""
    if library.settings.motion_on_ingest and done:
        analyse_assets(library, done, run.progress)
