"""Crawled web text: the visible text of a report's web page, with the table cells run together.

Archives of government sites keep only the page text, so a table row arrives as its label followed
by its digits with nothing between the cells: `规章007规范性文件7777166…`,
`1.属于国家秘密00000002.其他法律…`. Which digits belong to which cell is lost; only the identities
of CONTRACT.md can restore it. For each row this module

1. takes the digit string between the row's label and the next label (spaces and minus signs are
   real cell boundaries; the next row's own number, the `2.` of `2.其他法律…`, is cut off);
2. enumerates every way of splitting it into the row's columns, where each piece is a number as a
   table prints it (no leading zero except a lone 0; a minus sign only in 本年增/减; a decimal
   point or a trailing 元 only in an amount);
3. keeps the splits that satisfy the row's identity (S3.row_total, S4.row_total), then prunes
   further with the identities across rows (S3.outcomes and S3.balance, column by column);
4. emits a cell's value only where every split still standing agrees on it. Everything else is
   `missing`, and the report's warnings say which rows could not be split.

A row with exactly one split is taken as printed even where it breaks an identity (a real report
may); a set of rows that admits no consistent split at all is left to the row identities only,
with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

from gknb.extractors.document import Document, Paragraph
from gknb.extractors.errors import ExtractError, NotAnnualReport
from gknb.catalog import load_catalog
from gknb.contract import Cell, Extraction, ReportMeta
from gknb.structure import load_structure
from gknb.extractors.labels import flex_pattern, fold_label, header_unit, load_aliases, similar_row

_MAX_SPLITS = 200_000  # per row; beyond this the row is left missing rather than searched forever
_MAX_STATES = 300_000  # partial column sums kept while checking S3.outcomes
_MAX_STEPS = 2_000_000  # search steps for one row's splits


def looks_like(data: bytes | str) -> bool:
    """True for page text whose request table has its cells run together (this module's form)."""
    if isinstance(data, bytes):
        from gknb.extractors.encoding import decode_text

        try:
            text = decode_text(data)
        except ExtractError:  # undecodable: the text front end says so
            return False
    else:
        text = data
    telltale, spaced = _telltales()
    return len(telltale.findall(text)) >= 3 or len(spaced.findall(text)) >= 3


@lru_cache(maxsize=1)
def _telltales() -> tuple[re.Pattern, re.Pattern]:
    """The labels of label_aliases.yaml webtext.telltale_rows (their cores, as _spec finds them):
    run together with ≥6 digits, they give this form away; a tab- or space-separated table never
    prints six digits straight after a row label for these all-zero-prone rows. The second pattern:
    the same rows printed with single spaces between some or all cells, the next label following on
    the same line (`…申请数量0 0 0 0 0 00二、上年结转…`, `…申请数量 0 0 0 0 0 0 0 二、…`): a page whose
    table rows run into each other. A line-based text table ends the digits with a line break, a
    pipe or tab table puts its separators after the label, so neither matches."""
    cat = load_catalog()
    keys = load_aliases().webtext.telltale_rows
    cores: list[str] = []
    for template in sorted({c.template for c in cat.cells}):
        cells = cat.template_cells(template, variants=True)
        for key in keys:
            row_cells = [c for c in cells if c.section == 3 and c.row_key == key]
            if row_cells and (core := _spec(3, key, row_cells).core) not in cores:
                cores.append(core)
    labels = "(" + "|".join(re.escape(c) for c in cores) + ")"
    return (re.compile(labels + r"[ \u3000]?\d{6,}"),
            re.compile(labels + r"[ \u3000]?\d(?: ?\d){5,} ?(?=[^\d\s|])"))


# ---------------------------------------------------------------- the rows to look for

@dataclass
class RowSpec:
    section: int
    row_key: str
    pattern: re.Pattern  # the label's core, as printed
    number: str | None  # the label's own numbering (`2` of `2.其他法律…`), cut off the previous digits
    cols: list[tuple[str, str]]  # (col_key, value_type)
    core: str = ""  # the label's core searched for (label_aliases.yaml run_together, else the catalog's)
    label: str = ""  # the catalog's printed label, for the similarity match


_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、)?(?:[（(][一二三四五六七八九十]+[）)])?\s*(?:(\d+)[.．、])?\s*")


def _row_specs(template: str) -> tuple[list[RowSpec], list[RowSpec], list[str]]:
    """(section 2 rows, section 3 rows, section-4 columns) of a template, in printed order."""
    cat = load_catalog()
    structure = load_structure()
    cells = cat.template_cells(template, variants=True)
    s2, s3 = [], []
    for section, store in ((2, s2), (3, s3)):
        # the variant row is left out: the sub-rows are looked for (see _choose_other_rows)
        for row_key in structure.rows(template, section):
            row_cells = [c for c in cells if c.section == section and c.row_key == row_key]
            store.append(_spec(section, row_key, row_cells))
    s4_cols = [(r, c) for r in structure.rows(template, 4, group="proceedings")
               for c in structure.columns(template, 4, group="review_columns")]
    return s2, s3, s4_cols


