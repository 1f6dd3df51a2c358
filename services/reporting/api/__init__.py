"""HTTP entrypoints of the reporting service: decode parameters, call the reporter, encode answers."""
