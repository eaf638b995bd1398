"""Coverage-guided fuzzing of the SenML codec with atheris (libFuzzer): `make fuzz`.

    python fuzz/fuzz_senml.py json|cbor [libFuzzer options] WORK_CORPUS SEED_CORPUS

libFuzzer writes what it finds to the first corpus directory, so the seeds kept in the
repository (fuzz/corpus/) go second and stay as they are.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["goodthings"]):
    from senml_target import PARSERS, check


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in PARSERS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(PARSERS)} [libFuzzer options] CORPUS...")
    parse = PARSERS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, lambda data: check(parse, data))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