def _spec(section: int, row_key: str, row_cells) -> RowSpec:
    """How to find one row in run-together text: its label core (label_aliases.yaml `run_together`,
    else the catalog label's last part without numbering) as a folded, flexible pattern."""
    label = row_cells[0].row_label
    last = label.split(" ")[-1]
    m = _NUMBERING.match(last)
    number = m.group(1) if section == 3 and m and m.group(1) else None
    core = load_aliases().run_together.get(section, {}).get(row_key) or (last[m.end():] if m else last)
    return RowSpec(section, row_key, re.compile(flex_pattern(core)), number,
                   [(c.col_key, c.value_type) for c in row_cells], core, label)


def detect_template(text: str) -> str | None:
    """The template whose page-text markers (label_aliases.yaml template_markers `text`) the page
    prints; the newer format's first (a newer report may keep an older table, never the reverse)."""
    markers = load_aliases().text_markers
    for template in sorted(markers, reverse=True):
        if any(word in text for word in markers[template]):
            return template
    return None


# ---------------------------------------------------------------- splitting one digit run

_PIECE = {
    "count": re.compile(r"(?:0|[1-9]\d*)"),
    "signed_count": re.compile(r"(?:0|[-+]?[1-9]\d*)"),  # `+1` as printed for an increase
    "amount_10k_yuan": re.compile(r"(?:0|[1-9]\d*)(?:\.\d+)?(?:万元|元)?"),
}


@dataclass
class Run:
    """The digits printed for one row: the characters, and where the page had a real boundary."""

    text: str  # without spaces
    breaks: frozenset[int]  # indexes in `text` where a space stood (a cell must start there)
    printed: str  # as found, for warnings

    @classmethod
    def parse(cls, printed: str) -> "Run":
        parts = printed.split()
        text, breaks, pos = "", set(), 0
        for p in parts:
            if text:
                breaks.add(len(text))
            text += p
        return cls(text, frozenset(breaks), printed.strip())


def splits(run: Run, types: list[str], check=None, limit: int = _MAX_SPLITS,
           empty: bool = False) -> list[tuple[str, ...]] | None:
    """Every split of `run` into len(types) printed numbers; None when there are more than `limit`
    (or the search would take too long).

    `check(k, pieces)` is called after piece k is placed and may reject the partial split. A piece
    never spans a break; only an amount may end in 元. With `empty`, a cell may also have been
    printed empty (piece ""): the page's `2 | | 15` reads `215` too.
    """
    s, n = run.text, len(types)
    out: list[tuple[str, ...]] = []
    # a sign (`-18`, `+1`) always starts a cell
    starts_forced = set(run.breaks) | {i for i, ch in enumerate(s) if ch in "-+" and i > 0}
    steps = [0]

    def rec(pos: int, k: int, pieces: list[str]) -> bool:
        steps[0] += 1
        if steps[0] > _MAX_STEPS:
            return False
        if k == n:
            if pos == len(s):
                out.append(tuple(pieces))
                if len(out) > limit:
                    return False
            return True
        pat = _PIECE[types[k]]
        if empty:
            pieces.append("")
            ok = check is None or check(k, pieces)
            if ok and not rec(pos, k + 1, pieces):
                return False
            pieces.pop()
        for end in range(pos + 1, len(s) + 1):
            if any(pos < b < end for b in starts_forced if b < end):
                break
            piece = s[pos:end]
            if not pat.fullmatch(piece):
                continue
            if piece.endswith("元") and end != len(s):
                continue
            pieces.append(piece)
            ok = check is None or check(k, pieces)
            if ok and not rec(end, k + 1, pieces):
                return False
            pieces.pop()
        return True

    if not rec(0, 0, []):
        return None
    return out


class _TooMany(Exception):
    pass


def total_splits(run: Run, parts: int, groups: int = 1, limit: int = _MAX_SPLITS,
                 empty: bool = False) -> list[tuple[str, ...]] | None:
    """Splits of a run of counts into `groups` rows of `parts` numbers and their 总计, where each
    row's total is the sum of its parts (S3.row_total: 6 parts; S4.row_total: 4 parts × 3 rows).
    With `empty`, a part may have been printed empty (piece "", counted 0); the 总计 is printed.

    Searching by the total first keeps this small for any size of number: no part can exceed the
    row's total, so a part is never longer than the total. None when there are more than `limit`.
    """
    from functools import lru_cache

    s, breaks, n = run.text, run.breaks, len(run.text)
    if not s.isdigit():
        return []

    next_break = [min([b for b in breaks if b > i], default=n) for i in range(n + 1)]

    def piece_ok(i: int, j: int) -> bool:
        return (j == i + 1 or s[i] != "0") and j <= next_break[i]

    @lru_cache(maxsize=None)
    def summing(i: int, j: int, k: int, target: int) -> tuple[tuple[str, ...], ...]:
        """s[i:j] as k counts adding up to target."""
        if k == 0:
            return ((),) if i == j and target == 0 else ()
        # k parts, none above the target, cannot cover more than k times the target's digits;
        # and their longest has at most (j-i)-(k-1) digits, so together they stay below
        # k * 10**((j-i)-k+1): a larger target is out of reach
        width = len(str(target))
        if j - i > k * width:
            return ()
        if not empty and (j - i < k or target >= k * 10 ** ((j - i) - k + 1)):
            return ()
        if empty and target >= k * 10 ** (j - i):
            return ()
        out = []
        if empty:
            for rest in summing(i, j, k - 1, target):
                out.append(("", *rest))
        for e in range(i + 1, j - (0 if empty else k - 1) + 1):
            if not piece_ok(i, e):
                break  # a leading zero or a break inside: longer pieces are no better
            v = int(s[i:e])
            if v > target:
                break
            for rest in summing(e, j, k - 1, target - v):
                out.append((s[i:e], *rest))
        return tuple(out)

    @lru_cache(maxsize=None)
    def rows_from(i: int, g: int) -> tuple[tuple[str, ...], ...]:
        if g == groups:
            return ((),) if i == n else ()
        out = []
        for t in range(i + (0 if empty else parts), n):  # the row's 总计 starts at t
            for e in range(t + 1, n + 1):  # ... and ends at e
                if not piece_ok(t, e):
                    break
                tails = rows_from(e, g + 1)  # the later rows must fit what is left
                if not tails:
                    continue
                head = summing(i, t, parts, int(s[t:e]))
                for rest in tails:
                    for h in head:
                        out.append((*h, s[t:e], *rest))
                        if len(out) > limit:
                            raise _TooMany
        return tuple(out)

    try:
        return list(rows_from(0, 0))
    except (_TooMany, RecursionError):
        return None


