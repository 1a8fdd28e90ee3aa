"""Backups that respect disposal: an encrypted archive of the database without its data keys,
an encrypted archive of the wrapped data keys beside it, and a restore that re-applies every
disposal logged since the backup was taken (``services``, ``replay``)."""
