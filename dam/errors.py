"""One error hierarchy for what a capability can refuse. Use cases raise these; the HTTP layer
(dam.serve.http) turns them into statuses and the CLI (dam.cli.app) into exit codes, each in one
place. `code` is the machine word in `{error, detail}`; `detail` a sentence, or a list of them.

They cross Ray Serve's handles intact (Ray re-raises a replica's exception as an instance of its
class), so a LibraryService method raises them just as a CLI command does."""

from __future__ import annotations


class DamError(Exception):
    code = "error"

    def __init__(self, detail: str | list[str], code: str | None = None, title: str | None = None):
        super().__init__(detail if isinstance(detail, str) else "; ".join(detail))
        self.detail = detail
        self.code = code or type(self).code
        self.title = title  # a heading for a list of details ("invalid workflow, nothing ran")

    def __reduce__(self):  # pickles with its code and detail (Ray sends it between processes)
        return type(self), (self.detail, self.code, self.title)


class NotFound(DamError):
    """No such asset, file, job, album or target."""

    code = "not_found"


class InvalidInput(DamError):
    """The request itself is wrong (an option, a body, a workflow file): fixing it is up to the
    caller, and nothing was done."""

    code = "invalid_input"


class Unreadable(DamError):
    """The media is there but cannot be read (damaged, no audio, not media)."""

    code = "unreadable_media"


class Conflict(DamError):
    """The request is fine but the library's state or configuration refuses it: a backup root
    inside the data dir, a port in use, a library already in the data dir. Changing that state
    makes the same request work."""

    code = "conflict"


class NotConfigured(Conflict):
    """A setting this needs is missing (a model, a backup root, a media root)."""

    code = "not_configured"


class Unavailable(DamError):
    """A service dam depends on is not answering now; retrying later may work."""

    code = "unavailable"


class UpstreamFailed(DamError):
    """A remote dam talked to refused or failed (an FTP or SFTP server): nothing was sent, and
    the detail is the server's own reason."""

    code = "upstream_failed"


class AuthFailed(UpstreamFailed):
    """A remote refused the credentials dam was given (a wrong password, an unknown user):
    fixing them is up to the user; nothing was read or sent."""

    code = "auth_failed"