def _num(piece: str, value_type: str):
    from gknb.extractors.values import parse_value

    status, value = parse_value(piece, value_type)
    return value if status == "value" else None


# ---------------------------------------------------------------- finding the rows in the text

_PAREN = re.compile(r"[（(][^（()）]{0,60}[）)]")
_RUN = re.compile(r"[-+]?\d[\d\s.\-+]*(?:万元|元)?")
_FIRST_RUN = re.compile(r"[ \u3000]*([-+]?\d[\d \u3000.\-+]*(?:万元|元)?)")
_HEADING = re.compile(r"[ \u3000]*(?:[（(][一二三四五六七八九十]{1,3}[）)]|[一二三四五六七八九十]{1,3}、)")
_UNIT_BETWEEN = re.compile(r"(\d)[ \u3000]*[笔件个项][ \u3000]*(?=\d)")
# A number followed by one of these is prose (规章3件), not a table cell.
_UNIT_AFTER = re.compile(r"[件个项条次人家份%％篇期批]")


# A number glued to the prose after a table (`…继续办理20000022025年，我局…`) ends with these.
_PROSE_NUMBER = re.compile(r"[年月日件个项条次人家份%％篇期批余多]")
_YEAR = re.compile(r"(?:19|20)\d\d")
# the numbering of a label that follows the digits (`…00000002.其他法律…`)
_TRAILING_NUMBER = re.compile(r"\d[.．、]\s*$")


def _value_text(chunk: str, next_number: str | None) -> tuple[list[str] | None, str]:
    """The printed digits of one row from the text between its label and the next one.

    Returns (the readings of the digits, or None; note). Usually one reading; where a table runs
    straight into the prose, the prose's own leading number (`2025年`) may be glued to the last
    row's digits, and each way of cutting it off is a reading for the identities to settle.
    Bracketed words (`（区分处理的…）`, `（四）`) and the next label's own numbering (`2.`) are not
    values; prose never becomes a cell.
    """
    first = _FIRST_RUN.match(chunk)
    if first and _HEADING.match(chunk[first.end():]):
        # the last row of a table, its digits printed right after the label and then the next
        # part of the report (`行政事业性收费5949.09(二)主动公开政府信息的主要类别2023年…`): the
        # digits of the prose that follows are not this row's
        chunk = first.group(1)
    s = _PAREN.sub(" ", chunk)
    # a count printed with its unit before the next cell (`政府集中采购 2笔 984361元`): the unit is a
    # cell boundary, not prose
    s = _UNIT_BETWEEN.sub(r"\1 ", s)
    if next_number is not None:
        s = re.sub(rf"{next_number}\s*[.．、]\s*$", "", s.rstrip())
    found = [m for m in _RUN.finditer(s) if m.group().strip(" \u3000.-\n")]
    if not found:
        return None, "nothing printed"
    run = found[0].group()
    after = s[found[0].end():].lstrip()
    prose_after = bool(after) and not _is_cell_word(after) and not after[0].isdigit()
    if len(found) > 1 and not prose_after:
        return None, f"digits interrupted by text: {[m.group().strip() for m in found]!r}"
    if prose_after and _TRAILING_NUMBER.search(run) and re.match(r"[\u4e00-\u9fff]", after):
        # `00000002.其他法律和…`: the 2. numbers the (unrecognised) label that follows
        run = _TRAILING_NUMBER.sub("", run)
    run = run.rstrip().rstrip(".").rstrip()
    if not run.strip(" \u3000.-"):
        return None, "nothing printed"
    digits = " ".join(run.split())
    if not (prose_after and _PROSE_NUMBER.match(after)):
        return [digits], ""
    # the prose starts with a number glued to the digits: the row keeps a prefix, the prose the rest
    year = after[0] == "年"
    readings = []
    for cut in range(1, len(digits)):
        head, tail = digits[:cut].rstrip(), digits[cut:]
        if " " in tail or not head or (tail[0] == "0" and tail != "0") or not tail.isdigit():
            continue
        if year and not _YEAR.fullmatch(tail):
            continue
        readings.append(head)
    if not readings:
        return None, f"'{digits}{after[:1]}' reads as prose, not a table row"
    return readings, f"digits run into the prose ('{digits}{after[:4]}…')"


