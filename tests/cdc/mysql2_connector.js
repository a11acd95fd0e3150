// Runs statements with mysql2 (npm), as text queries with its client-side escaping and
// as prepared statements (`execute`: COM_STMT_PREPARE and EXECUTE, numbers bound as
// doubles), and prints each answer's rows and its columns' definitions as it reads
// them, one line each, or the error.
//
// Used by binlogd's integration tests, which run it against the primary and against
// binlogd and compare the lines.
'use strict';
const mysql = require('mysql2/promise');
const [port] = process.argv.slice(2);
const rows = (r) => JSON.stringify(r, (k, v) => (typeof v === 'bigint' ? v.toString() : v));
const shown = (f) => JSON.stringify((f || []).map((x) => [x.name, x.columnType, x.columnLength, x.decimals, x.flags, x.characterSet]));
(async () => {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: +port, user: 'repl', password: 'replpass', supportBigNumbers: true });
  const run = async (how, sql, args) => {
    try {
      const [r, f] = how === 'query' ? await c.query(sql, args) : await c.execute(sql, args);
      console.log(how, sql, rows(r), shown(f));
    } catch (e) {
      console.log(how, sql, 'ERROR', e.errno, e.sqlMessage);
    }
  };
  await run('query', "SELECT 1 AS a, @@sql_mode, 'x', NULL, 1.5");
  await run('query', 'SELECT ?, ?, ?', [5, "it's", 'a\nb\\c']);
  await run('execute', 'SELECT ?, ?, ?', [5, 'a', null]);
  await run('execute', 'SELECT ?', [1.5]);
  await run('execute', 'SELECT 1 AS a, @@version_compile_os, NULL, 1.5');
  await run('execute', 'SHOW BINARY LOGS');
  await run('execute', 'SET @x = ?', [7]);
  await run('execute', 'SELECT @x');
  await run('execute', 'SELECT @@nosuch');
  await run('execute', 'SHOW GLOBAL VARIABLES LIKE ?', ['version']);
  await c.end();
})().catch((e) => {
  console.log('ERROR', e.errno, e.message);
  process.exit(0);
});
