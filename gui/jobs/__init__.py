"""gui.jobs.runner"""
