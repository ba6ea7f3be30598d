"""gridgov: community grid governance (基层网格化治理)."""

__version__ = "0.1.0"
