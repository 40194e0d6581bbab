"""Evaluations of okrbot's matchers: development tools, outside the installed package."""
