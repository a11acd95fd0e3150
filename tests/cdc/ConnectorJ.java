// Runs the statements a JDBC change-data-capture tool sends (Debezium's JDBC side, as
// ../shared/clients.md lists them) through MariaDB Connector/J (Debian's
// libmariadb-java), as plain statements and as server-side prepared statements, and
// prints each answer as the driver reads it: the columns' labels, JDBC types and
// precision, and the rows' values, one line each, or the error.
//
// Used by binlogd's integration tests, which run it against the primary and against
// binlogd (`java -cp mariadb-java-client.jar ConnectorJ.java PORT`) and compare the
// lines.

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;

public class ConnectorJ {
    static String show(ResultSet r) throws SQLException {
        ResultSetMetaData m = r.getMetaData();
        StringBuilder b = new StringBuilder("[");
        for (int i = 1; i <= m.getColumnCount(); i++) {
            b.append(m.getColumnLabel(i)).append(':').append(m.getColumnTypeName(i)).append('/')
                .append(m.getColumnType(i)).append('/').append(m.getPrecision(i)).append(' ');
        }
        b.append(']');
        while (r.next()) {
            b.append(" (");
            for (int i = 1; i <= m.getColumnCount(); i++) {
                b.append(r.getString(i)).append(i < m.getColumnCount() ? "|" : "");
            }
            b.append(')');
        }
        return b.toString();
    }

    static void plain(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            if (s.execute(sql)) {
                System.out.println("query " + sql + " " + show(s.getResultSet()));
            } else {
                System.out.println("query " + sql + " OK " + s.getUpdateCount());
            }
        } catch (SQLException e) {
            System.out.println("query " + sql + " ERROR " + e.getErrorCode() + " " + e.getMessage());
        }
    }

    static void prepared(Connection c, String sql, Object... args) {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                p.setObject(i + 1, args[i]);
            }
            if (p.execute()) {
                System.out.println("prepared " + sql + " " + show(p.getResultSet()));
            } else {
                System.out.println("prepared " + sql + " OK " + p.getUpdateCount());
            }
        } catch (SQLException e) {
            System.out.println("prepared " + sql + " ERROR " + e.getErrorCode() + " " + e.getMessage());
        }
    }

    public static void main(String[] a) throws Exception {
        String url = "jdbc:mariadb://127.0.0.1:" + a[0] + "/?user=repl&password=replpass&useServerPrepStmts=true";
        try (Connection c = DriverManager.getConnection(url)) {
            System.out.println("product " + c.getMetaData().getDatabaseProductName() + " "
                + c.getMetaData().getDatabaseProductVersion() + " autocommit " + c.getAutoCommit()
                + " isolation " + c.getTransactionIsolation() + " readonly " + c.isReadOnly());
            for (String q : new String[] {
                "SELECT version()",
                "SHOW MASTER STATUS",
                "SHOW BINARY LOG STATUS",
                "SHOW BINLOG STATUS",
                "SHOW GLOBAL VARIABLES LIKE 'GTID_MODE'",
                "SELECT @@global.gtid_purged",
                "SHOW GLOBAL VARIABLES LIKE 'GTID_BINLOG_POS'",
                "SHOW BINARY LOGS",
                "SHOW GLOBAL VARIABLES LIKE 'binlog_format'",
                "SHOW GLOBAL VARIABLES LIKE 'binlog_row_image'",
                "SHOW VARIABLES WHERE Variable_name IN ('character_set_server','collation_server')",
                "SHOW VARIABLES WHERE Variable_name = 'sql_mode'",
                "SHOW SESSION STATUS LIKE 'Ssl_version'",
                "SHOW COLLATION WHERE Charset = 'utf8mb4' AND `Default` = 'Yes'",
                "SELECT @@server_id, @@lower_case_table_names, @@nosuch",
            }) {
                plain(c, q);
            }
            prepared(c, "SELECT ?, ?, ?", 5, "a", null);
            prepared(c, "SHOW GLOBAL VARIABLES LIKE ?", "binlog_checksum");
            prepared(c, "SELECT @@lower_case_table_names, @@version_compile_os");
        }
    }
}
