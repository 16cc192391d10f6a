"""evalkit: evaluate how LLM agents use tools."""
__version__ = "0.1.0"
