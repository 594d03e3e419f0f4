"""Small shared basics every layer may use: errors, ids, settings, the principal, request facts."""
