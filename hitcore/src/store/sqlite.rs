//! The SQLite store (rusqlite + r2d2, WAL mode).