def _is_cell_word(text: str) -> bool:
    """A nil word printed in a cell (`无`, `/`, `—`) where a number could stand."""
    from gknb.extractors.values import is_nil_word

    token = re.match(r"[^\d\s]+", text)
    return bool(token) and is_nil_word(token.group())


@dataclass
class FoundRow:
    spec: RowSpec
    line: int
    run: Run | None
    note: str = ""
    header_unit: str | None = None  # the unit the header just above declares (`采购总金额（元）`)
    # further readings of the digits (a table running into the prose); `run` is the first
    runs: list[Run] = field(default_factory=list)
    similar: tuple[str, float] | None = None  # the label was found by similarity: (printed, ratio)
    header: str = ""  # the text between the previous row and this row's label


@dataclass
class _At:
    """Where a label found by similarity stands (the shape of a re.Match that _find_rows uses)."""

    s: int
    e: int

    def start(self) -> int:
        return self.s

    def end(self) -> int:
        return self.e



def _find_rows(text: str, specs: list[RowSpec], start: int, end: int) -> tuple[list[FoundRow], int]:
    """Find each row label in order within text[start:end]; return the rows and where the last ended.

    The table's order places the rows: a label found only after the label of a row printed below
    it (a row the report leaves out, its label met again in the prose) is not that row. A label
    no pattern finds may still be read by similarity between its neighbours (`_by_similarity`)."""
    located: list[list] = []  # [spec, match or None, similar or None]
    pos = start
    for i, spec in enumerate(specs):
        m = spec.pattern.search(text, pos, end)
        if m is not None and _out_of_order(text, specs, i, pos, m.start()):
            m = None
        located.append([spec, m, None])
        if m:
            pos = m.end()
    _by_similarity(text, located, start, end)
    found = []
    hits = [(s, m) for s, m, _ in located if m]
    for i, (spec, m, similar) in enumerate(located):
        if m is None:
            found.append(FoundRow(spec, 0, None, "label not found"))
            continue
        later = next(((s2, m2) for s2, m2, _ in located[i + 1:] if m2), None)
        chunk_end = later[1].start() if later else end
        next_number = later[0].number if later else None
        readings, note = _value_text(text[m.end():chunk_end], next_number)
        line = text.count("\n", 0, m.start()) + 1
        before = next((m0 for s0, m0, _ in reversed(located[:i]) if m0), None)
        header = text[before.end() if before else start:m.start()]
        runs = [Run.parse(r) for r in readings] if readings else []
        found.append(FoundRow(spec, line, runs[0] if runs else None, note,
                              header_unit=header_unit(header), runs=runs,
                              similar=similar, header=header))
    last_end = hits[-1][1].end() if hits else start
    return found, last_end


# a label this short (总计, 其他) may occur in any header: it does not tell the table's order
_ORDER_MIN_CORE = 4
_ORDER_LOOKAHEAD = 3


def _out_of_order(text: str, specs: list[RowSpec], i: int, pos: int, at: int) -> bool:
    """True when the label of one of the next rows stands before `at`, where row i's label was
    found: row i is then not printed there (the table left it out)."""
    for spec in specs[i + 1:i + 1 + _ORDER_LOOKAHEAD]:
        if len(fold_label(spec.core)) >= _ORDER_MIN_CORE and spec.pattern.search(text, pos, at):
            return True
    return False


# a stretch of label text between digit runs (numbering and brackets are not part of it)
_LABEL_TEXT = re.compile(r"[^\d\s.．、+\-（）()]{2,40}")


def _by_similarity(text: str, located: list[list], start: int, end: int) -> None:
    """Rows whose label no pattern found: a stretch of label text between the found neighbours
    that is close to exactly one of the table's rows, and that row is one of the rows missing
    there (position confirms, it never names the row)."""
    specs = [spec for spec, _, _ in located]
    labels = {spec.row_key: spec.label for spec in specs}
    i = 0
    while i < len(located):
        if located[i][1] is not None:
            i += 1
            continue
        j = i
        while j < len(located) and located[j][1] is None:
            j += 1
        gap = [spec.row_key for spec, _, _ in located[i:j]]
        lo = located[i - 1][1].end() if i > 0 else None
        hi = located[j][1].start() if j < len(located) else None
        if lo is not None and hi is not None:  # only between two rows found by their labels
            nxt = i
            for m in _LABEL_TEXT.finditer(text, lo, hi):
                hit = similar_row(m.group(), labels)
                if hit is None or hit[0] not in gap[nxt - i:]:
                    continue
                k = gap.index(hit[0]) + i
                if k < nxt:
                    continue
                located[k][1] = _At(m.start(), m.end())
                located[k][2] = (m.group(), hit[1])
                nxt = k + 1
        i = j


# ---------------------------------------------------------------- identities across rows

