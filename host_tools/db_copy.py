"""`e2mon db copy SRC DEST`: a host database's whole history (devices, key bindings, records, audit log)
into another, typically a clinician's SQLite file into the clinic's PostgreSQL, with nothing lost: the
rows of each table are counted and hashed on both sides after the copy, and any difference fails it.

The source is read in one transaction (a consistent snapshot, while pulls may go on); the destination is
written in one (all or nothing) and must hold no device yet, so nothing there is mixed or overwritten.
"""
import hashlib

import sqlalchemy as sa

from host_tools.schema import COPIED

CHUNK = 5000      # rows per INSERT batch and per fetch


class DestinationNotEmpty(Exception):
    pass


def _canonical(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b:" + bytes(value).hex()
    return repr(value)


def _rows(conn, table, order):
    # yield_per on the statement, not the connection (that would stay on it for every later statement)
    result = conn.execute(sa.select(table).order_by(*(table.c[c] for c in order)).execution_options(yield_per=CHUNK))
    for row in result:
        yield tuple(row)


def summary(conn):
    """{table: (rows, sha256 of its rows in key order)}: the same on both sides when nothing was lost."""
    found = {}
    for table, order in COPIED:
        digest, count = hashlib.sha256(), 0
        for row in _rows(conn, table, order):
            digest.update(("\x1f".join(_canonical(v) for v in row) + "\x1e").encode())
            count += 1
        found[table.name] = (count, digest.hexdigest())
    return found


def copy(source, dest):
    """Copies every row from HostDB `source` into HostDB `dest`; returns (source summary, dest summary)."""
    with source._read() as src, dest.transaction() as out:
        if dest.devices_in(out):
            raise DestinationNotEmpty("the destination %s already holds devices: copy into a new, empty database"
                                      % dest.path)
        for table, order in COPIED:
            batch = []
            for row in _rows(src, table, order):
                batch.append(dict(zip(table.c.keys(), row, strict=True)))
                if len(batch) >= CHUNK:
                    out.execute(table.insert(), batch)
                    batch.clear()
            if batch:
                out.execute(table.insert(), batch)
        if out.dialect.name == "postgresql":   # the audit log's next entry follows the copied ones
            out.execute(sa.text("SELECT setval(pg_get_serial_sequence('audit_log', 'entry'), "
                                "COALESCE((SELECT MAX(entry) FROM audit_log), 0) + 1, false)"))
        before = summary(src)
    with dest._read() as out:
        after = summary(out)
    return before, after



