"""KetaClinic's database backend for SQLite (ketaclinic.db.sqlite3)."""
