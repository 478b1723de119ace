"""Neutral helpers every app may use (vector checks, content hashing, answers to bad requests).

Nothing here imports an app of this project, so every layer can depend on it (see the layers contract in
pyproject.toml).
"""
