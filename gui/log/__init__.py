"""gui.log"""
