"""The matter's lifecycle as pure functions: ``decide(state, command) -> events``, ``evolve``.

No framework, driver or broker is imported here.
"""
