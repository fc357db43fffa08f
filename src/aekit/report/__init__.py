"""Figures and reports: plots that take data (and an optional Axes) and return the Axes."""
