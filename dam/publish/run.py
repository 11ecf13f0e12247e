"""One publish: describe the selected assets, curate them against the target, package what
passes (original media + XMP sidecars + the target's CSV, staged under the data dir) and
upload it over FTP/FTPS or SFTP. Dry-run does everything except connect. The report says what
went where."""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path

from pydantic import BaseModel, Field

from dam.config import PublishTarget
from dam.files import write_atomic
from dam.library_ops.describe import describe_asset
from dam.library_ops.exports import unique_stem
from dam.library_ops.photos import make_proxies
from dam.library_ops.stock import stock_csv
from dam.library_ops.xmp import xmp_packet
from dam.media.proxy import needs_proxy, proxy_path
from dam.publish import ftp, sftp
from dam.publish.curate import Problem, curate
from dam.publish.remote import PublishError, Remote, Upload, ensure_dir, upload
from dam.publish.target import password, ssh_secrets, target
from dam.schema import Asset


class PublishReport(BaseModel):
    target: str
    destination: str = Field(description="protocol://user@host:port/path (never the password).")
    dry_run: bool
    published: list[str] = Field(default_factory=list, description="Asset ids packaged for the target.")
    held: list[Problem] = Field(default_factory=list, description="Curation messages; blocking ones held the asset.")
    uploads: list[Upload] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def failed(self) -> list[Upload]:
        return [u for u in self.uploads if u.status == "failed"]


def plan(lib, name: str, assets: list[Asset]) -> tuple[PublishReport, list[Upload]]:
    t = target(lib.settings, name)
    report = PublishReport(target=name, dry_run=True,
                           destination=f"{t.protocol}://{t.user}@{t.host}:{t.port}{posixpath.join('/', t.path)}")
    metas = [describe_asset(lib, a) for a in assets]
    ok, report.held = curate(metas, t)
    stage = lib.settings.data_dir / "publish" / name
    by_id = {a.id: a for a in assets}
    taken: set[str] = set()
    uploads: list[Upload] = []
    for m in ok:
        a = by_id[m.asset_id]
        try:
            media = deliverable(lib, a, t.media)
        except PublishError as e:
            report.held.append(Problem(asset_id=a.id, name=a.name, message=str(e)))
            continue
        stem = unique_stem(a, taken)
        m.name = stem + media.suffix.lower()  # the CSV row names the file as uploaded
        uploads.append(Upload(local=str(media), remote=posixpath.join(t.path, m.name), size=media.stat().st_size))
        side = write_atomic(stage / f"{stem}.xmp", xmp_packet(m))
        uploads.append(Upload(local=str(side), remote=posixpath.join(t.path, side.name), size=side.stat().st_size))
        report.published.append(a.id)
    ok = [m for m in ok if m.asset_id in report.published]
    if ok:
        text, report.warnings = stock_csv(t.layout, ok)
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        csv = write_atomic(stage / f"dam-{t.layout}-{digest}.csv", text)
        uploads.append(Upload(local=str(csv), remote=posixpath.join(t.path, csv.name), size=csv.stat().st_size))
    return report, uploads


def deliverable(lib, a: Asset, media: str) -> Path:
    """The file to send: the original, or (media="proxy") the H.264 proxy of a source a browser
    cannot play, made now if ingest has not made it yet."""
    if media != "proxy" or not needs_proxy(a.info):
        return Path(a.path)
    proxy = proxy_path(lib.settings, a.id)
    errors = make_proxies(lib, [a])
    if errors:
        raise PublishError(f"{a.name}: no proxy to publish: {errors[0].reason}")
    return proxy


def publish(lib, name: str, assets: list[Asset], dry_run: bool = False) -> PublishReport:
    """Raises PublishConfigError (no target / no secret) or PublishError (cannot connect or
    log in) before anything is sent; per-file trouble is reported on the file."""
    report, uploads = plan(lib, name, assets)
    if dry_run or not uploads:
        report.uploads = uploads
        return report
    t = target(lib.settings, name)
    remote = open_remote(name, t)
    report.dry_run = False
    try:
        ensure_dir(remote, t.path)
        for u in uploads:
            try:
                report.uploads.append(upload(remote, u))
            except (PublishError, OSError, EOFError) as e:
                report.uploads.append(u.model_copy(update={"status": "failed", "detail": str(e)[:300]}))
            except Exception as e:  # ftplib.Error, paramiko.SSHException...: this file failed, the rest still go
                report.uploads.append(u.model_copy(update={"status": "failed", "detail": f"{type(e).__name__}: "
                                                                                         f"{str(e)[:300]}"}))
    finally:
        remote.close()
    return report


def open_remote(name: str, t: PublishTarget) -> Remote:
    """Log in to the target; secrets are read from the environment here and go nowhere else."""
    if t.protocol == "sftp":
        pw, key = ssh_secrets(name, t)
        return sftp.connect(t.host, t.port, t.user, pw, key, t.known_hosts, t.timeout)

    return ftp.connect(t.protocol, t.host, t.port, t.user, password(name, t), t.timeout, t.tls_verify)
