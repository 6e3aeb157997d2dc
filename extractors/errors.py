"""Why a document yields no cells. Each is one line on stderr and a rejected document in the warehouse."""

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
