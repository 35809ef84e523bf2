"""Local stand-ins for the chat platforms, so tests, benchmarks and the demo need no account."""
