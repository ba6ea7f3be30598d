"""`gridgov import-cases`: a city's old cases become tasks of source `import` (docs/imports.md)."""
