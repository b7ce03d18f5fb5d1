"""The era evidence (sources/era.py): a run's sample counted in one call equals document by document."""

from __future__ import annotations

import random

from ravenmigrate.sources.era import Evidence

COUNTS = ("documents", "lower_guid_etags", "zoneless_last_modified", "etag_descents", "_last_etag")


def _etag(rng: random.Random):
    kind = rng.random()
    if kind < 0.05:
        return None
    if kind < 0.08:
        return 7  # not a string: counted as a document only
    guid = f"{rng.randrange(16 ** 8):08X}-0000-0001-0000-{rng.randrange(16 ** 12):012X}"
    if kind < 0.12:
        return guid.lower()  # a 1.x etag
    if kind < 0.14:
        return "etag-ß"  # lower-case, not a GUID (and longer when upper-cased)
    return guid


def _modified(rng: random.Random):
    return rng.choice([None, "2016-08-22T22:00:53.5872524Z", "2016-08-22T22:00:53.5872524", "12",
                       "2016-08-22T22:00:53+02:00", "٢٠١٦-08-22T22:00:53", "", "abcd-08", 5])


def test_sample_counts_as_document_by_document():
    rng = random.Random(3)
    for round_ in range(300):
        one, batch = Evidence(), Evidence()
        if rng.random() < 0.5:  # an earlier run left a last etag
            one.document("80000000-0000-0000-0000-000000000000", None)
            batch.document("80000000-0000-0000-0000-000000000000", None)
        for _ in range(rng.randrange(1, 4)):
            lower = rng.random() < 0.3
            etags = [_etag(rng) if lower else (lambda e: e.upper() if isinstance(e, str) else e)(_etag(rng))
                     for _ in range(rng.randrange(0, 40))]
            modified = [_modified(rng) for _ in etags]
            for etag, value in zip(etags, modified, strict=True):
                one.document(etag, value)
            batch.sample(etags, modified)
            assert [getattr(batch, c) for c in COUNTS] == [getattr(one, c) for c in COUNTS], round_
    assert one.etag_descents and one.zoneless_last_modified  # the cases were reached
