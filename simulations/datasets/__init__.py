"""Real customer data shipped with the course, so a chapter reads it with nothing but the course package installed.

`cdnow_purchases()`: the CDNOW purchase records (Fader & Hardie 2001), every purchase up to the end of June 1998 by
the 23,570 customers whose first purchase at CDNOW, an online music retailer, was in the first quarter of 1997.
The file is `CDNOW_master.txt` exactly as Fader and Hardie published it and as the `lifetimes` package ships it
(SHA-256 of the uncompressed file: CDNOW_SHA256), gzip-compressed.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).parent
CDNOW_FILE = DATA_DIR / "cdnow_master.txt.gz"
CDNOW_SHA256 = "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef"
CDNOW_COLUMNS = ("customer_id", "date", "number_of_cds", "dollar_value")


def cdnow_purchases() -> pd.DataFrame:
    """The CDNOW purchase records: one row per purchase (customer_id as text, date as a timestamp, CDs, dollars)."""
    with gzip.open(CDNOW_FILE, "rt", encoding="ascii") as stream:
        purchases = pd.read_csv(stream, sep=r"\s+", dtype={"customer_id": str, "date": str})
    purchases["date"] = pd.to_datetime(purchases["date"], format="%Y%m%d")
    return purchases


def cdnow_checksum() -> str:
    """SHA-256 of the uncompressed CDNOW file, to compare with CDNOW_SHA256 (the published file's)."""
    with gzip.open(CDNOW_FILE, "rb") as stream:
        return hashlib.sha256(stream.read()).hexdigest()
