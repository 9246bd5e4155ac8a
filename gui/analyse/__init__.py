"""gui.analyse"""
