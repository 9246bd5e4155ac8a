"""services.library.folder"""
