import CSQLite

/// A failed SQLite call, with SQLite's own message.
struct SQLiteError: Error, CustomStringConvertible {
    /// The extended result code.
    let code: Int32
    let message: String

    var description: String { "SQLite error \(self.code): \(self.message)" }

    /// The primary result code (SQLITE_FULL, SQLITE_READONLY, ...), without the extended bits.
    var primary: Int32 { self.code & 0xFF }
}

/// One SQLite connection. Not thread-safe by design: whoever owns it uses it from one thread.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    /// Every statement prepared here, so `close` can finalize them first: SQLite
    /// only really closes (and, in WAL mode, checkpoints and removes the WAL file)
    /// once no statement is left.
    private var statements: [SQLiteStatement] = []

    /// How a connection opens its file.
    enum Mode {
        /// Read and write, creating the file if needed.
        case readWrite
        /// Read only, through the WAL like any reader (needs the -shm file to exist or be creatable).
        case readOnly
        /// Read only, for a file no one can change (a read-only volume without a WAL file):
        /// SQLite then takes no locks and needs no -shm file.
        case immutable
    }

    init(path: String, mode: Mode = .readWrite) throws {
        var db: OpaquePointer?
        let rc: Int32
        switch mode {
        case .readWrite:
            rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        case .readOnly, .immutable:
            let uri = Self.fileURI(path) + (mode == .immutable ? "?immutable=1" : "?mode=ro")
            rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nil)
        }
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: message)
        }
        self.handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    /// A `file:` URI for a path: only `%`, `?` and `#` need escaping there.
    static func fileURI(_ path: String) -> String {
        var uri = "file:"
        for character in path {
            switch character {
            case "%": uri += "%25"
            case "?": uri += "%3f"
            case "#": uri += "%23"
            default: uri.append(character)
            }
        }
        return uri
    }

    /// True when SQLite could open the file for reading only (e.g. its permissions).
    var isReadOnly: Bool { sqlite3_db_readonly(self.handle, "main") == 1 }

    /// The first column of every row of a query without parameters.
    func strings(_ sql: String) throws -> [String] {
        let statement = try self.prepare(sql)
        defer { self.discard(statement) }
        var values: [String] = []
        while try statement.step() { values.append(statement.text(0)) }
        return values
    }

    func integer(_ sql: String) throws -> Int64 {
        let statement = try self.prepare(sql)
        defer { self.discard(statement) }
        return try statement.step() ? statement.integer(0) : 0
    }

    /// Finalizes a one-off statement now rather than at close.
    private func discard(_ statement: SQLiteStatement) {
        statement.finalize()
        self.statements.removeAll { $0 === statement }
    }

    deinit {
        self.close()
    }

    func close() {
        for statement in self.statements { statement.finalize() }
        self.statements = []
        sqlite3_close_v2(self.handle)
        self.handle = nil
    }

    func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(self.handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(errorMessage)
            throw SQLiteError(code: rc, message: message)
        }
    }

    func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(self.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw self.error(rc) }
        let prepared = SQLiteStatement(statement, connection: self)
        self.statements.append(prepared)
        return prepared
    }

    /// Runs `body` with a raw statement finalized right after, for the few calls
    /// the wrapper does not cover (binding a pointer).
    func withStatement(_ sql: String, _ body: (OpaquePointer) throws -> Void) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(self.handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw self.error(rc) }
        defer { sqlite3_finalize(statement) }
        try body(statement)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes64(self.handle)) }

    fileprivate func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: self.handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed")
    }
}

/// A prepared statement, reused across calls: bind, step, read columns, reset.
final class SQLiteStatement {
    /// Nil once finalized by the connection's `close`.
    private var handle: OpaquePointer?
    private unowned let connection: SQLiteConnection

    // SQLITE_TRANSIENT is a C macro Swift cannot import: SQLite copies the bound bytes.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    fileprivate init(_ handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit {
        self.finalize()
    }

    fileprivate func finalize() {
        sqlite3_finalize(self.handle)
        self.handle = nil
    }

    /// Binds parameters by position (1-based in SQL, in order here).
    func bind(_ values: SQLiteValue...) throws {
        try self.bind(values)
    }

    func bind(_ values: [SQLiteValue]) throws {
        sqlite3_reset(self.handle)
        sqlite3_clear_bindings(self.handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32 =
                switch value {
                case .text(let text): sqlite3_bind_text(self.handle, index, text, -1, Self.transient)
                case .integer(let number): sqlite3_bind_int64(self.handle, index, number)
                case .real(let number): sqlite3_bind_double(self.handle, index, number)
                case .null: sqlite3_bind_null(self.handle, index)
                }
            guard rc == SQLITE_OK else { throw self.connection.error(rc) }
        }
    }

    /// Advances to the next row: true when a row is available, false when done.
    func step() throws -> Bool {
        let rc = sqlite3_step(self.handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(self.handle)
            return false
        default:
            let error = self.connection.error(rc)
            sqlite3_reset(self.handle)
            throw error
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        while try self.step() {}
    }

    func integer(_ column: Int32) -> Int64 {
        sqlite3_column_int64(self.handle, column)
    }

    func double(_ column: Int32) -> Double {
        sqlite3_column_double(self.handle, column)
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(self.handle, column) == SQLITE_NULL
    }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(self.handle, column) else { return "" }
        return String(cString: bytes)
    }

    /// The column's UTF-8 bytes without copying into a String; valid until the next step.
    func withTextBytes<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let pointer = sqlite3_column_text(self.handle, column)
        let count = Int(sqlite3_column_bytes(self.handle, column))
        return try body(UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : count))
    }

    func reset() {
        sqlite3_reset(self.handle)
    }
}

enum SQLiteValue {
    case text(String)
    case integer(Int64)
    case real(Double)
    case null
}
