// Real public CAD exports: see tests/fixtures/SOURCES.md.