def _vec(pieces: tuple[str, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) if p else 0 for p in pieces)  # a cell printed empty counts 0
    except ValueError:
        return None


def _prune_section3(cands: dict[str, list[tuple[str, ...]]], template: str,
                    warnings: list[str]) -> tuple[dict, dict[str, set[str]]]:
    """S3.balance and S3.outcomes across rows, column by column, to a fixpoint. Returns the
    readings left and, per row, the identities that removed some of its readings."""
    structure = load_structure()
    variant = structure.variant(template)
    # the printed variant row replaces its sub-rows, never both
    outcome = structure.outcome_rows(template, variant_printed=variant is not None and variant.row in cands)
    balance_keys = _balance_rows(structure, template)
    (total_row,) = structure.identity("S3.outcomes").lhs
    vec = {r: [(_vec(c), c) for c in cs] for r, cs in cands.items()}
    vec = {r: [(v, c) for v, c in vs if v is not None] for r, vs in vec.items()}
    start = {r: list(vs) for r, vs in vec.items()}
    used: dict[str, set[str]] = {}

    def balance() -> bool:
        keys = balance_keys
        if keys is None or not all(vec.get(k) for k in keys):
            return False
        n_, c_, t_, f_ = (vec[k] for k in keys)
        if len(n_) * len(c_) > _MAX_STATES or len(t_) * len(f_) > _MAX_STATES:
            return False
        # new + carried_over on one side, processed + carried_forward on the other: meet in the middle
        left: dict[tuple, list[tuple[int, int]]] = {}
        for (i, (a, _)), (j, (b, _)) in product(enumerate(n_), enumerate(c_)):
            left.setdefault(tuple(x + y for x, y in zip(a, b)), []).append((i, j))
        keep = {k: set() for k in keys}
        for (i, (a, _)), (j, (b, _)) in product(enumerate(t_), enumerate(f_)):
            for ni, ci in left.get(tuple(x + y for x, y in zip(a, b)), ()):
                keep[keys[0]].add(ni)
                keep[keys[1]].add(ci)
                keep[keys[2]].add(i)
                keep[keys[3]].add(j)
        changed = False
        for k in keys:
            new = [vec[k][i] for i in sorted(keep[k])]
            if len(new) != len(vec[k]):
                changed = True
                used.setdefault(k, set()).add("S3.balance")
            vec[k] = new
        return changed

    def outcomes() -> bool:
        if not all(vec.get(r) for r in outcome) or not vec.get(total_row):
            return False
        width = len(vec[total_row][0][0])
        fwd = [{(0,) * width}]
        for r in outcome:
            nxt = {tuple(a + b for a, b in zip(s, v)) for s in fwd[-1] for v, _ in vec[r]}
            if len(nxt) > _MAX_STATES:
                warnings.append("webtext: too many combinations to check S3.outcomes")
                return False
            fwd.append(nxt)
        bwd = [{(0,) * width}]
        for r in reversed(outcome):
            nxt = {tuple(a + b for a, b in zip(s, v)) for s in bwd[-1] for v, _ in vec[r]}
            if len(nxt) > _MAX_STATES:
                return False
            bwd.append(nxt)
        bwd.reverse()  # bwd[i] = sums of outcome rows i..end
        totals = [(v, c) for v, c in vec[total_row] if v in fwd[-1]]
        changed = len(totals) != len(vec[total_row])
        if changed:
            used.setdefault(total_row, set()).add("S3.outcomes")
        vec[total_row] = totals
        tset = {v for v, _ in totals}
        for i, r in enumerate(outcome):
            keep = []
            for v, c in vec[r]:
                ok = any(tuple(t - a - b for t, a, b in zip(T, A, v)) in bwd[i + 1]
                         for T in tset for A in fwd[i])
                if ok:
                    keep.append((v, c))
            if len(keep) != len(vec[r]):
                changed = True
                used.setdefault(r, set()).add("S3.outcomes")
            vec[r] = keep
        return changed

    def settle(rules) -> bool:
        """Apply the rules to a fixpoint; False (and the sets restored) when a row is emptied."""
        nonlocal vec
        vec = {r: list(vs) for r, vs in start.items()}
        used.clear()
        for _ in range(20):
            if not any([rule() for rule in rules]):
                break
        return not any(start[r] and not vec[r] for r in vec)

    if not settle((balance, outcomes)):
        # the printed table breaks one of its identities: use the one it keeps, if any
        for rule, broken in ((balance, "S3.outcomes"), (outcomes, "S3.balance")):
            if settle((rule,)):
                warnings.append(f"webtext: the request table admits no split satisfying {broken}; "
                                f"it was not used")
                break
        else:
            warnings.append("webtext: the request table admits no split satisfying S3.balance or S3.outcomes; "
                            "only the row totals were used")
            return cands, {}
    return {r: [c for _, c in vs] for r, vs in vec.items()}, used


def _balance_rows(structure, template: str) -> tuple[str, str, str, str] | None:
    """S3.balance's rows as (lhs1, lhs2, rhs1, rhs2): the meet-in-the-middle below pairs them."""
    eq = next(e for e in structure.identity_equations(template) if e.identity == "S3.balance")
    if len(eq.lhs) != 2 or len(eq.rhs) != 2:
        return None
    return tuple(k[1] for k in eq.lhs + eq.rhs)


