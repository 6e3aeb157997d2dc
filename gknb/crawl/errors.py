"""Why a crawl could not fetch something. Each is one line in the crawl result, never a crash of the run."""

from __future__ import annotations

from gknb.errors import ConfigError, GknbError, TransientError


class CrawlError(GknbError):
    """Something about crawling went wrong; `kind` is the short word recorded with the URL."""

    kind = "error"


class SiteConfigError(CrawlError, ConfigError):
    """The site list (schemas/sites.yaml or a --sites file) is malformed: says which site and key."""

    kind = "config"


class OutsideAllowList(CrawlError):
    """A URL (or a redirect target) is on a host the site does not allow: it is never requested."""

    kind = "outside_allow_list"


class RobotsDisallowed(CrawlError):
    """robots.txt of the host forbids the URL for our user agent: it is never requested."""

    kind = "robots"


class FetchFailed(CrawlError):
    """The server answered with an error status, or kept failing after the bounded retries."""

    kind = "fetch_failed"

    def __init__(self, message: str, status: int | None = None, attempts: int = 0):
        super().__init__(message)
        self.status = status
        self.attempts = attempts


class TooLarge(CrawlError):
    """The body is larger than the configured size limit; the download is abandoned."""

    kind = "too_large"


class DeadlineExceeded(CrawlError, TransientError):
    """The whole request (connect, headers, body) took longer than `request_deadline_seconds`."""

    kind = "deadline"


class TooManyRedirects(CrawlError):
    """A redirect chain is longer than the configured limit."""

    kind = "redirects"
