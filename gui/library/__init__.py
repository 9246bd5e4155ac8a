"""gui.library"""
