import DelineateTesting
import Dispatch
import Synchronization
import Testing

@testable import Store

@Suite struct DatabasePoolTests {
    @Test func writesARowAndReadsItBack() async throws {
        let database = try await TestDatabase.create()
        let users = UserRepository(pool: database.pool)
        let created = try await users.create(
            username: "r.smith", displayName: "Dr R Smith", role: .reviewer, passwordHash: "$2b$hash")
        let found = try #require(try await users.find(username: "r.smith"))
        #expect(found.user == created)
        #expect(found.passwordHash == "$2b$hash")
        #expect(try await users.find(username: "nobody") == nil)
        await #expect(throws: StoreError.self) {
            try await users.create(username: "r.smith", displayName: "", role: .admin, passwordHash: "x")
        }
        try await database.drop()
    }

    @Test func parametersAreBoundNotSpliced() async throws {
        let database = try await TestDatabase.create()
        let hostile = "x'); DROP TABLE users; --"
        let echoed = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT $1::text AS value", [hostile]).records[0]["value"]
        }
        #expect(echoed == hostile)
        try await database.drop()
    }

    @Test func parameterisedStatementsArePreparedOncePerConnection() async throws {
        let database = try await TestDatabase.create()
        let pool = DatabasePool(url: database.url, size: 1)
        let prepared = try await pool.withConnection { connection throws(StoreError) in
            for value in 0..<3 { try connection.execute("SELECT $1::int + 1 AS next", [value]) }
            return try connection.execute(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1", ["%$1::int + 1%"]
            ).records[0].int("n")
        }
        #expect(prepared == 1)
        try await database.drop()
    }

    @Test func recoversAfterItsConnectionIsKilled() async throws {
        let database = try await TestDatabase.create()
        let pool = DatabasePool(url: database.url, size: 1)
        let pid = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT pg_backend_pid() AS pid").records[0].int("pid")
        }
        let admin = DatabasePool(url: DevServices.adminDatabaseURL, size: 1)
        try await admin.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT pg_terminate_backend($1)", [pid ?? 0])
        }
        // The caller whose connection died gets a clear connection error, not a hang...
        await #expect {
            try await pool.withConnection { connection throws(StoreError) in try connection.execute("SELECT 1") }
        } throws: { ($0 as? StoreError)?.code == .connection }
        // ...and the pool reconnects for the next caller.
        let value = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT 41 + 1 AS answer").records[0].int("answer")
        }
        #expect(value == 42)
        try await database.drop()
    }

    @Test func aTransactionIsAllOrNothing() async throws {
        let database = try await TestDatabase.create()
        await #expect(throws: StoreError.self) {
            try await database.pool.transaction { connection throws(StoreError) in
                try connection.execute(
                    "INSERT INTO users (username, role, password_hash) VALUES ('a', 'admin', 'h')")
                try connection.execute("INSERT INTO users (username, role, password_hash) VALUES ('b', 'wizard', 'h')")
            }
        }
        let count = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT count(*) AS n FROM users").records[0].int("n")
        }
        #expect(count == 0)
        try await database.drop()
    }

    @Test func waitersTimeOutWhenThePoolIsExhausted() async throws {
        let database = try await TestDatabase.create()
        let pool = DatabasePool(url: database.url, size: 1, acquireTimeout: .milliseconds(300))
        let holding = Mutex(false)
        let release = DispatchSemaphore(value: 0)
        // The holder keeps the only connection until the waiter has timed out, however slow the machine is.
        async let holder: Void = pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT 1")
            holding.withLock { $0 = true }
            _ = release.wait(timeout: .now() + 30)
        }
        while !holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        await #expect {
            try await pool.withConnection { connection throws(StoreError) in try connection.execute("SELECT 1") }
        } throws: { ($0 as? StoreError)?.code == .poolTimeout }
        release.signal()
        try await holder
        try await database.drop()
    }
}

/// Values the database refuses are the caller's errors, with the server's reason.
@Suite struct StoreErrorClassificationTests {
    @Test func dataExceptionsAndCheckViolationsAreInvalidValues() async throws {
        let database = try await TestDatabase.create()
        let outOfRange = await #expect(throws: StoreError.self) {
            try await database.pool.withConnection { connection throws(StoreError) in
                try connection.execute("SELECT $1::integer", ["99999999999"])
            }
        }
        #expect(outOfRange?.code == .invalidValue && outOfRange?.sqlState == "22003")
        let syntax = await #expect(throws: StoreError.self) {
            try await database.pool.withConnection { connection throws(StoreError) in
                try connection.execute("SELEC 1")
            }
        }
        #expect(syntax?.code == .query && syntax?.sqlState == "42601")
        let badName = await #expect(throws: StoreError.self) {
            try await UserRepository(pool: database.pool).create(
                username: "no spaces allowed", displayName: "", role: .annotator, passwordHash: "x")
        }
        #expect(badName?.code == .invalidValue)
        try await database.drop()
    }
}
