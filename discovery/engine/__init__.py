"""The discovery engine: how candidates are chosen and ranked, as pure functions over arrays.

It reads vectors through embedding's selectors and tracks' catalogue, and never a station's or a slider's
models: the apps above it read their own rows and hand the engine arrays and plain dataclasses.
"""
