// Reads row events with zongji (npm) and prints one JSON line per row: where the next
// event starts, the table, the kind of change and the values. zongji's binlog
// connection goes to --port; its control connection, which asks information_schema
// for column names, goes to --schema-port (the primary or a replica), as a user
// of binlogd sets it up: binlogd keeps binary logs, not tables.
//
// Used by binlogd's integration tests, which run it against the primary and against
// binlogd and compare the lines.
'use strict';
const mysql = require('mysql');
const ZongJi = require('zongji');

const arg = (name, dflt) => {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const conn = (port) => ({ host: '127.0.0.1', port: Number(port), user: 'repl', password: 'replpass' });
const want = Number(arg('rows', '0'));

const zj = new ZongJi(conn(arg('port')));
zj.ctrlConnection.destroy();
zj.ctrlConnection = mysql.createConnection(conn(arg('schema-port')));
zj.ctrlConnection.on('error', (e) => zj.emit('error', e));

let n = 0;
const done = (code) => {
  zj.stop();
  setTimeout(() => process.exit(code), 100);
};
zj.on('binlog', (ev) => {
  const kind = ev.getTypeName();
  if (!['WriteRows', 'UpdateRows', 'DeleteRows'].includes(kind)) return;
  const t = ev.tableMap[ev.tableId];
  for (const row of ev.rows) {
    const values = {};
    const put = (r) => Object.keys(r).sort().map((k) => {
      const v = r[k];
      return [k, Buffer.isBuffer(v) ? v.toString('hex') : v instanceof Date ? v.toISOString() : v];
    });
    const line = {
      next: ev.nextPosition,
      table: `${t.parentSchema}.${t.tableName}`,
      kind,
      row: kind === 'UpdateRows' ? { before: put(row.before), after: put(row.after) } : put(row),
    };
    process.stdout.write(JSON.stringify(line) + '\n');
    n += 1;
    if (want && n >= want) return done(0);
  }
});
zj.on('error', (e) => {
  process.stderr.write(`zongji: ${e}\n`);
  done(1);
});
zj.start({
  serverId: Number(arg('server-id')),
  filename: arg('log-file'),
  position: Number(arg('log-pos', '4')),
  includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
});
setTimeout(() => {
  process.stderr.write(`zongji: ${n} of ${want} rows after 60 s\n`);
  done(1);
}, 60000);
