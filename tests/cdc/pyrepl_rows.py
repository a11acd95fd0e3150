#!/usr/bin/env python3
"""Reads row events with python-mysql-replication and prints one JSON line per row:
where it is (file, position), the table, the kind of change and the values. Both the
stream and the control connection go to the server given, as a CDC consumer that
never touches the primary would have them.

Used by binlogd's integration tests, which run it against the primary and against
binlogd and compare the lines.
"""
import argparse
import json
import sys

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--server-id", type=int, required=True)
    ap.add_argument("--log-file")
    ap.add_argument("--log-pos", type=int)
    ap.add_argument("--gtid", help="auto_position: a MySQL GTID set or a MariaDB GTID position")
    ap.add_argument("--mariadb", action="store_true")
    ap.add_argument("--blocking", action="store_true")
    ap.add_argument("--rows", type=int, default=0, help="stop after this many rows (0: at the end)")
    a = ap.parse_args()
    conn = {"host": "127.0.0.1", "port": a.port, "user": "repl", "passwd": "replpass"}
    stream = BinLogStreamReader(
        connection_settings=conn,
        ctl_connection_settings=dict(conn),
        server_id=a.server_id,
        log_file=a.log_file,
        log_pos=a.log_pos,
        resume_stream=a.log_file is not None,
        auto_position=a.gtid,
        is_mariadb=a.mariadb,
        blocking=a.blocking,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent],
        enable_logging=False,
    )
    n = 0
    try:
        for ev in stream:
            for row in ev.rows:
                line = {
                    "file": stream.log_file,
                    "pos": stream.log_pos,
                    "table": f"{ev.schema}.{ev.table}",
                    "kind": type(ev).__name__,
                    "row": row,
                }
                print(json.dumps(line, sort_keys=True, default=lambda v: v.hex() if isinstance(v, bytes) else str(v)))
                n += 1
                if a.rows and n >= a.rows:
                    return 0
    finally:
        stream.close()
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
