// Runs statements with the MariaDB Connector/Node.js (`mariadb` npm package), as text
// queries and as prepared statements (`execute`: COM_STMT_PREPARE and EXECUTE, with
// MariaDB's extended metadata and metadata cache), and prints each answer's rows and
// its columns' definitions as the connector reads them, one JSON line each, or the
// error.
//
// Used by binlogd's integration tests, which run it against the primary and against
// binlogd and compare the lines.
'use strict';
const mariadb = require('mariadb');
const [port] = process.argv.slice(2);
const shown = (meta) =>
  (meta || []).map((m) => [m.name(), m.type, m.columnType, m.columnLength, m.scale, m.flags, m.collation.name]);
const rows = (r) => JSON.stringify(r, (k, v) => (typeof v === 'bigint' ? v.toString() : v));
(async () => {
  const c = await mariadb.createConnection({ host: '127.0.0.1', port: +port, user: 'repl', password: 'replpass' });
  const run = async (how, sql, args) => {
    try {
      const r = how === 'query' ? await c.query(sql, args) : await c.execute(sql, args);
      const meta = Array.isArray(r) ? r.meta : undefined;
      console.log(how, sql, rows(Array.isArray(r) ? [...r] : r), JSON.stringify(shown(meta)));
    } catch (e) {
      console.log(how, sql, 'ERROR', e.errno, e.sqlMessage);
    }
  };
  await run('query', "SELECT 1 AS a, @@sql_mode, 'x', NULL, 1.5");
  await run('query', 'SHOW BINARY LOGS');
  await run('query', 'SELECT @@nosuch');
  for (const args of [[5, 'a'], [6, 'b'], ['c', null]]) {
    await run('execute', 'SELECT ?, ?', args);
  }
  await run('execute', 'SELECT 1 AS a, @@version_compile_os, NULL, 1.5');
  await run('execute', 'SELECT 1 AS a, @@version_compile_os, NULL, 1.5');
  await run('execute', 'SHOW BINARY LOGS');
  await run('execute', 'SHOW BINLOG EVENTS LIMIT 2');
  await run('execute', 'SELECT @@nosuch');
  await run('execute', 'SET @x = ?', [7]);
  await run('execute', 'SELECT @x');
  await run('execute', 'SHOW GLOBAL VARIABLES LIKE ?', ['version']);
  // A batch: MariaDB's bulk execute (COM_STMT_BULK_EXECUTE), for no statement binlogd answers.
  try {
    await c.batch('SELECT ?', [[1], [2]]);
  } catch (e) {
    console.log('batch', 'ERROR', e.errno, e.sqlMessage);
  }
  await c.end();
})().catch((e) => {
  console.log('ERROR', e.errno, e.code, e.message);
  process.exit(0);
});
