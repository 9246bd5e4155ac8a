"""gui.tokenizer"""