# ---------------------------------------------------------------- the whole page

def read(data: bytes, source: str) -> Document:
    """The page as paragraphs (for the metadata): one per line, the crawler's header lines included."""
    from gknb.extractors.encoding import decode_text

    text = decode_text(data, source=source)
    doc = Document(source=source, format="webtext")
    title = load_aliases().webtext.page_header.title
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            doc.blocks.append(Paragraph(text=line.strip(), page=i))
        if line.startswith(title + ":") or line.startswith(title + "："):
            doc.title = line.split(":", 1)[-1].split("：", 1)[-1].strip() or None
    doc.pages = 1
    return doc


def extract(data: bytes, source: str) -> Extraction:
    from gknb.extractors.encoding import decode_text

    text = decode_text(data, source=source)
    body_at = text.find(load_aliases().webtext.page_header.body)
    body_at = body_at if body_at >= 0 else 0
    template = detect_template(text[body_at:])
    if template is None:
        raise NotAnnualReport(f"{source}: web text without the tables of an annual report")
    document = read(data, source)
    meta = _meta(document, text, template)
    cells, warnings = solve(text, template, body_at)
    meta.warnings.extend(document.notes + warnings)
    return Extraction(meta=meta, cells=cells)


def solve(text: str, template: str, start: int = 0) -> tuple[list[Cell], list[str]]:
    """The cells of the template found in run-together page text, and the reasons for gaps."""
    s2_specs, s3_specs, s4_cols = _row_specs(template)
    structure = load_structure()
    warnings: list[str] = []
    starts = load_aliases().webtext.section_starts
    s2_at = _first(text, starts[2], start)
    s3_at = _first(text, starts[3], s2_at)
    s2_rows, _ = _find_rows(text, s2_specs, s2_at, s3_at)
    s3_specs = _choose_other_rows(text, s3_specs, template, s3_at)
    s4_at = _first(text, starts[4], _after_label(text, s3_specs, s3_at))
    s3_rows, _ = _find_rows(text, s3_specs, s3_at, s4_at)
    s5_at = _first(text, starts[5], s4_at, default=len(text))

    found: dict[tuple[int, str], FoundRow] = {(r.spec.section, r.spec.row_key): r for r in s2_rows + s3_rows}
    # row -> {col_key: the piece every reading agrees on, or None}
    chosen: dict[tuple[int, str], dict[str, str | None]] = {}
    notes: dict[tuple[int, str], str] = {}
    for r in s2_rows + s3_rows:
        if r.similar is not None:
            warnings.append(f"webtext: {r.spec.row_key}: row label by similarity: '{r.similar[0]}' read as "
                            f"'{r.spec.label}' ({r.similar[1]:.2f})")

    # A cell printed empty leaves no trace in the text (`2 | | 15` reads `215`), so every split
    # with an empty cell is a reading too, unless the table shows that it writes 0 for nothing:
    # a row printed as a full row of zeros (`规章000`, `属于国家秘密0000000`). Section 4 is judged
    # by the request table above it (its one run of 15 cells shows no rows).
    empty2 = not _zero_filled(s2_rows)
    empty3 = not _zero_filled(s3_rows)

    # section 2: no identities; a value only where the split is unique, in the columns as printed
    printed_in: dict[str, str] = {}  # sub-table -> the template its header is printed in
    for r in s2_rows:
        key = (2, r.spec.row_key)
        item = _item(template, r.spec.row_key)
        named = _named_columns(r.header)
        if named:
            printed_in[item] = _printed_template(named, template, r.spec.row_key)
        cols = r.spec.cols
        form = printed_in.get(item, template)
        if form != template:
            cat = load_catalog()
            cols = [(c, cat.get(form, 2, r.spec.row_key, c).value_type)
                    for c in structure.columns(form, 2, _item(form, r.spec.row_key))]
            kept = [c for c, _ in cols if c in dict(r.spec.cols)]
            warnings.append(f"template: section 2/{item} is printed in the {form} form in a {template} report; "
                            f"{r.spec.row_key} read as printed"
                            + (f", only {', '.join(kept)} is a {template} column" if kept
                               else f", none of its columns is a {template} column"))
        if r.run is None:
            warnings.append(f"webtext: {r.spec.row_key}: {r.note}; cells missing")
            continue
        sp = _union(splits(run, [t for _, t in cols], empty=empty2) for run in r.runs)
        agreed = _agreed(sp, r, warnings, len(cols))
        chosen[key] = {c: (agreed[i] if agreed else None) for i, (c, _) in enumerate(cols)}
        notes[key] = _note(r, sp, [])

    # section 3: row totals, then S3.balance / S3.outcomes across rows
    cands: dict[str, list[tuple[str, ...]]] = {}
    readings: dict[str, int] = {}
    parts3 = len(structure.columns(template, 3, group="applicants"))
    for r in s3_rows:
        if r.run is None:
            warnings.append(f"webtext: {r.spec.row_key}: {r.note}; cells missing")
            continue
        types = [t for _, t in r.spec.cols]
        raw_sp = _union(splits(run, types, limit=1, empty=empty3) for run in r.runs)
        if raw_sp is not None and len(raw_sp) == 1:
            sp = raw_sp  # one reading only: taken as printed
        else:  # several readings: keep those whose 总计 is the sum of the row
            sp = _union(total_splits(run, parts3, empty=empty3) for run in r.runs)
            if sp is None:
                warnings.append(f"webtext: {r.spec.row_key}: '{r.run.printed}' has too many splits; cells missing")
                continue
        readings[r.spec.row_key] = 1 if raw_sp is not None and len(raw_sp) == 1 else 2
        if sp:
            cands[r.spec.row_key] = sp
        else:
            warnings.append(f"webtext: {r.spec.row_key}: no split of '{r.run.printed}' adds up to its 总计; cells missing")
    cands, used = _prune_section3(cands, template, warnings)
    for r in s3_rows:
        k = r.spec.row_key
        if k in cands:
            agreed = _agreed(cands[k], r, warnings, len(r.spec.cols))
            chosen[(3, k)] = {c: (agreed[i] if agreed else None) for i, (c, _) in enumerate(r.spec.cols)}
            ids = ["S3.row_total", *sorted(used.get(k, ()))] if readings.get(k, 1) > 1 else sorted(used.get(k, ()))
            notes[(3, k)] = _note(r, cands[k], ids)

    # section 4: one run of 3×5 numbers, each row's 总计 the sum of its four results
    s4_readings, s4_note = _value_text(text[_after_s4_heading(text, s4_at, s5_at):s5_at], None)
    s4_pieces: tuple | None = None
    s4_printed = None
    s4_line = text.count("\n", 0, s4_at) + 1
    if s4_readings is None:
        warnings.append(f"webtext: section 4: {s4_note}; cells missing")
    else:
        runs4 = [Run.parse(x) for x in s4_readings]
        s4_printed = runs4[0].printed
        types4 = ["count"] * len(s4_cols)
        raw4 = _union(splits(run, types4, limit=1, empty=empty3) for run in runs4)
        if raw4 is not None and len(raw4) == 1:
            sp4, ids4 = raw4, []
        else:
            sp4 = _union(total_splits(run, len(structure.columns(template, 4, group="review_results")),
                                      groups=len(structure.rows(template, 4, group="proceedings")),
                                      empty=empty3)
                         for run in runs4)
            ids4 = ["S4.row_total"]
        fake = FoundRow(RowSpec(4, "review_litigation", re.compile(""), None, []), 0, runs4[0], runs=runs4)
        if sp4 is None:
            warnings.append(f"webtext: section 4: '{s4_printed}' has too many splits; cells missing")
        elif not sp4:
            warnings.append(f"webtext: section 4: no split of '{s4_printed}' satisfies S4.row_total; cells missing")
        else:
            s4_pieces = _agreed(sp4, fake, warnings, len(s4_cols))
            s4_noteval = _note(fake, sp4, ids4)

    cat = load_catalog()
    out: list[Cell] = []
    variant = load_structure().variant(template)
    printed_other = variant is not None and any(s.row_key == variant.row for s in s3_specs)
    for c in cat.template_cells(template, variants=True):
        if c.role == "variant" and not printed_other:
            continue
        if printed_other and c.section == variant.section and c.row_key in variant.replaces:
            out.append(Cell(c.section, c.row_key, c.col_key, "missing", raw=None))
            continue
        piece, line, note, printed = None, None, "", None
        if c.section == 4:
            printed, line = s4_printed, (s4_line if s4_printed else None)
            if s4_pieces is not None:
                idx = s4_cols.index((c.row_key, c.col_key))
                piece, note = s4_pieces[idx], s4_noteval
        else:
            key = (c.section, c.row_key)
            row = found.get(key)
            if row is not None and row.run is not None:
                printed, line = row.run.printed, row.line
            if key in chosen:
                piece, note = chosen[key].get(c.col_key), notes[key]
        as_read = piece
        unit = None
        if piece is not None and c.value_type == "amount_10k_yuan" and c.section == 2:
            unit = found[(c.section, c.row_key)].header_unit
        if unit and not piece.endswith(unit):
            # the header prints the unit: the bare number is in 元, converted to 万元 like `…元`
            as_read, note = piece + unit, note + f" (the header gives {unit})"
        value = _num(as_read, c.value_type) if piece is not None else None
        if value is None:
            # printed digits that no single reading settles stay in raw (an `unsettled` cell)
            raw = f"unsettled: '{printed}'" if printed else None
            out.append(Cell(c.section, c.row_key, c.col_key, "missing", raw=raw, page=line))
        else:
            out.append(Cell(c.section, c.row_key, c.col_key, "value", value=value,
                            raw=piece + note, page=line))
    return out, warnings


