"""The identity domain: pure rules, no framework, database or broker imports.

Commands take the current state (a fold of events) and decide new events;
nothing here performs I/O or reads the clock.
"""
