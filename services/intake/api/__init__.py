"""The terminal API (v1): thin routes that decode, dispatch and map refusals to HTTP."""