def _zero_filled(rows: list[FoundRow]) -> bool:
    """Some row of the table is printed as zeros in every one of its cells (`0000000`)."""
    return any(r.run is not None and len(r.runs) == 1 and set(r.run.text) == {"0"}
               and len(r.run.text) == len(r.spec.cols) for r in rows)


def _union(results) -> list[tuple[str, ...]] | None:
    """The readings of several digit strings together; None when any has too many."""
    out: dict[tuple[str, ...], None] = {}
    for sp in results:
        if sp is None:
            return None
        for x in sp:
            out.setdefault(x, None)
    return list(out)


def _item(template: str, row_key: str) -> str:
    return next(c.item for c in load_catalog().template_cells(template) if c.section == 2 and c.row_key == row_key)


def _named_columns(header: str) -> set[str]:
    """Section-2 column keys a header text names (`上一年项目数量本年增/减处理决定数量`)."""
    from gknb.extractors.labels import norm_label

    s = norm_label(header)
    if not s:
        return set()
    return {k for k, a in load_aliases().columns.get(2, {}).items() if a.matches(s)}


def _printed_template(named: set[str], template: str, row_key: str) -> str:
    """The template whose columns a section-2 header names: the other one when the header names
    columns this template's row does not have, and all of them are the other's."""
    structure = load_structure()
    this = set(structure.columns(template, 2, _item(template, row_key)))
    if named <= this:
        return template
    for other in sorted({c.template for c in load_catalog().cells} - {template}):
        if row_key in structure.rows(other, 2) and named <= set(structure.columns(other, 2, _item(other, row_key))):
            return other
    return template


