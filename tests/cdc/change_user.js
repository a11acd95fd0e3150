// Logs in as repl with the `mysql` npm package, sets a user variable and the
// character set, then sends COM_CHANGE_USER (changeUser) as the user and password
// (and database, if one is given), and prints what the session holds after it as one
// JSON line, or the error.
//
// Used by binlogd's integration tests, which run it against the primary and against
// binlogd and compare the lines.
'use strict';
const mysql = require('mysql');
const [port, user, password, database] = process.argv.slice(2);
const c = mysql.createConnection({ host: '127.0.0.1', port: +port, user: 'repl', password: 'replpass' });
const q = (sql) => new Promise((ok, no) => c.query(sql, (e, r) => (e ? no(e) : ok(r))));
(async () => {
  await q("SET @x = 'before', NAMES latin1");
  await new Promise((ok, no) => c.changeUser({ user, password, database }, (e) => (e ? no(e) : ok())));
  const r = await q('SELECT USER() AS u, CURRENT_USER() AS cu, @x AS x, @@character_set_client AS cs, DATABASE() AS d');
  console.log(JSON.stringify(r[0]));
  c.end();
})().catch((e) => {
  console.log('ERROR', e.errno, e.code);
  c.destroy();
});
