//! The columns of the SHOW statements binlogd answers, as MariaDB and MySQL declare
//! them: each one's type, width and flags, which clients read as metadata (the `mysql`
//! client's `--quick` tables are as wide as a column's length; connectors report
//! nullability, signedness and display sizes from them).
//!
//! Read off MariaDB 10.11 and MySQL 9.7 (their `Item_empty_string` and
//! `Item_return_int` lists in sql_repl.cc, slave.cc, rpl_replica.cc, sql_show.cc),
//! in a utf8mb4 session: a text column's width is its characters.

use crate::proto::resultset::{flags, Column, ColumnType, Origin, NOT_FIXED};

/// A column's definition on one server kind.
#[derive(Debug, Clone, Copy)]
pub struct Def {
    ty: ColumnType,
    width: u32,
    flags: u16,
    decimals: u8,
}

/// A column: its name, MariaDB's definition, MySQL's.
pub type Spec = (&'static str, Def, Def);

/// The width of a column whose values set it: the longest value's characters (MySQL's
/// GTID sets, MariaDB's Gtid_Slave_Pos).
pub const FIT: Def = t(FIT_WIDTH);
pub const FIT_WIDTH: u32 = u32::MAX;

/// Text of `width` characters, never NULL.
const fn t(width: u32) -> Def {
    Def { ty: ColumnType::VAR_STRING, width, flags: flags::NOT_NULL, decimals: NOT_FIXED }
}
/// Text of `width` characters, or NULL.
const fn tn(width: u32) -> Def {
    Def { ty: ColumnType::VAR_STRING, width, flags: 0, decimals: NOT_FIXED }
}
/// A whole text of `width` bytes, or NULL.
const fn blob(width: u32) -> Def {
    Def { ty: ColumnType::LONG_BLOB, width, flags: 0, decimals: NOT_FIXED }
}
const UNSIGNED: u16 = flags::NOT_NULL | flags::UNSIGNED | flags::BINARY;
const SIGNED: u16 = flags::NOT_NULL | flags::BINARY;
/// Unsigned BIGINT and INT, never NULL: positions, sizes, ids, counters.
const fn big(width: u32) -> Def {
    Def { ty: ColumnType::LONGLONG, width, flags: UNSIGNED, decimals: 0 }
}
const fn int(width: u32) -> Def {
    Def { ty: ColumnType::LONG, width, flags: UNSIGNED, decimals: 0 }
}
/// Signed BIGINT and INT, never NULL.
const fn sbig(width: u32) -> Def {
    Def { ty: ColumnType::LONGLONG, width, flags: SIGNED, decimals: 0 }
}
const fn sint(width: u32) -> Def {
    Def { ty: ColumnType::LONG, width, flags: SIGNED, decimals: 0 }
}
/// DOUBLE with `decimals` digits after the point, never NULL.
const fn dbl(width: u32, decimals: u8) -> Def {
    Def { ty: ColumnType::DOUBLE, width, flags: SIGNED, decimals }
}

/// The column `name` of `table` on the server kind; None for one of binlogd's own.
pub fn column(table: &[Spec], name: &str, maria: bool) -> Option<Column> {
    let d = table.iter().find(|s| s.0 == name).map(|s| if maria { s.1 } else { s.2 })?;
    Some(Column { width: d.width, flags: d.flags, decimals: d.decimals, ..Column::typed(name, d.ty) })
}

/// SHOW MASTER STATUS, SHOW BINLOG STATUS, SHOW BINARY LOG STATUS (`show_binlog_info`).
pub const MASTER_STATUS: &[Spec] = &[
    ("File", t(512), t(512)),
    ("Position", big(20), big(21)),
    ("Binlog_Do_DB", t(255), t(255)),
    ("Binlog_Ignore_DB", t(255), t(255)),
    ("Executed_Gtid_Set", FIT, FIT),
];

/// SHOW BINARY LOGS (`show_binlogs`).
pub const BINARY_LOGS: &[Spec] =
    &[("Log_name", t(255), t(255)), ("File_size", big(20), big(21)), ("Encrypted", t(3), t(3))];

/// SHOW BINLOG EVENTS (`Log_event::init_show_field_list`).
pub const BINLOG_EVENTS: &[Spec] = &[
    ("Log_name", t(20), t(20)),
    ("Pos", big(21), big(12)),
    ("Event_type", t(20), t(20)),
    ("Server_id", int(10), int(11)),
    ("End_log_pos", big(21), big(12)),
    ("Info", t(20), t(20)),
];

/// SHOW SLAVE HOSTS, SHOW REPLICAS (`show_slave_hosts`, `show_replicas`).
pub const REPLICAS: &[Spec] = &[
    ("Server_id", int(10), int(10)),
    ("Host", t(20), t(255)),
    ("Port", int(7), int(8)),
    ("Master_id", int(10), int(10)),
    ("Server_Id", int(11), int(11)),
    ("Source_Id", int(11), int(11)),
    ("Replica_UUID", t(36), t(36)),
];

/// SHOW PROCESSLIST (`mysqld_list_processes`); Info is the statement's first 100 characters.
pub const PROCESSLIST: &[Spec] = &[
    ("Id", sbig(11), sbig(22)),
    ("User", t(128), t(32)),
    ("Host", t(64), t(255)),
    ("db", tn(64), tn(64)),
    ("Command", t(16), t(16)),
    ("Time", sint(7), sint(8)),
    ("State", tn(30), tn(30)),
    ("Info", tn(100), tn(100)),
    ("Progress", dbl(7, 3), dbl(7, 3)),
];

/// SHOW FULL PROCESSLIST's Info: the whole statement, a LONGTEXT.
pub const FULL_INFO: Spec = ("Info", blob(805_306_368), blob(805_306_368));

/// SHOW WARNINGS, SHOW ERRORS (`mysqld_show_warnings`).
pub const WARNINGS: &[Spec] = &[("Level", t(7), t(7)), ("Code", int(4), int(5)), ("Message", t(512), t(512))];

/// SHOW SLAVE STATUS, SHOW ALL SLAVES STATUS (MariaDB), SHOW REPLICA STATUS (MySQL)
/// (`show_slave_status_init_header`, `show_replica_status_metadata`). The widths of the GTID
/// sets fit their values.
pub const REPLICA_STATUS: &[Spec] = &[
    ("Connection_name", t(192), t(192)),
    ("Slave_SQL_State", t(30), t(30)),
    ("Slave_IO_State", t(30), t(30)),
    ("Master_Host", t(766), t(766)),
    ("Master_User", t(385), t(385)),
    ("Master_Port", int(7), int(7)),
    ("Connect_Retry", int(10), int(11)),
    ("Master_Log_File", t(512), t(512)),
    ("Read_Master_Log_Pos", big(10), big(10)),
    ("Relay_Log_File", t(512), t(512)),
    ("Relay_Log_Pos", big(10), big(11)),
    ("Relay_Master_Log_File", t(512), t(512)),
    ("Slave_IO_Running", t(3), t(3)),
    ("Slave_SQL_Running", t(3), t(3)),
    ("Replicate_Do_DB", t(20), t(20)),
    ("Replicate_Ignore_DB", t(20), t(20)),
    ("Replicate_Do_Table", t(20), t(20)),
    ("Replicate_Ignore_Table", t(23), t(23)),
    ("Replicate_Wild_Do_Table", t(24), t(24)),
    ("Replicate_Wild_Ignore_Table", t(28), t(28)),
    ("Last_Errno", int(4), int(5)),
    ("Last_Error", t(20), t(20)),
    ("Skip_Counter", int(10), int(11)),
    ("Exec_Master_Log_Pos", big(10), big(10)),
    ("Relay_Log_Space", big(10), big(11)),
    ("Until_Condition", t(6), t(6)),
    ("Until_Log_File", t(512), t(512)),
    ("Until_Log_Pos", big(10), big(11)),
    ("Master_SSL_Allowed", t(7), t(7)),
    ("Master_SSL_CA_File", t(512), t(512)),
    ("Master_SSL_CA_Path", t(512), t(512)),
    ("Master_SSL_Cert", t(512), t(512)),
    ("Master_SSL_Cipher", t(512), t(512)),
    ("Master_SSL_Key", t(512), t(512)),
    ("Seconds_Behind_Master", big(10), big(10)),
    ("Master_SSL_Verify_Server_Cert", t(3), t(3)),
    ("Last_IO_Errno", int(4), int(5)),
    ("Last_IO_Error", t(20), t(20)),
    ("Last_SQL_Errno", int(4), int(5)),
    ("Last_SQL_Error", t(20), t(20)),
    ("Replicate_Ignore_Server_Ids", t(512), t(512)),
    ("Master_Server_Id", int(8), int(8)),
    ("Master_SSL_Crl", t(512), t(512)),
    ("Master_SSL_Crlpath", t(512), t(512)),
    ("Using_Gtid", t(11), t(11)),
    ("Gtid_IO_Pos", t(30), t(30)),
    ("Replicate_Do_Domain_Ids", t(512), t(512)),
    ("Replicate_Ignore_Domain_Ids", t(512), t(512)),
    ("Parallel_Mode", t(12), t(12)),
    ("SQL_Delay", int(10), int(11)),
    ("SQL_Remaining_Delay", int(8), int(9)),
    ("Slave_SQL_Running_State", t(20), t(20)),
    ("Slave_DDL_Groups", big(20), big(20)),
    ("Slave_Non_Transactional_Groups", big(20), big(20)),
    ("Slave_Transactional_Groups", big(20), big(20)),
    ("Replicate_Rewrite_DB", t(23), t(24)),
    ("Retried_transactions", int(10), int(10)),
    ("Max_relay_log_size", big(10), big(10)),
    ("Executed_log_entries", int(10), int(10)),
    ("Slave_received_heartbeats", int(10), int(10)),
    ("Slave_heartbeat_period", dbl(10, 3), dbl(10, 3)),
    ("Gtid_Slave_Pos", FIT, FIT),
    ("Replica_IO_State", t(14), t(14)),
    ("Source_Host", t(256), t(256)),
    ("Source_User", t(97), t(97)),
    ("Source_Port", int(8), int(8)),
    ("Source_Log_File", t(512), t(512)),
    ("Read_Source_Log_Pos", big(11), big(11)),
    ("Relay_Source_Log_File", t(512), t(512)),
    ("Replica_IO_Running", t(3), t(3)),
    ("Replica_SQL_Running", t(3), t(3)),
    ("Exec_Source_Log_Pos", big(11), big(11)),
    ("Source_SSL_Allowed", t(7), t(7)),
    ("Source_SSL_CA_File", t(512), t(512)),
    ("Source_SSL_CA_Path", t(512), t(512)),
    ("Source_SSL_Cert", t(512), t(512)),
    ("Source_SSL_Cipher", t(512), t(512)),
    ("Source_SSL_Key", t(512), t(512)),
    ("Seconds_Behind_Source", big(11), big(11)),
    ("Source_SSL_Verify_Server_Cert", t(3), t(3)),
    ("Source_Server_Id", int(9), int(9)),
    ("Source_UUID", t(36), t(36)),
    ("Source_Info_File", t(1024), t(1024)),
    ("Replica_SQL_Running_State", t(20), t(20)),
    ("Source_Retry_Count", big(11), big(11)),
    ("Source_Bind", t(256), t(256)),
    ("Last_IO_Error_Timestamp", t(20), t(20)),
    ("Last_SQL_Error_Timestamp", t(20), t(20)),
    ("Source_SSL_Crl", t(512), t(512)),
    ("Source_SSL_Crlpath", t(512), t(512)),
    ("Retrieved_Gtid_Set", FIT, FIT),
    ("Executed_Gtid_Set", FIT, FIT),
    ("Auto_Position", int(9), int(9)),
    ("Channel_Name", t(192), t(192)),
    ("Source_TLS_Version", t(512), t(512)),
    ("Source_public_key_path", t(512), t(512)),
    ("Get_Source_public_key", int(9), int(9)),
    ("Network_Namespace", t(193), t(193)),
];

/// SHOW [GLOBAL | SESSION] VARIABLES and STATUS: MariaDB reads them from
/// information_schema's SESSION_VARIABLES and SESSION_STATUS whichever the scope,
/// MySQL from performance_schema's tables of the scope.
pub fn variables(status: bool, global: bool, maria: bool) -> [Column; 2] {
    let def = |name: &str, width: u32, flags: u16| Column { flags, ..Column::text(name, width) };
    let (value_width, value_flags) = if maria { (4096, NOT_NULL_NO_DEFAULT) } else { (1024, 0) };
    let (schema, table, names) = match (maria, status, global) {
        (true, false, _) => ("information_schema", "SESSION_VARIABLES", ["VARIABLE_NAME", "VARIABLE_VALUE"]),
        (true, true, _) => ("information_schema", "SESSION_STATUS", ["VARIABLE_NAME", "VARIABLE_VALUE"]),
        (false, false, false) => ("performance_schema", "session_variables", ["Variable_name", "Value"]),
        (false, false, true) => ("performance_schema", "global_variables", ["Variable_name", "Value"]),
        (false, true, false) => ("performance_schema", "session_status", ["Variable_name", "Value"]),
        (false, true, true) => ("performance_schema", "global_status", ["Variable_name", "Value"]),
    };
    let at = |org_name| Origin { schema, table: table.into(), org_table: table, org_name };
    [
        def("Variable_name", 64, NOT_NULL_NO_DEFAULT).from_table(at(names[0])),
        def("Value", value_width, value_flags).from_table(at(names[1])),
    ]
}

/// SHOW DATABASES: MariaDB's information_schema.SCHEMATA, and MySQL's data
/// dictionary table under that name (binary-collated, and named without a schema).
pub fn databases(maria: bool) -> Column {
    let c = Column::text("Database", 64);
    if maria {
        let at = Origin {
            schema: "information_schema",
            table: "SCHEMATA".into(),
            org_table: "SCHEMATA",
            org_name: "SCHEMA_NAME",
        };
        Column { flags: NOT_NULL_NO_DEFAULT, ..c }.from_table(at)
    } else {
        let at = Origin { schema: "", table: "SCHEMATA".into(), org_table: "schemata", org_name: "Database" };
        Column { flags: NOT_NULL_NO_DEFAULT | flags::BINARY, ..c }.from_table(at)
    }
}

/// A table's column declared NOT NULL without a default, as information_schema's are.
const NOT_NULL_NO_DEFAULT: u16 = flags::NOT_NULL | flags::NO_DEFAULT_VALUE;

/// MariaDB 11.6+: SHOW [ALL] SLAVE[S] STATUS reads information_schema.SLAVE_STATUS, whose
/// columns are a table's (NOT NULL ones without a default, SMALLINT ports and error
/// numbers, a FLOAT heartbeat period) and, with ALL, end with the times of the last
/// events. A text column's width is its characters.
pub const SLAVE_STATUS_TABLE: &[(&str, Def)] = &[
    ("Connection_name", col(ColumnType::VAR_STRING, 64, ND_NN)),
    ("Slave_SQL_State", col(ColumnType::VAR_STRING, 64, ND)),
    ("Slave_IO_State", col(ColumnType::VAR_STRING, 64, ND)),
    ("Master_Host", col(ColumnType::VAR_STRING, 255, ND)),
    ("Master_User", col(ColumnType::VAR_STRING, 384, ND)),
    ("Master_Port", col(ColumnType::SHORT, 5, ND_NN_U)),
    ("Connect_Retry", col(ColumnType::LONG, 10, ND_NN_U)),
    ("Master_Log_File", col(ColumnType::VAR_STRING, 512, ND_NN)),
    ("Read_Master_Log_Pos", col(ColumnType::LONGLONG, 20, ND_NN_U)),
    ("Relay_Log_File", col(ColumnType::VAR_STRING, 512, ND_NN)),
    ("Relay_Log_Pos", col(ColumnType::LONGLONG, 20, ND_NN_U)),
    ("Relay_Master_Log_File", col(ColumnType::VAR_STRING, 512, ND_NN)),
    ("Slave_IO_Running", col(ColumnType::VAR_STRING, 10, ND_NN)),
    ("Slave_SQL_Running", col(ColumnType::VAR_STRING, 3, ND_NN)),
    ("Replicate_Do_DB", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Replicate_Ignore_DB", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Replicate_Do_Table", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Replicate_Ignore_Table", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Replicate_Wild_Do_Table", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Replicate_Wild_Ignore_Table", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Last_Errno", col(ColumnType::SHORT, 4, ND_NN_U)),
    ("Last_Error", col(ColumnType::VAR_STRING, 1024, ND)),
    ("Skip_Counter", col(ColumnType::LONG, 10, ND_NN_U)),
    ("Exec_Master_Log_Pos", col(ColumnType::LONGLONG, 20, ND_NN_U)),
    ("Relay_Log_Space", col(ColumnType::LONGLONG, 20, ND_NN_U)),
    ("Until_Condition", col(ColumnType::VAR_STRING, 6, ND_NN)),
    ("Until_Log_File", col(ColumnType::VAR_STRING, 512, ND)),
    ("Until_Log_Pos", col(ColumnType::LONGLONG, 20, ND_NN_U)),
    ("Master_SSL_Allowed", col(ColumnType::VAR_STRING, 7, ND)),
    ("Master_SSL_CA_File", col(ColumnType::VAR_STRING, 512, ND)),
    ("Master_SSL_CA_Path", col(ColumnType::VAR_STRING, 512, ND)),
    ("Master_SSL_Cert", col(ColumnType::VAR_STRING, 512, ND)),
    ("Master_SSL_Cipher", col(ColumnType::VAR_STRING, 512, ND)),
    ("Master_SSL_Key", col(ColumnType::VAR_STRING, 512, ND)),
    ("Seconds_Behind_Master", col(ColumnType::LONGLONG, 20, ND_U)),
    ("Master_SSL_Verify_Server_Cert", col(ColumnType::VAR_STRING, 3, ND_NN)),
    ("Last_IO_Errno", col(ColumnType::SHORT, 4, ND_NN_U)),
    ("Last_IO_Error", col(ColumnType::VAR_STRING, 1024, ND)),
    ("Last_SQL_Errno", col(ColumnType::SHORT, 4, ND_NN_U)),
    ("Last_SQL_Error", col(ColumnType::VAR_STRING, 1024, ND)),
    ("Replicate_Ignore_Server_Ids", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Master_Server_Id", col(ColumnType::LONG, 10, ND_NN_U)),
    ("Master_SSL_Crl", col(ColumnType::VAR_STRING, 512, ND)),
    ("Master_SSL_Crlpath", col(ColumnType::VAR_STRING, 512, ND)),
    ("Using_Gtid", col(ColumnType::VAR_STRING, 11, ND)),
    ("Gtid_IO_Pos", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Replicate_Do_Domain_Ids", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Replicate_Ignore_Domain_Ids", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Parallel_Mode", col(ColumnType::VAR_STRING, 12, ND_NN)),
    ("SQL_Delay", col(ColumnType::LONG, 10, ND_NN_U)),
    ("SQL_Remaining_Delay", col(ColumnType::LONG, 10, ND_U)),
    ("Slave_SQL_Running_State", col(ColumnType::VAR_STRING, 21844, ND)),
    ("Slave_DDL_Groups", col(ColumnType::LONGLONG, 20, ND_NN_U)),
    ("Slave_Non_Transactional_Groups", col(ColumnType::LONGLONG, 20, ND_NN_U)),
    ("Slave_Transactional_Groups", col(ColumnType::LONGLONG, 20, ND_NN_U)),
    ("Replicate_Rewrite_DB", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Retried_transactions", col(ColumnType::LONG, 10, ND_NN_U)),
    ("Max_relay_log_size", col(ColumnType::LONG, 10, ND_NN_U)),
    ("Executed_log_entries", col(ColumnType::LONG, 10, ND_NN_U)),
    ("Slave_received_heartbeats", col(ColumnType::LONG, 10, ND_NN_U)),
    ("Slave_heartbeat_period", Def { decimals: 3, ..col(ColumnType::FLOAT, 9, ND_NN) }),
    ("Gtid_Slave_Pos", col(ColumnType::VAR_STRING, 21844, ND_NN)),
    ("Master_last_event_time", col(ColumnType::DATETIME, 19, ND_B)),
    ("Slave_last_event_time", col(ColumnType::DATETIME, 19, ND_B)),
    ("Master_Slave_time_diff", col(ColumnType::LONG, 10, ND_U)),
];

/// A column of information_schema.SLAVE_STATUS (MariaDB 11.6+), named as SHOW SLAVE STATUS
/// names it; None for one of binlogd's own.
pub fn slave_status_table(name: &str) -> Option<Column> {
    let (org_name, d) = *SLAVE_STATUS_TABLE.iter().find(|s| s.0 == name)?;
    let table = "SLAVE_STATUS";
    let at = Origin { schema: "information_schema", table: table.into(), org_table: table, org_name };
    let c = Column { width: d.width, flags: d.flags, decimals: d.decimals, ..Column::typed(name, d.ty) };
    Some(c.from_table(at))
}

/// A table column's definition: no decimals, its flags as given.
const fn col(ty: ColumnType, width: u32, flags: u16) -> Def {
    Def { ty, width, flags, decimals: 0 }
}
/// information_schema's flags: no default, and NOT NULL, UNSIGNED, BINARY as marked.
const ND: u16 = flags::NO_DEFAULT_VALUE;
const ND_NN: u16 = ND | flags::NOT_NULL;
const ND_U: u16 = ND | flags::UNSIGNED;
const ND_NN_U: u16 = ND_NN | flags::UNSIGNED;
const ND_B: u16 = ND | flags::BINARY;
