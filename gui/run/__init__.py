"""gui.run"""
