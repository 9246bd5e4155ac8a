"""services.tokenizer"""
