"""The fuzzers' seed corpus (fuzz/corpus/), run in the suite: each valid-* pack is read, each
refused-* pack is refused with a SenMLError, and nothing else comes out of either."""

from __future__ import annotations

from pathlib import Path

import pytest

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml import parse_cbor, parse_json

CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus"
SEEDS = sorted(CORPUS.glob("senml_*/*"))
NOW = 1_790_000_000.0


def test_there_is_a_corpus_of_both_kinds() -> None:
    kinds = {(path.parent.name, path.name.split("-")[0]) for path in SEEDS}
    assert kinds == {(f"senml_{f}", k) for f in ("json", "cbor") for k in ("valid", "refused")}


@pytest.mark.parametrize("path", SEEDS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_each_seed_is_read_or_refused_as_its_name_says(path: Path) -> None:
    parse = parse_json if path.parent.name == "senml_json" else parse_cbor
    if path.name.startswith("valid-"):
        assert parse(path.read_bytes(), now=NOW)
    else:
        with pytest.raises(SenMLError):
            parse(path.read_bytes(), now=NOW)
