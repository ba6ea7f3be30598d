"""Open311 GeoReport v2 with the FixMyStreet extensions, and the resident's report page
(docs/open311.md)."""
