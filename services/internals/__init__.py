"""services.internals.manual_path"""
