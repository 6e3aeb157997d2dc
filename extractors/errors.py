"""Why a document yields no cells. Each is one line on stderr and a rejected document in the warehouse.

`kind` is the document's `documents.reason_kind` (unreadable, unsupported, not_a_report,
pre_2019_format, too_large, special_file).
"""

from gknb.errors import GknbError


class ExtractError(GknbError):
    """A document could not be turned into cells."""

    kind = "unreadable"


class UnreadableDocument(ExtractError):
    """Corrupt, encrypted, empty, or undecodable: the bytes cannot be read as their format."""

    kind = "unreadable"


class UnsupportedFormat(ExtractError):
    """A format gknb does not read itself (.doc, .wps): the message says what to convert it to."""

    kind = "unsupported"


class NotAnnualReport(ExtractError):
    """The document reads, but holds no 政府信息公开工作年度报告 tables."""

    kind = "not_a_report"


class Pre2019Format(NotAnnualReport):
    """An annual report for a year before 2019: the national tables of the 2019 and 2021
    templates did not exist yet, so it has none of the catalog's cells. `year` is the reporting
    year it names (the warehouse keeps it as `documents.year`)."""

    kind = "pre_2019_format"

    def __init__(self, message: str, year: int):
        super().__init__(message)
        self.year = year


class TooLarge(ExtractError):
    """Beyond a per-document limit of `gknb.settings.limits()` (pages, pixels, bytes of text)."""

    kind = "too_large"


class SpecialFile(ExtractError):
    """Not a regular file (a FIFO, a device, a socket): never read, it could block or never end."""

    kind = "special_file"
