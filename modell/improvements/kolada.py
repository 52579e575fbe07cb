"""Indicator values from Kolada, the municipal key-figure database (API v3).

The importer reads the JSON that `/v3/data/kpi/{kpi}/municipality/{m}/year/{years}` returns,
whether saved to a file by a user or fetched here, into the same `ParsedFile` as a CSV file,
so one `import_values` writes both and the same row errors are shown.

The live client is off unless KOLADA_ENABLED is set: most installations have no business
calling out, and these machines cannot reach Kolada anyway. It uses the standard library
(no dependency for a handful of GET requests), a timeout on every request, a bounded number
of pages, and follows `next_url` only on Kolada's own host.

Kolada asks to be credited: show KOLADA_CREDIT ("Källa: Kolada") beside values whose source
is "kolada", and only beside values imported unchanged.
"""

import http.client
import json
import math
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from flask_babel import lazy_gettext as _l

from modell.core.errors import RuleViolation
from modell.improvements.importing import (
    ParsedFile,
    ParsedRow,
    is_count_unit,
    negative_count,
    parse_period,
)
from modell.organisations.models import Organisation

KOLADA_BASE_URL = "https://api.kolada.se/v3"
KOLADA_CREDIT = _l("Source: Kolada")
DEFAULT_TIMEOUT = 10  # seconds, for each connect and each read
MAX_PAGES = 50
MAX_RESPONSE_BYTES = 20 * 1024 * 1024  # one page; also the largest saved file read
USER_AGENT = "Modell (SKR Modellkommuner)"

# Kolada's gender letters: K kvinnor (or flickor), M män (or pojkar), T totalt.
GENDERS = {"K": "women", "M": "men", "T": "total"}
_KPI = re.compile(r"[A-Za-z0-9]{1,20}")
_MUNICIPALITY = re.compile(r"\d{4}")


class KoladaError(RuleViolation):
    """Kolada could not be asked, or answered something unusable; the message says which.
    A RuleViolation so that a page shows it above the form like any refused change."""


def kolada_id(organisation: Organisation) -> str | None:
    """The organisation's id in Kolada: the municipality code, or "00" + the county code for
    a region ("0001" for Region Stockholm); None for organisations Kolada does not follow."""
    code = (organisation.scb_code or "").strip()
    if organisation.kind == "region" and len(code) == 2:
        return "00" + code
    if organisation.kind == "municipality" and len(code) == 4:
        return code
    return None


def parse_kolada_response(
    data: object, *, municipality: str, kpi: str | None = None, unit: str | None = None
) -> ParsedFile:
    """Read a Kolada data response into rows for one municipality (or region).

    Entries for other municipalities, or other KPIs when `kpi` is given, are left out: a
    response for several is normal when comparing, and only one is imported. The "line" of a
    RowError is the entry's number in the response's `values` (counted from 1), its column
    the gender letter or "period".
    """
    parsed = ParsedFile(encoding="json", columns={"period": "period"})
    values = data.get("values") if isinstance(data, dict) else None
    if not isinstance(values, list):
        parsed.add_error(0, None, _l("This is not a Kolada data response (it has no values)."))
        return parsed
    wanted = [
        (number, entry)
        for number, entry in enumerate(values, 1)
        if isinstance(entry, dict)
        and str(entry.get("municipality")) == municipality
        and (kpi is None or entry.get("kpi") == kpi)
    ]
    kpis = sorted({str(entry.get("kpi")) for _, entry in wanted})
    if len(kpis) > 1:
        parsed.add_error(
            0,
            None,
            _l("The response holds several KPIs (%(kpis)s): say which one.", kpis=", ".join(kpis)),
        )
        return parsed
    if not wanted:
        parsed.add_error(
            0,
            None,
            _l("The response has no values for %(municipality)s.", municipality=municipality),
        )
        return parsed
    seen: dict[str, int] = {}
    for number, entry in wanted:
        if not _read_entry(parsed, number, entry, seen, unit=unit):
            break
    return parsed


