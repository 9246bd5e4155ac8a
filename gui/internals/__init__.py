"""gui.internals"""