def _first(text: str, patterns: tuple[str, ...], start: int, default: int | None = None) -> int:
    """Where the first of `patterns` (in order of preference) occurs after `start`."""
    for p in patterns:
        m = re.compile(p).search(text, start)
        if m:
            return m.start()
    return start if default is None else default


def _after_label(text: str, specs: list[RowSpec], start: int) -> int:
    """Where the last section-3 label (结转下年度继续办理) ends, to look for section 4 after it."""
    m = specs[-1].pattern.search(text, start)
    return m.end() if m else start


def _after_s4_heading(text: str, s4_at: int, s5_at: int) -> int:
    """Section 4's numbers follow its last column heading (总计)."""
    last = None
    for m in re.finditer(load_aliases().webtext.section4_header_end, text[s4_at:s5_at]):
        last = m
    return s4_at + last.end() if last else s4_at


def _choose_other_rows(text: str, specs: list[RowSpec], template: str, start: int) -> list[RowSpec]:
    """A 2021 report printing one （六）其他处理 row gets the variant row instead of the three."""
    variant = load_structure().variant(template)
    if variant is None or re.search(flex_pattern(load_aliases().webtext.variant_sub_rows), text[start:]):
        return specs
    cat = load_catalog()
    other = [c for c in cat.template_cells(template, variants=True)
             if c.section == variant.section and c.row_key == variant.row]
    spec = _spec(variant.section, variant.row, other)
    out = []
    for s in specs:
        if s.row_key in variant.replaces:
            if spec not in out:
                out.append(spec)  # in the sub-rows' place
            continue
        out.append(s)
    return out


def _agreed(sp: list[tuple[str, ...]] | None, row: FoundRow, warnings: list[str], n: int) -> tuple | None:
    """The pieces every split agrees on (None where they differ); None when there is no split."""
    printed = row.run.printed if row.run else ""
    if not sp:
        if sp is not None:
            warnings.append(f"webtext: {row.spec.row_key}: '{printed}' cannot be split into {n} numbers; cells missing")
        else:
            warnings.append(f"webtext: {row.spec.row_key}: '{printed}' has too many splits; cells missing")
        return None
    agreed = tuple(p[0] if len(set(p)) == 1 else None for p in zip(*sp))
    if any(a is None for a in agreed):
        undecided = sum(a is None for a in agreed)
        warnings.append(f"webtext: {row.spec.row_key}: '{printed}' splits {len(sp)} ways; "
                        f"{undecided} cell(s) missing")
    return agreed


def _note(row: FoundRow, settled: list | None, identities: list[str]) -> str:
    """What a cell's raw adds to its digits: which identities fixed the boundaries, that the
    row's label was read by similarity, that the digits ran into the prose."""
    parts = []
    if identities:
        parts.append(f"from '{row.run.printed}': every split consistent with the identities agrees; "
                     f"settled by {', '.join(identities)}")
    elif len(row.runs) > 1:
        parts.append(f"from '{row.note}': one reading fits")
    if row.similar is not None:
        parts.append(f"row label by similarity: '{row.similar[0]}' read as '{row.spec.label}' "
                     f"({row.similar[1]:.2f})")
    return "".join(f" ({p})" for p in parts)


def _meta(document: Document, text: str, template: str) -> ReportMeta:
    try:
        from gknb.extractors.meta import extract_meta

        meta = extract_meta(document, template)
    except ImportError:
        meta = ReportMeta()
    meta.template = template
    meta.format = "webtext"
    meta.pages = 1
    title = document.title or ""
    if meta.year is None:
        m = re.search(r"(20\d\d)\s*年", title)
        if m:
            meta.year = int(m.group(1))
    if meta.agency is None and title:
        m = re.match(r"(.+?)(?:20\d\d)\s*年", title)
        if m:
            from gknb.extractors.meta import _clean_agency

            meta.agency = _clean_agency(m.group(1).strip())
    if meta.published is None:
        m = re.search(re.escape(load_aliases().webtext.page_header.published) + r"[:：]\s*(20\d\d)-(\d\d)-(\d\d)", text)
        if m:
            meta.published = "-".join(m.groups())
    return meta
