"""services.core"""
