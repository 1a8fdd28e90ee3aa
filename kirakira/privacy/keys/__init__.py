"""The key lifecycle's register: every master-key and blind-index rotation, when it ran, who
started it, which keys it moved off and how many values it moved (``services`` runs them)."""