def _read_entry(
    parsed: ParsedFile, number: int, entry: dict, seen: dict[str, int], *, unit: str | None
) -> bool:
    failed = False
    more = True

    def report(column: str | None, message) -> None:
        nonlocal failed, more
        failed = True
        more = parsed.add_error(number, column, message) and more

    period = None
    raw_period = entry.get("period")
    if raw_period is None or raw_period == "":
        report("period", _l("The period is missing."))
    elif isinstance(raw_period, bool) or not isinstance(raw_period, (int, str)):
        report("period", _l("“%(value)s” is not a period.", value=str(raw_period)[:40]))
    else:
        try:
            period = parse_period(str(raw_period))
        except ValueError as error:
            report("period", error.args[0])
    row: dict[str, float | None] = {}
    gender_values = entry.get("values")
    if not isinstance(gender_values, list):
        report(None, _l("The entry has no values."))
        gender_values = []
    for item in gender_values:
        gender = item.get("gender") if isinstance(item, dict) else None
        name = GENDERS.get(gender) if isinstance(gender, str) else None
        if name is None:
            report(None, _l("Unknown gender “%(gender)s”: Kolada uses K, M and T.", gender=gender))
            continue
        if name in row:
            report(gender, _l("The gender %(gender)s appears twice.", gender=gender))
            continue
        parsed.columns.setdefault(name, gender)
        value = item.get("value")
        if item.get("status") == "Missing" or value is None:
            row[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            report(gender, _l("“%(value)s” is not a number.", value=str(value)[:40]))
            continue
        if not math.isfinite(value):
            report(gender, _l("“%(value)s” is not a number.", value=str(value)))
            continue
        if is_count_unit(unit) and value < 0:
            report(gender, negative_count(unit))
            continue
        row[name] = float(value)
    if period is not None:
        if period in seen:
            report(
                "period",
                _l(
                    "The period %(period)s is also in entry %(line)d.",
                    period=period,
                    line=seen[period],
                ),
            )
        else:
            seen[period] = number
    if not failed and period is not None:
        if all(v is None for v in row.values()):
            parsed.skipped.append(number)
        else:
            parsed.rows.append(ParsedRow(number, period, **row))
    return more


# --- the live API -------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead anywhere; Kolada's data addresses do not redirect."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class KoladaClient:
    """Kolada's data endpoint over HTTP; `fetch` merges the pages of one question."""

    def __init__(
        self,
        base_url: str = KOLADA_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        max_pages: int = MAX_PAGES,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ):
        base = urlsplit(base_url.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.hostname:
            raise ValueError(f"Kolada's address must be http(s)://host/...: {base_url!r}")
        self.base = base
        self.timeout = timeout
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self._opener = urllib.request.build_opener(_NoRedirect)

    def data_url(self, kpi: str, municipality: str, years: Iterable[int | str]) -> str:
        if not _KPI.fullmatch(kpi or ""):
            raise KoladaError(_l("“%(kpi)s” is not a Kolada KPI id.", kpi=kpi), field="kpi")
        if not _MUNICIPALITY.fullmatch(municipality or ""):
            raise KoladaError(
                _l("“%(id)s” is not a Kolada municipality id.", id=municipality),
                field="municipality",
            )
        wanted = []
        for year in years:
            try:
                period = parse_period(str(year))
            except ValueError as error:
                raise KoladaError(_l("Give years from 2000 to 2100."), field="years") from error
            if len(period) != 4:
                raise KoladaError(_l("Give years from 2000 to 2100."), field="years")
            wanted.append(period)
        if not wanted:
            raise KoladaError(_l("Give years from 2000 to 2100."), field="years")
        path = (
            f"{self.base.path}/data/kpi/{quote(kpi)}/municipality/{quote(municipality)}"
            f"/year/{','.join(sorted(set(wanted)))}"
        )
        return urlunsplit((self.base.scheme, self.base.netloc, path, "", ""))

    def fetch(self, kpi: str, municipality: str, years: Iterable[int | str]) -> dict:
        """Every value Kolada has for the question, all pages merged into one response."""
        url: str | None = self.data_url(kpi, municipality, years)
        values: list = []
        fetched: set[str] = set()
        while url:
            if len(fetched) >= self.max_pages:
                raise KoladaError(
                    _l(
                        "Kolada's answer has more than %(n)d pages: ask for fewer years.",
                        n=self.max_pages,
                    )
                )
            fetched.add(url)
            page = self._get(url)
            page_values = page.get("values")
            if not isinstance(page_values, list):
                raise KoladaError(_l("Kolada's answer has no values."))
            values.extend(page_values)
            url = self._next(url, page.get("next_url"))
            if url in fetched:
                raise KoladaError(_l("Kolada's pages lead back to a page already read."))
        return {"count": len(values), "values": values}

    def _next(self, current: str, next_url: object) -> str | None:
        """The next page on Kolada's own host (a response is not trusted to send us elsewhere)."""
        if not next_url:
            return None
        if not isinstance(next_url, str):
            raise KoladaError(_l("Kolada's answer has an unusable next page."))
        target = urlsplit(urljoin(current, next_url))
        if target.hostname != self.base.hostname:
            raise KoladaError(_l("Kolada's next page is on another host; it was not fetched."))
        return urlunsplit((self.base.scheme, self.base.netloc, target.path, target.query, ""))

    def _get(self, url: str) -> dict:
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
        )
        try:
            # The scheme is http(s) (checked in __init__ and kept by _next).
            with self._opener.open(request, timeout=self.timeout) as response:  # nosec B310
                body = response.read(self.max_bytes + 1)
        except urllib.error.HTTPError as error:
            raise KoladaError(
                _l("Kolada answered with HTTP status %(status)d.", status=error.code)
            ) from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise self._timeout() from error
            raise KoladaError(
                _l("Kolada could not be reached: %(reason)s.", reason=str(error.reason))
            ) from error
        except TimeoutError as error:
            raise self._timeout() from error
        except (OSError, http.client.HTTPException) as error:
            raise KoladaError(
                _l(
                    "Kolada could not be reached: %(reason)s.",
                    reason=str(error) or type(error).__name__,
                )
            ) from error
        if len(body) > self.max_bytes:
            raise KoladaError(_l("Kolada's answer is larger than expected; it was not read."))
        try:
            data = json.loads(body)
        except ValueError as error:
            raise KoladaError(_l("Kolada's answer is not JSON.")) from error
        if not isinstance(data, dict):
            raise KoladaError(_l("Kolada's answer has no values."))
        return data

    def _timeout(self) -> KoladaError:
        return KoladaError(
            _l("Kolada did not answer within %(n)s seconds; try again later.", n=self.timeout)
        )


def _enabled(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def fetch_enabled(config: Mapping) -> KoladaClient:
    """The live client, or a clear refusal when KOLADA_ENABLED is not set: the one door to
    the network, so no page or command calls Kolada on an installation that did not ask to."""
    if not _enabled(config.get("KOLADA_ENABLED")):
        raise KoladaError(
            _l(
                "Fetching from Kolada is turned off (KOLADA_ENABLED): import a saved Kolada "
                "file instead, or ask the administrator to turn it on."
            )
        )
    return KoladaClient(
        config.get("KOLADA_BASE_URL") or KOLADA_BASE_URL,
        timeout=float(config.get("KOLADA_TIMEOUT") or DEFAULT_TIMEOUT),
    )
