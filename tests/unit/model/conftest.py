from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def seed_xml() -> bytes:
    return (DATA / "seed_template.xml").read_bytes()


@pytest.fixture
def handwritten_xml() -> bytes:
    return (DATA / "handwritten.xml").read_bytes()
