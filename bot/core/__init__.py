"""The detection core: pure functions and data, no platform, network, disk or database code.

Platforms translate their events into text and media for the core, and carry out the
`Verdict` it returns. A test (tests/test_architecture.py) fails if an I/O library appears here.
"""
