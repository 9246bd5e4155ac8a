"""gui.common"""
