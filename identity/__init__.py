"""Authentication: bearer tokens and partner API keys turned into a principal."""
