"""Listening: stations (`taste.stations`) and sliders (`taste.sliders`), two Django apps.

A station may be steered by sliders, so stations import sliders and never the other way round.
"""
