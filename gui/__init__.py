"""Widgets of Transformers Workbench. Imports services/, never the reverse."""
